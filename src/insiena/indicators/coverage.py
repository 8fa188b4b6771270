"""What the indicators table covers, per indicator and territorial level, against the catalogue: the
periods computed, the periods missing with the catalogue's reason (clarifications item 7: listed, never
interpolated or borrowed), and the gaps with what would fill them."""

from __future__ import annotations

import pandas as pd

from insiena.indicators.core import LEVEL_IN_CATALOGUE
from insiena.schemas.registry import LEVELS

COVERAGE_COLUMNS = ["indicator_id", "theme", "territory_level", "status", "periods_expected", "periods_computed",
                    "periods_missing", "missing_reason", "periods_not_in_catalogue", "n_territories", "n_rows",
                    "gap_kind", "would_need", "holder", "note"]


def _is_range(period: str) -> bool:
    return "/" in period


def _computed_periods(expected: list[str], got: list[str]) -> tuple[str, list[str], list[str]]:
    """(printable computed periods, expected-but-absent, present-but-not-expected)."""
    if any(_is_range(p) for p in expected):
        # A dated series (cruscotto): compare its first and last dates with the catalogue's range.
        ranges = [p.split("/") for p in expected if _is_range(p)]
        first, last = (min(got), max(got)) if got else (None, None)
        shown = f"{first}/{last} ({len(got)} date)" if got else ""
        absent = [f"{a}/{b}" for a, b in ranges if not got or first > a or last < b]
        outside = [p for p in got if not any(a <= p <= b for a, b in ranges)]
        return shown, absent, outside
    return ";".join(got), [p for p in expected if p not in got], [p for p in got if p not in expected]


def coverage(table: pd.DataFrame, meta: dict, zone_distretto: dict | None = None) -> pd.DataFrame:
    """One row per catalogue indicator x level (CoverageTable)."""
    level_of = table["territory_level"].copy()
    for (theme, level), cat_level in LEVEL_IN_CATALOGUE.items():
        level_of = level_of.where(~((table["theme"] == theme) & (table["territory_level"] == level)), cat_level)
    grouped = {k: g for k, g in table.assign(_cat=level_of).groupby(["indicator_id", "_cat"], sort=False)}
    zone_provinces = sorted(zone_distretto or {})
    rows = []
    for ind, m in meta.items():
        for level in LEVELS:
            entry = m["levels"].get(level)
            if entry is None:
                continue
            row = {"indicator_id": ind, "theme": m["theme"], "territory_level": level, "status": entry["status"],
                   "note": entry.get("note")}
            if level == "zona_distretto":
                scope = (f"solo le province con una mappatura comuni-zone (config zone_distretto): "
                         f"{', '.join(zone_provinces) or 'nessuna'}; per le altre province il livello non esiste")
                row["note"] = "; ".join(x for x in (row["note"], scope) if x)
            if entry["status"] == "gap":
                row.update(gap_kind=entry["gap_kind"], would_need=entry["would_need"], holder=entry["holder"],
                           n_territories=0, n_rows=0)
                rows.append(row)
                continue
            g = grouped.get((ind, level))
            got = sorted(g["period"].unique()) if g is not None else []
            shown, absent, outside = _computed_periods(entry["periods"], got)
            missing = dict(entry["missing"])
            for p in absent:
                missing.setdefault(p, "atteso dal catalogo ma non calcolato")
            row.update(periods_expected=";".join(entry["periods"]), periods_computed=shown,
                       periods_missing=";".join(missing) or None,
                       missing_reason=" | ".join(f"{k}: {v}" for k, v in missing.items()) or None,
                       periods_not_in_catalogue=";".join(outside) or None,
                       n_territories=0 if g is None else g["territory_code"].nunique(),
                       n_rows=0 if g is None else len(g))
            rows.append(row)
    out = pd.DataFrame(rows).reindex(columns=COVERAGE_COLUMNS)
    for col in COVERAGE_COLUMNS:
        out[col] = out[col].astype("Int64") if col in ("n_territories", "n_rows") else out[col].astype("string")
    return out
