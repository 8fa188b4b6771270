"""Cross-source consistency report: the same quantity from two ISTAT files, per territory and date.

Each row compares value_a (source_a) with value_b (source_b); difference = value_a - value_b. The
status says what the difference means:

- ok: equal, as expected;
- mismatch: the two should be equal and are not (the run goes on; the log and the report say so);
- different_basis: ISTAT publishes two figures for one date on purpose (POSAS provisional stock at
  1/1/2025 vs the census count that opens the 2025 balance): both are kept, see docs/istat-sources.md;
- census_break: 1/1/2021 vs 1/1/2022, where the series switches to the 2021 census count; the
  difference is not a one-year change.

Comparisons are on all ages and sex "totale" unless the check name says otherwise: by-age and by-sex
comparisons carry "[sex=...,age=...]" in the check name.
"""

from __future__ import annotations

import logging

import pandas as pd

from insiena.territories import aggregate

log = logging.getLogger(__name__)

COLUMNS = ["check", "territory_code", "date", "source_a", "value_a", "source_b", "value_b", "difference", "status"]
JOIN = ["territory_code", "date", "sex", "age"]
CENSUS_BREAK = ("2021-01-01", "2022-01-01")


def _totals(df: pd.DataFrame) -> pd.DataFrame:
    return df[(df["sex"] == "totale") & df["age"].isna()]


def compare(a: pd.DataFrame, b: pd.DataFrame, check: str, differs: str = "mismatch",
            by_sex: bool = False, by_age: bool = False) -> pd.DataFrame:
    """Rows present in both a and b (territory_code, date, sex, age, value, source_id)."""
    if not by_sex:
        a, b = a[a["sex"] == "totale"], b[b["sex"] == "totale"]
    if not by_age:
        a, b = a[a["age"].isna()], b[b["age"].isna()]
    cols = JOIN + ["value", "source_id"]
    m = a[cols].merge(b[cols], on=JOIN, suffixes=("_a", "_b"))
    if m.empty:
        return pd.DataFrame(columns=COLUMNS)
    name = pd.Series(check, index=m.index)
    if by_sex or by_age:
        parts = ("sex=" + m["sex"]) if by_sex else pd.Series("", index=m.index)
        if by_age:
            age = m["age"].astype("string").fillna("all")
            parts = parts.str.cat("age=" + age, sep=",") if by_sex else "age=" + age
        name = check + "[" + parts + "]"
    diff = m["value_a"] - m["value_b"]
    out = pd.DataFrame({"check": name, "territory_code": m["territory_code"], "date": m["date"],
                        "source_a": m["source_id_a"], "value_a": m["value_a"], "source_b": m["source_id_b"],
                        "value_b": m["value_b"], "difference": diff,
                        "status": diff.eq(0).map({True: "ok", False: differs})})
    return out


def _of(pop: pd.DataFrame, datasets: dict[str, str], *names: str) -> pd.DataFrame:
    return pop[pop["source_id"].map(datasets).isin(names)]


def sums_vs_published(parts: pd.DataFrame, published: pd.DataFrame, territories: pd.DataFrame, to_level: str,
                      check: str, by_sex: bool = True) -> pd.DataFrame:
    """Published aggregates (source_a) vs the sum of the parts (source_b) of one release and date."""
    if parts.empty:
        return pd.DataFrame(columns=COLUMNS)
    summed = aggregate(parts, territories, parts["territory_level"].iloc[0], [to_level],
                       ["date", "sex", "age", "source_id"])
    pub = published[published["territory_level"] == to_level]
    return compare(pub, summed, check, by_sex=by_sex)


def census_break(rows: pd.DataFrame, check: str) -> pd.DataFrame:
    before, after = CENSUS_BREAK
    rows = _totals(rows[rows["territory_level"] != "comune"])
    a = rows[rows["date"] == before].assign(date=after)
    b = rows[rows["date"] == after]
    out = compare(a, b, check)
    out["status"] = "census_break"
    return out


