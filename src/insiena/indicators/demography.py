"""Foreign residents, their share and change, and the demographic rates of foreigners and of all
residents (natural and migratory balance, births, deaths, acquisitions of citizenship).

Stocks: 29_316 FJAN (1 January 2020-2025, every level) first; the POPSTRBIL1 balance gives 1 January
2019 for provinces and above; P3_2025 gives 31 December 2025 (provisional). All residents: 22_289,
POSAS and the census count of P2_2025, chosen per level by the sources the catalogue lists.
Flows: POPSTRBIL1 2019-2023 (provinces and above) and P3/P2 2025 (every level), each rate over the mean
population of its own year ((1 January + 31 December) / 2); 2024 has no balance in the mirror.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insiena.indicators.core import (CENSUS_BREAK_DATE, CENSUS_BREAK_YEAR, any_provisional, first_by_priority,
                                     group_union, join_notes, parts, restrict_sources, union_ids)

POPSTRBIL1 = "istat_29_316_popstrbil1_provinces"
P2, P3 = "p2_2025_it_comuni", "p3_2025_it_comuni"
# POPSTRBIL1 data type -> component of the balance used here.
POPSTRBIL1_TYPES = {"FJAN": "start", "FDEC_CP": "end", "FLBIRTH": "births", "FDEATH": "deaths",
                    "FNATGR": "natural_balance", "FINTRNMIGR": "internal_net", "FINTNMIG": "foreign_net",
                    "ACQCITIZ": "acquisitions"}
# P2/P3 measure (demographic_balance) -> the same components.
BALANCE_MEASURES = {"population_start": "start", "population_end": "end", "births": "births", "deaths": "deaths",
                    "natural_balance": "natural_balance", "internal_net_migration": "internal_net",
                    "foreign_net_migration": "foreign_net", "citizenship_acquisitions": "acquisitions"}
FOREIGN_FLOWS = {
    "natural_balance_rate_foreigners": ["natural_balance"],
    # Internal + abroad only: "other reasons" and statistical adjustments change scheme in 2022.
    "migratory_balance_rate_foreigners": ["internal_net", "foreign_net"],
    "citizenship_acquisitions_per_1000_foreigners": ["acquisitions"],
    "births_per_1000_foreigners": ["births"],
    "deaths_per_1000_foreigners": ["deaths"],
}
TOTAL_FLOWS = {
    "natural_balance_rate_total": ["natural_balance"],
    "migratory_balance_rate_total": ["internal_net", "foreign_net"],
    "birth_rate_total": ["births"],
    "death_rate_total": ["deaths"],
}
NOTE_MEAN_2021 = ("popolazione media tra il 1° gennaio 2021 (anagrafe) e il 31 dicembre 2021 "
                  "(ricostruzione censuaria)")


def popstrbil1_totals(fb: pd.DataFrame, territories: pd.DataFrame) -> pd.DataFrame:
    """POPSTRBIL1, both sexes, the components above; regions the file lacks (Trentino-Alto Adige has
    only its two autonomous provinces) are summed from their provinces when all are present."""
    rows = fb[(fb["sex"] == "totale") & fb["data_type"].isin(list(POPSTRBIL1_TYPES))].copy()
    rows["component"] = rows["data_type"].map(POPSTRBIL1_TYPES)
    rows = rows[["territory_code", "territory_level", "year", "component", "value", "source_id", "status"]]
    rows["note"] = pd.NA
    prov = territories[territories["territory_level"] == "provincia"][["territory_code", "region_code"]]
    n_prov = prov.groupby("region_code").size().rename("expected")
    by_prov = rows[rows["territory_level"] == "provincia"].merge(prov, on="territory_code")
    sums = (by_prov.groupby(["region_code", "year", "component"])
            .agg(value=("value", "sum"), n=("value", "count"), status=("status", "max")).reset_index())
    sums = sums.merge(n_prov, left_on="region_code", right_index=True)
    sums = sums[sums["n"] == sums["expected"]]
    have = rows.loc[rows["territory_level"] == "regione", ["territory_code", "year", "component"]]
    sums = sums.rename(columns={"region_code": "territory_code"})
    sums = sums.merge(have, on=["territory_code", "year", "component"], how="left", indicator=True)
    sums = sums[sums["_merge"] == "left_only"]
    derived = pd.DataFrame({
        "territory_code": sums["territory_code"], "territory_level": "regione", "year": sums["year"],
        "component": sums["component"], "value": sums["value"], "source_id": POPSTRBIL1,
        "status": sums["status"], "note": "regione assente in POPSTRBIL1: somma delle sue province"})
    out = pd.concat([rows, derived], ignore_index=True)
    out["year"] = out["year"].astype(int)
    return out


def foreign_stock(pop: pd.DataFrame, fb_tot: pd.DataFrame) -> pd.DataFrame:
    """Foreign residents at each date: territory_code, territory_level, date, value, source_id,
    status, note, priority (0 = the series' own file)."""
    p = pop[(pop["citizenship"] == "stranieri") & (pop["sex"] == "totale") & pop["age"].isna()
            & pop["release"].isin(["sdmx", "census_count", "balance_end"])]
    p = p.assign(priority=np.where(p["release"] == "census_count", 1, 0),
                 note=pd.Series(pd.NA, index=p.index, dtype="string"))
    f = fb_tot[fb_tot["component"] == "start"]
    f = pd.DataFrame({"territory_code": f["territory_code"], "territory_level": f["territory_level"],
                      "date": f["year"].astype(str) + "-01-01", "value": f["value"], "source_id": f["source_id"],
                      "status": f["status"],
                      "note": join_notes(("1° gennaio " + f["year"].astype(str) + " dal bilancio POPSTRBIL1 (FJAN)")
                                         .astype("string"), f["note"]),
                      "priority": 2})
    cols = ["territory_code", "territory_level", "date", "value", "source_id", "status", "note", "priority"]
    out = pd.concat([p[cols], f[cols]], ignore_index=True)
    out["value"] = out["value"].astype("float64")
    out["note"] = out["note"].astype("string")
    return out


def total_stock(pop: pd.DataFrame) -> pd.DataFrame:
    """All residents at each date (no ages): 22_289, POSAS totals, P2 census count and 31 December."""
    p = pop[(pop["citizenship"] == "totale") & (pop["sex"] == "totale") & pop["age"].isna()]
    # Published rows before INSIEna's sums; the catalogue's source list settles everything else.
    p = p.assign(priority=p["derived"].astype(int), note=pd.NA)
    out = p[["territory_code", "territory_level", "date", "value", "source_id", "status", "note", "priority"]].copy()
    out["value"] = out["value"].astype("float64")
    return out.reset_index(drop=True)


def _pick(stock: pd.DataFrame, meta: dict, indicator_id: str) -> pd.DataFrame:
    return first_by_priority(restrict_sources(stock, meta, indicator_id), ["territory_code", "date"])


def foreign_residents(fstock: pd.DataFrame, meta: dict) -> pd.DataFrame:
    s = _pick(fstock, meta, "foreign_residents")
    return parts(pd.DataFrame({
        "indicator_id": "foreign_residents", "territory_code": s["territory_code"],
        "territory_level": s["territory_level"], "period": s["date"], "numerator": s["value"],
        "source_ids": s["source_id"], "status": s["status"], "census_break": s["date"] == CENSUS_BREAK_DATE,
        "note": s["note"]}))


def foreign_share(fstock: pd.DataFrame, tstock: pd.DataFrame, meta: dict) -> pd.DataFrame:
    f = _pick(fstock, meta, "foreign_share")
    t = _pick(tstock, meta, "foreign_share")
    m = f.merge(t, on=["territory_code", "territory_level", "date"], suffixes=("_f", "_t"))
    return parts(pd.DataFrame({
        "indicator_id": "foreign_share", "territory_code": m["territory_code"],
        "territory_level": m["territory_level"], "period": m["date"], "numerator": m["value_f"],
        "denominator": m["value_t"], "source_ids": union_ids(m["source_id_f"], m["source_id_t"]),
        "status": any_provisional(m["status_f"], m["status_t"]), "census_break": m["date"] == CENSUS_BREAK_DATE,
        "note": join_notes(m["note_f"], m["note_t"])}))


def _previous_date(date: pd.Series) -> pd.Series:
    """The date a change is measured from: 1 January of the year before, or for a 31 December stock
    the 1 January of the same year."""
    year = date.str[:4].astype(int)
    dec = date.str[5:] == "12-31"
    return pd.Series(np.where(dec, year.astype(str) + "-01-01", (year - 1).astype(str) + "-01-01"),
                     index=date.index, dtype="string")


def foreign_residents_change(fstock: pd.DataFrame, meta: dict) -> pd.DataFrame:
    s = _pick(fstock, meta, "foreign_residents_change")
    s = s.assign(prev_date=_previous_date(s["date"]))
    prev = s[["territory_code", "date", "value", "source_id", "status", "note"]].rename(
        columns={"date": "prev_date", "value": "prev", "source_id": "prev_source", "status": "prev_status",
                 "note": "prev_note"})
    m = s.merge(prev, on=["territory_code", "prev_date"])
    spans = (m["prev_date"] < CENSUS_BREAK_DATE) & (m["date"] >= CENSUS_BREAK_DATE)
    return parts(pd.DataFrame({
        "indicator_id": "foreign_residents_change", "territory_code": m["territory_code"],
        "territory_level": m["territory_level"], "period": m["date"], "numerator": m["value"] - m["prev"],
        "denominator": m["prev"], "source_ids": union_ids(m["source_id"], m["prev_source"]),
        "status": any_provisional(m["status"], m["prev_status"]), "census_break": spans,
        "note": join_notes("rispetto al " + m["prev_date"].astype("string"), m["note"], m["prev_note"])}))


def _balance_rows(bal: pd.DataFrame, source_id: str, citizenship: str) -> pd.DataFrame:
    cols = ["territory_code", "territory_level", "period", "measure", "sex", "citizenship", "value", "source_id",
            "status"]
    b = bal[cols]
    b = b[b["source_id"] == source_id]
    return b[(b["sex"] == "totale") & (b["citizenship"] == citizenship) & b["measure"].isin(list(BALANCE_MEASURES))]


def foreign_flows(fb_tot: pd.DataFrame, bal: pd.DataFrame) -> pd.DataFrame:
    """Wide balance of foreign residents: one row per territory x year, components as columns."""
    a = fb_tot
    b = _balance_rows(bal, P3, "stranieri")
    b = pd.DataFrame({"territory_code": b["territory_code"], "territory_level": b["territory_level"],
                      "year": b["period"].astype(int), "component": b["measure"].map(BALANCE_MEASURES),
                      "value": b["value"], "source_id": b["source_id"], "status": b["status"], "note": pd.NA})
    return _wide(pd.concat([a, b], ignore_index=True))


def total_flows(bal: pd.DataFrame) -> pd.DataFrame:
    b = _balance_rows(bal, P2, "totale")
    b = pd.DataFrame({"territory_code": b["territory_code"], "territory_level": b["territory_level"],
                      "year": b["period"].astype(int), "component": b["measure"].map(BALANCE_MEASURES),
                      "value": b["value"], "source_id": b["source_id"], "status": b["status"], "note": pd.NA})
    return _wide(b)


def _wide(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.assign(value=rows["value"].astype("float64"), prov=rows["status"] == "provisional")
    key = ["territory_code", "territory_level", "year", "source_id"]
    wide = rows.set_index(key + ["component"])["value"].unstack("component").reset_index()
    wide.columns.name = None
    g = rows.groupby(key)
    meta = g.agg(provisional=("prov", "any")).reset_index()
    meta["note"] = pd.Series(group_union(g.ngroup().to_numpy(), rows["note"], len(meta), sep="; "), dtype="string")
    wide = wide.merge(meta, on=key)
    wide["status"] = np.where(wide["provisional"], "provisional", "final")
    wide["mean_pop"] = (wide["start"] + wide["end"]) / 2
    return wide


def flow_rates(wide: pd.DataFrame, specs: dict[str, list[str]]) -> pd.DataFrame:
    out = []
    for indicator_id, components in specs.items():
        if not set(components) <= set(wide.columns):
            continue
        num = wide[components].sum(axis=1, min_count=len(components))
        span = wide["year"] == CENSUS_BREAK_YEAR
        note = pd.Series(np.where(span, NOTE_MEAN_2021, None), index=wide.index, dtype="string")
        out.append(parts(pd.DataFrame({
            "indicator_id": indicator_id, "territory_code": wide["territory_code"],
            "territory_level": wide["territory_level"], "period": wide["year"].astype(str),
            "numerator": num, "denominator": wide["mean_pop"], "source_ids": wide["source_id"],
            "status": wide["status"], "census_break": span,
            "note": join_notes(note, wide["note"].astype("string"))})))
    return pd.concat(out, ignore_index=True)


def foreign_births_share(f_wide: pd.DataFrame, t_wide: pd.DataFrame) -> pd.DataFrame:
    f = f_wide[f_wide["source_id"] == P3]
    t = t_wide[t_wide["source_id"] == P2]
    m = f.merge(t, on=["territory_code", "territory_level", "year"], suffixes=("_f", "_t"))
    return parts(pd.DataFrame({
        "indicator_id": "foreign_births_share", "territory_code": m["territory_code"],
        "territory_level": m["territory_level"], "period": m["year"].astype(str), "numerator": m["births_f"],
        "denominator": m["births_t"], "source_ids": union_ids(m["source_id_f"], m["source_id_t"]),
        "status": any_provisional(m["status_f"], m["status_t"]), "census_break": False}))


def build(pop: pd.DataFrame, bal: pd.DataFrame, fb: pd.DataFrame, territories: pd.DataFrame,
          meta: dict) -> pd.DataFrame:
    fb_tot = popstrbil1_totals(fb, territories)
    fstock, tstock = foreign_stock(pop, fb_tot), total_stock(pop)
    f_wide, t_wide = foreign_flows(fb_tot, bal), total_flows(bal)
    return pd.concat([
        foreign_residents(fstock, meta),
        foreign_share(fstock, tstock, meta),
        foreign_residents_change(fstock, meta),
        flow_rates(f_wide, FOREIGN_FLOWS),
        flow_rates(t_wide, TOTAL_FLOWS),
        foreign_births_share(f_wide, t_wide),
    ], ignore_index=True)
