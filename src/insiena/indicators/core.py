"""Shared machinery of the indicators stage: the intermediate "parts" frame, the catalogue lookups,
sums of territories (areas, ripartizioni, Italia) and the final table.

Every builder returns *parts*: one row per indicator x territory x period x breakdown with the
numerator and the denominator (or a published value), the source ids, status, census-break flag and
a note. `finish` turns parts into the indicators table: value = numerator / denominator x scale
(scale from the catalogue), theme and unit from the catalogue, names from the territories table.
Sums of territories always add numerators and denominators, never rates.
"""

from __future__ import annotations

import logging
from typing import Iterable

import numpy as np
import pandas as pd

from insiena.catalogue import resolve_sources

log = logging.getLogger(__name__)

TOTAL = "totale"
# Working dtype of text columns (the inputs are read Arrow-backed); `typed` returns the project's `string`.
STR = pd.StringDtype("pyarrow")
# ISTAT's population series restart from the 2021 census count at 1 January 2022.
CENSUS_BREAK_DATE = "2022-01-01"
CENSUS_BREAK_YEAR = 2021  # a flow rate of 2021 averages a register stock and a census-based one

KEY = ["indicator_id", "territory_code", "period", "sex", "citizenship", "age_class", "category"]
COLUMNS = ["indicator_id", "theme", "territory_code", "territory_name", "territory_level", "period", "sex",
           "citizenship", "age_class", "category", "value", "unit", "numerator", "denominator", "source_ids",
           "status", "census_break", "benchmark_id", "benchmark_value", "gap", "note"]
PARTS = ["indicator_id", "territory_code", "territory_level", "territory_name", "period", "sex", "citizenship",
         "age_class", "category", "numerator", "denominator", "value", "source_ids", "status", "census_break",
         "note", "aggregable"]
BREAKDOWN = ["sex", "citizenship", "age_class", "category"]
CITIZENSHIP_OF_POPULATION = {"foreign": "stranieri", "italian": "italiani", "total": TOTAL, None: TOTAL}
# The LFS files give ITC/ITD/ITE (ripartizioni) beside the macro-areas ITCD/ITFG: the catalogue files
# both under "macroarea", the rows keep their own level.
LEVEL_IN_CATALOGUE = {("lavoro", "ripartizione"): "macroarea"}


# --------------------------------------------------------------------------------------------------
# catalogue lookups


def catalogue_meta(doc: dict, registry: pd.DataFrame) -> dict[str, dict]:
    """Indicator id -> theme, unit, scale, citizenship, period_type, has_denominator, levels.

    levels: level -> {"status", "sources" (registry ids, datasets expanded), "periods", "missing", "note"}.
    """
    meta = {}
    for ind in doc["indicators"]:
        levels = {}
        for level, entry in ind["levels"].items():
            levels[level] = {
                "status": entry["status"],
                "sources": set(resolve_sources(entry.get("sources", []), registry)),
                "periods": list(entry.get("periods", [])),
                "missing": dict(entry.get("missing", {})),
                "note": entry.get("note"),
                "gap_kind": entry.get("gap_kind"),
                "would_need": entry.get("would_need"),
                "holder": entry.get("holder"),
            }
        meta[ind["id"]] = {
            "theme": ind["theme"], "unit": ind["unit"], "name": ind["name"],
            "scale": float(ind["formula"]["scale"]),
            "has_denominator": ind["formula"]["denominator"] is not None,
            "citizenship": CITIZENSHIP_OF_POPULATION[ind.get("population")],
            "period_type": ind["period_type"], "status": ind["status"], "levels": levels,
            "series_breaks": dict(ind.get("series_breaks", {})),
        }
    return meta


def catalogue_level(meta: dict, indicator_id: str, level: str) -> str:
    return LEVEL_IN_CATALOGUE.get((meta[indicator_id]["theme"], level), level)


def allowed_sources(meta: dict, indicator_id: str, level: str) -> set[str]:
    """Registry ids the catalogue lets this indicator use at this level (empty if not computed there)."""
    entry = meta[indicator_id]["levels"].get(catalogue_level(meta, indicator_id, level))
    if entry is None or entry["status"] != "computed":
        return set()
    return entry["sources"]


def restrict_sources(rows: pd.DataFrame, meta: dict, indicator_id: str, source_col: str = "source_id") -> pd.DataFrame:
    """Keep the candidate input rows whose source the catalogue lists for the indicator at their level.

    This is how the catalogue chooses between two files that give the same quantity (e.g. POSAS 2025
    provisional vs the census count of P2_2025 at 1 January 2025)."""
    if rows.empty:
        return rows
    keep = np.zeros(len(rows), dtype=bool)
    levels = rows["territory_level"].to_numpy()
    sources = rows[source_col].to_numpy()
    for level in pd.unique(levels):
        ok = allowed_sources(meta, indicator_id, level)
        if not ok:
            continue
        at = levels == level
        keep |= at & pd.Series(sources).isin(ok).to_numpy()
    return rows[keep]