def build_consistency(population: pd.DataFrame, balance: pd.DataFrame, territories: pd.DataFrame,
                      datasets: dict[str, str]) -> pd.DataFrame:
    """Every comparison the ISTAT files allow; datasets maps source_id -> registry dataset."""
    pop = population
    published = pop[~pop["derived"]]
    fjan = _of(pop, datasets, "sdmx_29_316_fjan")
    p289 = _of(pop, datasets, "sdmx_22_289")
    posas_all = _of(pop, datasets, "posas", "posas_italia")
    posas = _of(published, datasets, "posas")
    p3_census = _of(pop, datasets, "bilancio_p3")
    p3_census = p3_census[p3_census["release"] == "census_count"]
    p2_census = _of(pop, datasets, "bilancio_p2")
    p2_census = p2_census[p2_census["release"] == "census_count"]
    strasa = _of(pop, datasets, "strasa")
    italy = _of(pop, datasets, "posas_italia")

    monthly = balance[(balance["source_id"].map(datasets) == "bilancio_mensile")
                      & (balance["measure"] == "population_start")]
    monthly = monthly.assign(date=monthly["period"] + "-01", age=pd.array([pd.NA] * len(monthly), dtype="Int64"))

    regions = posas[posas["territory_level"] == "regione"]
    regional_sums = []
    for (date, source), group in regions.groupby(["date", "source_id"], sort=True):
        summed = group.groupby(["date", "sex", "age"], dropna=False)["value"].sum().reset_index()
        regional_sums.append(summed.assign(territory_code="IT", source_id=source))
    regional_sums = pd.concat(regional_sums, ignore_index=True) if regional_sums else regions.iloc[0:0]

    sdmx_sums = []
    for rows, name in ((fjan, "fjan"), (p289, "22_289")):
        rows = rows[~rows["derived"]]
        for child, parent in (("comune", "provincia"), ("provincia", "regione"), ("regione", "ripartizione"),
                              ("ripartizione", "italia")):
            sdmx_sums.append(sums_vs_published(rows[rows["territory_level"] == child], rows, territories, parent,
                                               f"{name}_sum_of_{child}_vs_{parent}", by_sex=False))

    posas_prov = posas[posas["territory_level"] == "provincia"]
    posas_rip = posas[posas["territory_level"] == "ripartizione"]
    checks = [
        compare(fjan, p3_census, "foreign_residents_fjan_vs_p3_census"),
        compare(p289, posas_all, "population_22_289_vs_posas"),
        compare(p289, monthly, "population_22_289_vs_monthly_balance_start"),
        compare(strasa, fjan, "foreign_residents_strasa_vs_fjan"),
        compare(italy, regional_sums, "italy_by_age_vs_sum_of_posas_regions", by_sex=True, by_age=True),
        sums_vs_published(posas_prov, posas, territories, "regione", "posas_sum_of_provincia_vs_regione"),
        sums_vs_published(regions[regions["date"].isin(posas_rip["date"])], posas, territories, "ripartizione",
                          "posas_sum_of_regione_vs_ripartizione"),
        *sdmx_sums,
        compare(posas_all[posas_all["status"] == "provisional"], p2_census,
                "population_posas_provisional_vs_p2_census", differs="different_basis", by_sex=True),
        census_break(fjan[~fjan["derived"]], "census_break_fjan"),
        census_break(posas_all[~posas_all["derived"]], "census_break_posas"),
    ]
    out = pd.concat([c for c in checks if len(c)], ignore_index=True).reindex(columns=COLUMNS)
    for col in ("value_a", "value_b", "difference"):
        out[col] = out[col].astype("Int64")
    mismatches = out[out["status"] == "mismatch"]
    if len(mismatches):
        log.warning("consistency: %d comparisons differ where the sources should agree, e.g. %s",
                    len(mismatches), mismatches.head(3).to_dict("records"))
    return out
