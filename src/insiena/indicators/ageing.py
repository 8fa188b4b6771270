"""Age structure of all residents (POSAS) and of foreign residents (STRASA 2022): shares 0-14, 15-64,
65+, mean age, old-age dependency and the five-year pyramid.

Shares are computed within one file (numerator and denominator from the same source id): at 1 January
2025 the POSAS figures are provisional and differ from the census count of P2_2025, so a POSAS age
group is never divided by a P2 total. Mean age = sum of (completed age + 0.5) x persons / persons,
with the open class "100 e oltre" counted as 100.5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insiena.indicators.core import CENSUS_BREAK_DATE, TOTAL, first_by_priority, parts, restrict_sources

OPEN_AGE = 100
OPEN_CLASS = "100 e oltre"
GROUPS = {
    "total": {"citizenship": "totale", "probe": "share_65_plus_total",
              "ids": {"share_65_plus": "share_65_plus_total", "share_0_14": "share_0_14_total",
                      "share_15_64": "share_15_64_total", "mean_age": "mean_age_total",
                      "dependency": "old_age_dependency_total", "structure": "age_structure_total"}},
    "foreign": {"citizenship": "stranieri", "probe": "share_65_plus_foreigners",
                "ids": {"share_65_plus": "share_65_plus_foreigners", "share_0_14": "share_0_14_foreigners",
                        "share_15_64": "share_15_64_foreigners", "mean_age": "mean_age_foreigners",
                        "dependency": "old_age_dependency_foreigners", "structure": "age_structure_foreigners"}},
}


def age_class_5y(age: pd.Series) -> pd.Series:
    lo = (age.astype(int) // 5) * 5
    labels = lo.astype(str) + "-" + (lo + 4).astype(str)
    return pd.Series(np.where(age.astype(int) >= OPEN_AGE, OPEN_CLASS, labels), index=age.index, dtype="string")


def by_age(pop: pd.DataFrame, citizenship: str, meta: dict, probe: str) -> pd.DataFrame:
    """Single-age rows of one citizenship, one source per territory and date (published before summed)."""
    rows = pop[pop["age"].notna() & (pop["citizenship"] == citizenship) & (pop["release"] == "posas")]
    rows = restrict_sources(rows, meta, probe)
    chosen = first_by_priority(
        rows[["territory_code", "date", "source_id", "derived"]].drop_duplicates()
        .assign(priority=lambda d: d["derived"].astype(int)), ["territory_code", "date"])
    return rows.merge(chosen[["territory_code", "date", "source_id"]], on=["territory_code", "date", "source_id"])


def summaries(rows: pd.DataFrame) -> pd.DataFrame:
    """Per territory x date x sex: persons, 0-14, 15-64, 65+, and the sum of ages (+0.5)."""
    age = rows["age"].astype(int).to_numpy()
    n = rows["value"].astype("float64").to_numpy()
    frame = rows[["territory_code", "territory_level", "date", "sex", "source_id", "status"]].copy()
    frame["n"] = n
    frame["n_0_14"] = np.where(age <= 14, n, 0.0)
    frame["n_15_64"] = np.where((age >= 15) & (age <= 64), n, 0.0)
    frame["n_65_plus"] = np.where(age >= 65, n, 0.0)
    frame["age_sum"] = (age + 0.5) * n
    key = ["territory_code", "territory_level", "date", "sex", "source_id", "status"]
    return frame.groupby(key, sort=False).sum().reset_index()


def build_group(pop: pd.DataFrame, meta: dict, group: str) -> pd.DataFrame:
    spec = GROUPS[group]
    ids = spec["ids"]
    rows = by_age(pop, spec["citizenship"], meta, spec["probe"])
    if rows.empty:
        return parts(pd.DataFrame())
    s = summaries(rows)
    tot = s[s["sex"] == TOTAL]
    common = {"territory_code": tot["territory_code"], "territory_level": tot["territory_level"],
              "period": tot["date"], "source_ids": tot["source_id"], "status": tot["status"],
              "census_break": tot["date"] == CENSUS_BREAK_DATE}
    out = [
        parts(pd.DataFrame({**common, "indicator_id": ids["share_65_plus"], "numerator": tot["n_65_plus"],
                            "denominator": tot["n"]})),
        parts(pd.DataFrame({**common, "indicator_id": ids["share_0_14"], "numerator": tot["n_0_14"],
                            "denominator": tot["n"]})),
        parts(pd.DataFrame({**common, "indicator_id": ids["share_15_64"], "numerator": tot["n_15_64"],
                            "denominator": tot["n"]})),
        parts(pd.DataFrame({**common, "indicator_id": ids["mean_age"], "numerator": tot["age_sum"],
                            "denominator": tot["n"]})),
        parts(pd.DataFrame({**common, "indicator_id": ids["dependency"], "numerator": tot["n_65_plus"],
                            "denominator": tot["n_15_64"]})),
    ]
    # Pyramid: each sex's class over the population of both sexes, so the two halves add up to 100.
    cls = rows.assign(age_class=age_class_5y(rows["age"]))
    cls = (cls.groupby(["territory_code", "territory_level", "date", "sex", "source_id", "status", "age_class"],
                       sort=False)["value"].sum().astype("float64").reset_index())
    den = tot[["territory_code", "date", "n"]]
    cls = cls.merge(den, on=["territory_code", "date"])
    out.append(parts(pd.DataFrame({
        "indicator_id": ids["structure"], "territory_code": cls["territory_code"],
        "territory_level": cls["territory_level"], "period": cls["date"], "sex": cls["sex"],
        "age_class": cls["age_class"], "numerator": cls["value"], "denominator": cls["n"],
        "source_ids": cls["source_id"], "status": cls["status"],
        "census_break": cls["date"] == CENSUS_BREAK_DATE,
        "note": np.where(cls["sex"] != TOTAL, "quota sul totale di maschi e femmine (piramide)", None)})))
    return pd.concat(out, ignore_index=True)


def build(pop: pd.DataFrame, meta: dict) -> pd.DataFrame:
    return pd.concat([build_group(pop, meta, "total"), build_group(pop, meta, "foreign")], ignore_index=True)