# --------------------------------------------------------------------------------------------------
# small vectorised helpers


def union_ids(*columns: pd.Series) -> pd.Series:
    """Row-wise sorted union of ";"-joined id lists (NA ignored); computed once per distinct combination."""
    frame = pd.concat([c.astype("string").reset_index(drop=True) for c in columns], axis=1)
    frame.columns = [f"c{i}" for i in range(len(columns))]
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(frame.fillna("")))
    joined = []
    for combo in uniques:
        ids = set()
        for part in combo:
            if part:
                ids.update(p for p in part.split(";") if p)
        joined.append(";".join(sorted(ids)))
    out = pd.Series(np.asarray(joined, dtype=object)[codes], dtype="string")
    out.index = columns[0].index
    return out


def join_notes(*columns: pd.Series) -> pd.Series:
    """Row-wise "; " join of the non-empty notes, each once, in argument order."""
    frame = pd.concat([c.astype("string").reset_index(drop=True) for c in columns], axis=1)
    frame.columns = [f"c{i}" for i in range(len(columns))]
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(frame.fillna("")))
    joined = []
    for combo in uniques:
        seen = list(dict.fromkeys(p for p in combo if p))
        joined.append("; ".join(seen) if seen else None)
    out = pd.Series(np.asarray(joined, dtype=object)[codes], dtype="string")
    out.index = columns[0].index
    return out


def any_provisional(*columns: pd.Series) -> pd.Series:
    flag = np.zeros(len(columns[0]), dtype=bool)
    for c in columns:
        flag |= (c.astype("string") == "provisional").fillna(False).to_numpy()
    return pd.Series(np.where(flag, "provisional", "final"), index=columns[0].index, dtype="string")


def parts(df: pd.DataFrame, **constants) -> pd.DataFrame:
    """Complete a builder's frame to the PARTS columns (defaults: breakdowns "totale", no note)."""
    out = df.copy()
    for key, value in constants.items():
        out[key] = value
    defaults = {"sex": TOTAL, "citizenship": TOTAL, "age_class": TOTAL, "category": TOTAL,
                "numerator": np.nan, "denominator": np.nan, "value": np.nan, "census_break": False,
                "note": pd.NA, "aggregable": True, "territory_name": pd.NA, "status": "final"}
    for col, default in defaults.items():
        if col not in out.columns:
            out[col] = default
    out = out.reindex(columns=PARTS)
    for col in ("numerator", "denominator", "value"):
        out[col] = pd.to_numeric(out[col], errors="raise").astype("float64")
    out["census_break"] = out["census_break"].astype(bool)
    out["aggregable"] = out["aggregable"].astype(bool)
    for col in ("indicator_id", "territory_code", "territory_level", "territory_name", "period", "sex",
                "citizenship", "age_class", "category", "source_ids", "status", "note"):
        out[col] = out[col].astype(STR)
    return out.reset_index(drop=True)


def first_by_priority(rows: pd.DataFrame, key: list[str], priority: str = "priority") -> pd.DataFrame:
    """One row per key: the lowest priority number wins (ties broken by source id, for determinism)."""
    order = [priority, "source_id"] if "source_id" in rows.columns else [priority]
    rows = rows.sort_values(key + order, kind="mergesort")
    return rows.drop_duplicates(key, keep="first")


# --------------------------------------------------------------------------------------------------
# sums of territories


def members_table(territories: pd.DataFrame, areas: dict) -> dict[str, pd.DataFrame]:
    """Membership tables (member_code, parent_code, parent_level, parent_name) for the sums INSIEna makes."""
    t = territories
    reg = t[t["territory_level"] == "regione"]
    rip_names = t[t["territory_level"] == "ripartizione"].set_index("territory_code")["territory_name"]
    prov = t[t["territory_level"] == "provincia"]
    region_names = reg.set_index("territory_code")["territory_name"]
    out = {
        "regione->ripartizione": pd.DataFrame({
            "member_code": reg["territory_code"].to_numpy(), "parent_code": reg["ripartizione_code"].to_numpy(),
            "parent_level": "ripartizione",
            "parent_name": reg["ripartizione_code"].map(rip_names).to_numpy()}),
        "regione->italia": pd.DataFrame({
            "member_code": reg["territory_code"].to_numpy(), "parent_code": "IT", "parent_level": "italia",
            "parent_name": "Italia"}),
        "provincia->regione": pd.DataFrame({
            "member_code": prov["territory_code"].to_numpy(), "parent_code": prov["region_code"].to_numpy(),
            "parent_level": "regione", "parent_name": prov["region_code"].map(region_names).to_numpy()}),
    }
    rows = [{"member_code": p, "parent_code": area, "parent_level": "area", "parent_name": spec["name"]}
            for area, spec in sorted(areas.items()) for p in spec["provinces"]]
    out["provincia->area"] = pd.DataFrame(rows, columns=["member_code", "parent_code", "parent_level", "parent_name"])
    for frame in out.values():
        for col in frame.columns:
            frame[col] = frame[col].astype(STR)
    return out


