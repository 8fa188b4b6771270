"""Joins with the two benchmark projects.

SIENA2030 published 2019 figures on ageing for "Siena" and projections for 2030. The press does not
say whether "Siena" is the comune or the province: config/benchmarks/siena2030.csv records the
territory as stated and the one the join assumes (the province, 052), and every joined row says so in
`note`. Besides the gap to the baseline, each computed year y gets the gap to the straight path
base + (projection - base) x (y - base year) / (projection year - base year), as separate rows
`<indicator>__siena2030_path`.

SAMEDI published no numbers: its benchmark is its territory (Arezzo + Siena + Grosseto) and its theme.
The listed indicators are shown for the area and each province side by side; province rows carry the
area value as benchmark (and the gap, for rates and shares only: a gap between two counts means
nothing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insiena.indicators.core import KEY, TOTAL, join_notes

PATH_SUFFIX = "__siena2030_path"
TOTALS = {"sex": TOTAL, "citizenship": TOTAL, "age_class": TOTAL, "category": TOTAL}
SIENA2030_COLUMNS = ["benchmark_id", "kind", "indicator_id", "indicator_name", "unit", "territory_as_stated",
                     "territory_code", "territory_name", "territory_level", "assumption", "benchmark_year",
                     "benchmark_value", "period", "value", "gap", "status", "census_break", "published_wording",
                     "source_url", "note"]
KIND_ORDER = {"baseline": 0, "path": 1, "projection": 2, "contesto": 3}


def _totals(table: pd.DataFrame) -> pd.Series:
    ok = pd.Series(True, index=table.index)
    for col, val in TOTALS.items():
        if col == "citizenship":
            continue  # the catalogue fixes the citizenship of each indicator
        ok &= table[col] == val
    return ok


def _assumption_note(b) -> str:
    year = "anno di pubblicazione" if b.reference_year_basis == "publication_year" else "anno dichiarato"
    return (f"SIENA2030 {b.reference_year} ({year}): «{b.territory_as_stated}» assunto come "
            f"{b.territory_level_assumed} {b.territory_code_assumed} (ipotesi in config/benchmarks/siena2030.csv)")


def path_benchmark_id(base_id: str, base_year: int, proj_year: int) -> str:
    stem = base_id[: -len(f"_{base_year}")] if base_id.endswith(f"_{base_year}") else base_id
    return f"{stem}_path_{base_year}_{proj_year}"


def straight_path(base: float, proj: float, base_year: int, proj_year: int, year) -> np.ndarray:
    """Value on the straight line from (base_year, base) to (proj_year, proj) at `year`."""
    year = np.asarray(year, dtype=float)
    return base + (proj - base) * (year - base_year) / (proj_year - base_year)


def join_siena2030(table: pd.DataFrame, bench: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill benchmark columns of the baseline rows; return (table, path rows)."""
    table = table.copy()
    totals = _totals(table)
    paths = []
    for b in bench[bench["kind"] == "baseline"].itertuples(index=False):
        m = ((table["indicator_id"] == b.indicator_id) & (table["territory_code"] == b.territory_code_assumed)
             & (table["territory_level"] == b.territory_level_assumed) & totals)
        if table.loc[m, "benchmark_id"].notna().any():
            raise ValueError(f"benchmark {b.benchmark_id}: rows already joined to another benchmark")
        table.loc[m, "benchmark_id"] = b.benchmark_id
        table.loc[m, "benchmark_value"] = b.value
        table.loc[m, "gap"] = table.loc[m, "value"] - b.value
        table.loc[m, "note"] = join_notes(table.loc[m, "note"], pd.Series(_assumption_note(b), index=table.index[m]))
        proj = bench[(bench["kind"] == "projection") & (bench["indicator_id"] == b.indicator_id)
                     & (bench["territory_code_assumed"] == b.territory_code_assumed)]
        for p in proj.itertuples(index=False):
            rows = table[m].copy()
            year = rows["period"].str[:4].astype(int)
            rows = rows[(year >= b.reference_year) & (year <= p.reference_year)]
            if rows.empty:
                continue
            year = rows["period"].str[:4].astype(int)
            target = straight_path(float(b.value), float(p.value), int(b.reference_year), int(p.reference_year), year)
            rows["indicator_id"] = rows["indicator_id"] + PATH_SUFFIX
            rows["benchmark_id"] = path_benchmark_id(b.benchmark_id, int(b.reference_year), int(p.reference_year))
            rows["benchmark_value"] = target
            rows["gap"] = rows["value"].astype(float) - target
            path_note = (f"retta SIENA2030 da {b.value:g} ({b.reference_year}, {b.benchmark_id}) a {p.value:g} "
                         f"({p.reference_year}, {p.benchmark_id}); anno del dato = anno del 1° gennaio")
            rows["note"] = join_notes(pd.Series(path_note, index=rows.index), rows["note"].astype("string"))
            paths.append(rows)
    path_rows = pd.concat(paths, ignore_index=True) if paths else table.iloc[0:0].copy()
    return table, path_rows


def siena2030_table(table: pd.DataFrame, bench: pd.DataFrame, meta: dict, territories: pd.DataFrame,
                    names: pd.Series) -> pd.DataFrame:
    """The readable comparison: each published figure with the computed values it is compared with,
    the path years, and the region of the assumed province as context (no benchmark)."""
    rows = []
    totals = _totals(table)
    region_of = territories.set_index("territory_code")["region_code"]
    for b in bench.itertuples(index=False):
        common = {"indicator_id": b.indicator_id, "indicator_name": meta[b.indicator_id]["name"],
                  "unit": b.unit, "territory_as_stated": b.territory_as_stated,
                  "territory_code": b.territory_code_assumed, "territory_level": b.territory_level_assumed,
                  "territory_name": names.get(b.territory_code_assumed, b.territory_code_assumed),
                  "assumption": b.assumption, "published_wording": b.published_wording, "source_url": b.source_url}
        if b.kind == "projection":
            rows.append({**common, "benchmark_id": b.benchmark_id, "kind": "projection",
                         "benchmark_year": b.reference_year, "benchmark_value": b.value, "note": b.note})
            continue
        computed = table[(table["indicator_id"] == b.indicator_id) & (table["territory_code"] == b.territory_code_assumed)
                         & totals]
        if computed.empty:
            rows.append({**common, "benchmark_id": b.benchmark_id, "kind": "baseline",
                         "benchmark_year": b.reference_year, "benchmark_value": b.value,
                         "note": "nessun valore calcolato per questo territorio"})
        for r in computed.itertuples(index=False):
            rows.append({**common, "benchmark_id": b.benchmark_id, "kind": "baseline",
                         "benchmark_year": b.reference_year, "benchmark_value": b.value, "period": r.period,
                         "value": r.value, "gap": r.value - b.value, "status": r.status,
                         "census_break": r.census_break, "note": b.note})
        path = table[(table["indicator_id"] == b.indicator_id + PATH_SUFFIX)
                     & (table["territory_code"] == b.territory_code_assumed) & totals]
        for r in path.itertuples(index=False):
            if not str(r.benchmark_id).startswith(b.benchmark_id[: -len(f"_{b.reference_year}")]):
                continue
            rows.append({**common, "benchmark_id": r.benchmark_id, "kind": "path",
                         "benchmark_year": int(r.period[:4]), "benchmark_value": r.benchmark_value,
                         "period": r.period, "value": r.value, "gap": r.gap, "status": r.status,
                         "census_break": r.census_break, "note": r.note})
        region = region_of.get(b.territory_code_assumed) if b.territory_level_assumed == "provincia" else None
        if region is not None and not pd.isna(region):
            ctx = table[(table["indicator_id"] == b.indicator_id) & (table["territory_code"] == region) & totals]
            for r in ctx.itertuples(index=False):
                rows.append({"benchmark_id": pd.NA, "kind": "contesto", "indicator_id": b.indicator_id,
                             "indicator_name": meta[b.indicator_id]["name"], "unit": b.unit,
                             "territory_code": region, "territory_name": names.get(region, region),
                             "territory_level": "regione", "period": r.period, "value": r.value,
                             "status": r.status, "census_break": r.census_break,
                             "note": "regione della provincia assunta, senza valore SIENA2030"})
    out = pd.DataFrame(rows).reindex(columns=SIENA2030_COLUMNS).drop_duplicates()
    out["_k"] = out["kind"].map(KIND_ORDER)
    out = out.sort_values(["indicator_id", "_k", "territory_code", "benchmark_id", "period"], kind="mergesort",
                          na_position="first").drop(columns="_k")
    for col in ("benchmark_year",):
        out[col] = pd.array(out[col], dtype="Int64")
    for col in ("benchmark_value", "value", "gap"):
        out[col] = pd.array(pd.to_numeric(out[col]), dtype="Float64")
    out["census_break"] = out["census_break"].astype("boolean")
    for col in SIENA2030_COLUMNS:
        if col not in ("benchmark_year", "benchmark_value", "value", "gap", "census_break"):
            out[col] = out[col].astype("string")
    return out.reset_index(drop=True)