def group_union(gid: np.ndarray, values: pd.Series, n_groups: int, sep: str = ";") -> list:
    """For each group, the sorted union of the `sep`-joined items of `values` (None when empty).

    A Python loop over the distinct (group, value) pairs: far cheaper than a pandas callable per group."""
    codes, uniques = pd.factorize(values.astype("string").to_numpy(dtype=object, na_value=None),
                                  use_na_sentinel=True)
    pairs = np.unique(np.stack([np.asarray(gid, dtype=np.int64), codes.astype(np.int64)], axis=1), axis=0)
    sets: list[set] = [set() for _ in range(n_groups)]
    for g, c in pairs:
        if c >= 0:
            sets[g].update(x for x in uniques[c].split(sep) if x)
    return [sep.join(sorted(items)) if items else None for items in sets]


def group_common(gid: np.ndarray, values: pd.Series, n_groups: int, sep: str = "; ") -> list:
    """For each group, the `sep`-joined items present in every row of the group (None when none).

    Used for the notes of a sum: "no lot in the dataset" said of one province must not be said of the
    area, while "mean population of 1 January y and y+1" said of every province holds for the area."""
    gid = np.asarray(gid, dtype=np.int64)
    size = np.bincount(gid, minlength=n_groups)
    counts: dict[tuple[int, str], int] = {}
    for g, v in zip(gid, values.astype("string").to_numpy(dtype=object, na_value=None)):
        if v:
            for item in dict.fromkeys(x for x in v.split(sep) if x):
                counts[(g, item)] = counts.get((g, item), 0) + 1
    common: list[list[str]] = [[] for _ in range(n_groups)]
    for (g, item), n in counts.items():
        if n == size[g]:
            common[g].append(item)
    return [sep.join(sorted(items)) if items else None for items in common]


def aggregate(p: pd.DataFrame, members: pd.DataFrame, from_level: str, note: str | None = None,
              indicators: Iterable[str] | None = None) -> pd.DataFrame:
    """Sum numerators and denominators of `from_level` rows into their parents.

    A parent is computed only when every member is present with a numerator (and, for ratios, a
    denominator): an area with a missing province is not an area. Published values (value set, no
    numerator) are never summed.
    """
    rows = p[(p["territory_level"] == from_level) & p["aggregable"] & p["numerator"].notna() & p["value"].isna()]
    if indicators is not None:
        rows = rows[rows["indicator_id"].isin(list(indicators))]
    if rows.empty or members.empty:
        return parts(pd.DataFrame(columns=PARTS))
    expected = members.groupby("parent_code").size().rename("expected")
    m = rows.merge(members, left_on="territory_code", right_on="member_code", how="inner")
    group = ["parent_code", "parent_level", "parent_name", "indicator_id", "period", *BREAKDOWN]
    m["_has_den"] = m["denominator"].notna()
    m["_prov"] = (m["status"] == "provisional")
    g = m.groupby(group, sort=False, dropna=False)
    gid = g.ngroup().to_numpy()
    out = g.agg(numerator=("numerator", "sum"), denominator=("denominator", "sum"), n=("numerator", "size"),
                n_den=("_has_den", "sum"), census_break=("census_break", "any"), provisional=("_prov", "any"))
    out = out.reset_index()
    out["source_ids"] = group_union(gid, m["source_ids"], len(out))
    out["member_notes"] = group_common(gid, m["note"], len(out))
    out = out.merge(expected, left_on="parent_code", right_index=True)
    complete = (out["n"] == out["expected"]) & ((out["n_den"] == 0) | (out["n_den"] == out["n"]))
    dropped = (~complete).sum()
    if dropped:
        log.info("%s sums: %d groups skipped because a member is missing", from_level, dropped)
    out = out[complete]
    out.loc[out["n_den"] == 0, "denominator"] = np.nan
    member_list = members.groupby("parent_code")["member_code"].agg(lambda s: ", ".join(sorted(s)))
    base = note or f"somma di {from_level}"
    notes = out["parent_code"].map(member_list).map(lambda codes: f"{base} {codes}")
    frame = pd.DataFrame({
        "indicator_id": out["indicator_id"], "territory_code": out["parent_code"],
        "territory_level": out["parent_level"], "territory_name": out["parent_name"], "period": out["period"],
        "sex": out["sex"], "citizenship": out["citizenship"], "age_class": out["age_class"],
        "category": out["category"], "numerator": out["numerator"], "denominator": out["denominator"],
        "source_ids": out["source_ids"], "status": np.where(out["provisional"], "provisional", "final"),
        "census_break": out["census_break"],
        "note": join_notes(notes.astype("string"), out["member_notes"].astype("string")),
    })
    return parts(frame)