def join_samedi(table: pd.DataFrame, doc: dict, meta: dict) -> pd.DataFrame:
    """Province rows of the SAMEDI indicators get the area value as benchmark."""
    table = table.copy()
    area = doc["territory"]["code"]
    provinces = list(doc["territory"]["provinces"])
    ids = list(doc["side_by_side"]["indicators"])
    listed = table["indicator_id"].isin(ids)
    area_rows = table[listed & (table["territory_code"] == area)]
    prov_mask = listed & table["territory_code"].isin(provinces) & (table["territory_level"] == "provincia")
    if table.loc[prov_mask | (listed & (table["territory_code"] == area)), "benchmark_id"].notna().any():
        raise ValueError("SAMEDI rows already joined to another benchmark")
    keys = [k for k in KEY if k != "territory_code"]
    prov = table[prov_mask][keys].merge(area_rows[keys + ["value"]].rename(columns={"value": "_area"}),
                                        on=keys, how="left")
    prov.index = table.index[prov_mask]
    ratio = table.loc[prov_mask, "indicator_id"].map({k: meta[k]["has_denominator"] for k in ids}).astype(bool)
    table.loc[prov_mask, "benchmark_id"] = doc["benchmark_id"]
    table.loc[prov_mask, "benchmark_value"] = prov["_area"]
    gap = table.loc[prov_mask, "value"] - prov["_area"]
    table.loc[prov_mask, "gap"] = gap.where(ratio)
    area_mask = listed & (table["territory_code"] == area)
    table.loc[area_mask, "benchmark_id"] = doc["benchmark_id"]
    table.loc[area_mask, "note"] = join_notes(
        table.loc[area_mask, "note"],
        pd.Series("territorio del progetto SAMEDI (il progetto non ha pubblicato dati)", index=table.index[area_mask]))
    return table


def samedi_table(table: pd.DataFrame, doc: dict, meta: dict) -> pd.DataFrame:
    """Side by side: one row per indicator x period x breakdown, one value column per territory, plus
    one row per listed gap."""
    area = doc["territory"]["code"]
    order = list(doc["side_by_side"]["territories"])
    ids = list(doc["side_by_side"]["indicators"])
    rows = table[table["indicator_id"].isin(ids) & table["territory_code"].isin(order) & (table["sex"] == TOTAL)]
    rows = rows[(rows["territory_level"] == "area") | (rows["territory_level"] == "provincia")]
    keys = ["indicator_id", "period", "sex", "citizenship", "age_class", "category"]
    wide = rows.pivot_table(index=keys, columns="territory_code", values="value", aggfunc="first")
    wide = wide.reindex(columns=order)
    wide.columns = [f"value_{c}" for c in wide.columns]
    flags = rows.assign(prov=rows["status"] == "provisional").groupby(keys).agg(
        provisional=("prov", "any"), census_break=("census_break", "any"))
    wide = wide.join(flags).reset_index()
    wide["status"] = np.where(wide.pop("provisional"), "provisional", "final")
    wide["indicator_name"] = wide["indicator_id"].map({k: meta[k]["name"] for k in ids})
    wide["theme"] = wide["indicator_id"].map({k: meta[k]["theme"] for k in ids})
    wide["unit"] = wide["indicator_id"].map({k: meta[k]["unit"] for k in ids})
    wide["catalogue_status"] = "computed"
    wide["note"] = pd.NA
    gaps = []
    for gid in doc["side_by_side"]["gaps"]:
        levels = meta[gid]["levels"]
        entry = levels.get("area") or levels.get("provincia") or next(iter(levels.values()))
        gaps.append({"indicator_id": gid, "indicator_name": meta[gid]["name"], "theme": meta[gid]["theme"],
                     "unit": meta[gid]["unit"], "catalogue_status": "gap",
                     "note": f"{entry.get('would_need')} (chi li detiene: {entry.get('holder')})"})
    cols = ["indicator_id", "indicator_name", "theme", "unit", *keys[1:], *[f"value_{c}" for c in order],
            "status", "census_break", "catalogue_status", "note"]
    out = pd.concat([wide, pd.DataFrame(gaps)], ignore_index=True).reindex(columns=cols)
    rank = {k: i for i, k in enumerate(ids + list(doc["side_by_side"]["gaps"]))}
    out = out.assign(_r=out["indicator_id"].map(rank)).sort_values(
        ["_r", "period", "category", "age_class"], kind="mergesort", na_position="first").drop(columns="_r")
    for c in order:
        out[f"value_{c}"] = pd.array(pd.to_numeric(out[f"value_{c}"]), dtype="Float64")
    out["census_break"] = out["census_break"].astype("boolean")
    for col in cols:
        if not col.startswith("value_") and col != "census_break":
            out[col] = out[col].astype("string")
    return out.reset_index(drop=True)