# --------------------------------------------------------------------------------------------------
# the final table


def map_small(values: pd.Series, mapping: dict) -> np.ndarray:
    """`values.map(mapping)` through the distinct values (few ids, many rows)."""
    codes, uniques = pd.factorize(values)
    mapped = np.asarray([mapping.get(u) for u in uniques] + [None], dtype=object)
    return mapped[codes]


def finish(p: pd.DataFrame, meta: dict, names: pd.Series) -> pd.DataFrame:
    """Parts -> indicators rows: catalogue filter, value, theme, unit, citizenship, names, dtypes."""
    if p.empty:
        return typed(pd.DataFrame(columns=COLUMNS))
    unknown = sorted(set(p["indicator_id"].unique()) - set(meta))
    if unknown:
        raise ValueError(f"indicators not in the catalogue: {unknown}")
    codes, pairs = pd.factorize(pd.MultiIndex.from_arrays([p["indicator_id"], p["territory_level"]]))
    ok = np.asarray([meta[i]["levels"].get(catalogue_level(meta, i, lv), {}).get("status") == "computed"
                     for i, lv in pairs], dtype=bool)
    keep = ok[codes]
    if (~keep).any():
        log.info("dropped %d rows at levels the catalogue does not compute", (~keep).sum())
    p = p[keep]

    ids = p["indicator_id"]
    scale = map_small(ids, {k: v["scale"] for k, v in meta.items()}).astype(float)
    has_den = map_small(ids, {k: v["has_denominator"] for k, v in meta.items()}).astype(bool)
    num, den, preset = (p[c].to_numpy(dtype="float64") for c in ("numerator", "denominator", "value"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(has_den, num / den, num) * scale
    value = np.where(np.isnan(preset), ratio, preset)
    finite = np.isfinite(value)
    if (~finite).any():
        log.info("dropped %d rows without a finite value (zero or missing denominator)", (~finite).sum())
    p = p[finite]
    ids = p["indicator_id"]
    name = p["territory_name"].to_numpy(dtype=object, na_value=None)
    missing = pd.isna(name)
    name[missing] = map_small(p["territory_code"][missing], names.to_dict())

    out = pd.DataFrame({
        "indicator_id": ids,
        "theme": map_small(ids, {k: v["theme"] for k, v in meta.items()}),
        "territory_code": p["territory_code"], "territory_name": name,
        "territory_level": p["territory_level"], "period": p["period"], "sex": p["sex"],
        "citizenship": map_small(ids, {k: v["citizenship"] for k, v in meta.items()}),
        "age_class": p["age_class"], "category": p["category"],
        "value": value[finite],
        "unit": map_small(ids, {k: v["unit"] for k, v in meta.items()}),
        "numerator": p["numerator"], "denominator": p["denominator"],
        "source_ids": p["source_ids"], "status": p["status"], "census_break": p["census_break"],
        "benchmark_id": None, "benchmark_value": np.nan, "gap": np.nan, "note": p["note"],
    })
    return typed(out)


def typed(df: pd.DataFrame, strings=STR) -> pd.DataFrame:
    """The columns and dtypes of the indicators table (nullable Float64, boolean, text as `strings`)."""
    out = df.reindex(columns=COLUMNS).copy()
    for col in ("value", "numerator", "denominator", "benchmark_value", "gap"):
        out[col] = pd.array(pd.to_numeric(out[col]).astype("float64"), dtype="Float64")
    for col in COLUMNS:
        if col not in ("value", "numerator", "denominator", "benchmark_value", "gap", "census_break"):
            out[col] = _as_strings(out[col], strings)
    out["census_break"] = out["census_break"].astype("boolean")
    return out.reset_index(drop=True)


def _as_strings(values: pd.Series, dtype) -> pd.Series:
    """Through the distinct values: a column of 300,000 rows has a few hundred of them."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    objects = np.asarray([str(u) for u in uniques] + [None], dtype=object)
    return pd.Series(pd.array(objects[codes], dtype=dtype), index=values.index)


def as_output(df: pd.DataFrame) -> pd.DataFrame:
    """The project's `string` dtype (Python storage), which the schemas and readers expect."""
    return typed(df, strings="string")
