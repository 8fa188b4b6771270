"""Reception and protection: presences in the reception system (regional cruscotto), presences per
1,000 residents, the SIPROIMI/SAI share, contracts for reception services (ANAC lots per province and
year), and new permits for international protection (PERMSOGG1), their rate and their countries.

The cruscotto is regional: ripartizioni and Italia are sums of regions (numerators and denominators),
never an average of regional rates. A blank cruscotto cell is "not reported" and adds nothing.
Contracts are counts of lots: amounts are never summed (framework agreements carry multi-year
ceilings).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insiena.indicators.core import (CENSUS_BREAK_YEAR, STR, TOTAL, aggregate, any_provisional,
                                     first_by_priority, join_notes, parts, restrict_sources, union_ids)

NOTE_HOTSPOT_BLANK = "hotspot: cella vuota (non riportato)"
CONTRACT_CATEGORIES = ["SAI", "CAS", "MSNA", "other"]
ANAC_DATASET = "anac_contracts"


# --------------------------------------------------------------------------------------------------
# cruscotto


def _system_note(rows: pd.DataFrame) -> pd.Series:
    label = rows["system_label"].astype("string")
    first_sai = rows["break_flag"].fillna(False).astype(bool)
    note = ("seconda accoglienza: " + label).where(label.notna())
    note = note.where(~first_sai, "seconda accoglienza: SAI (primo report dopo la ridenominazione di SIPROIMI, "
                                  "DL 130/2020)")
    return note.astype("string")


def presences(rp: pd.DataFrame, members: dict) -> pd.DataFrame:
    """reception_presences by type and in total, for regions; ripartizioni and Italia as sums."""
    reg = rp[rp["territory_level"] == "regione"]
    typed_rows = reg[reg["value"].notna()]
    by_type = parts(pd.DataFrame({
        "indicator_id": "reception_presences", "territory_code": typed_rows["territory_code"],
        "territory_level": "regione", "period": typed_rows["date"], "category": typed_rows["type"],
        "numerator": typed_rows["value"].astype("float64"), "source_ids": typed_rows["source_id"],
        "status": typed_rows["status"], "note": _system_note(typed_rows)}))
    key = ["territory_code", "date"]
    g = reg.assign(hot_blank=(reg["type"] == "hotspot") & reg["value"].isna(),
                   prov=reg["status"] == "provisional",
                   value=reg["value"].astype("float64"))
    grouped = g.groupby(key)
    tot = grouped.agg(hot_blank=("hot_blank", "any"), prov=("prov", "any"),
                      source_id=("source_id", "first")).reset_index()
    tot["value"] = grouped["value"].sum(min_count=1).to_numpy()
    tot = tot[tot["value"].notna()]
    totals = parts(pd.DataFrame({
        "indicator_id": "reception_presences", "territory_code": tot["territory_code"],
        "territory_level": "regione", "period": tot["date"], "numerator": tot["value"],
        "source_ids": tot["source_id"], "status": np.where(tot["prov"], "provisional", "final"),
        "note": np.where(tot["hot_blank"], NOTE_HOTSPOT_BLANK, None)}))
    regional = pd.concat([by_type, totals], ignore_index=True)
    return pd.concat([
        regional,
        aggregate(regional, members["regione->ripartizione"], "regione", "somma delle regioni"),
        aggregate(regional, members["regione->italia"], "regione", "somma delle regioni"),
    ], ignore_index=True)


def _population_before(events: pd.DataFrame, stock: pd.DataFrame) -> pd.DataFrame:
    """For each (territory, date) of `events`, the population at the nearest 1 January on or before it."""
    jan = stock[stock["date"].str.endswith("-01-01")].copy()
    jan["_d"] = pd.to_datetime(jan["date"])
    ev = events.copy()
    ev["_d"] = pd.to_datetime(ev["period"])
    ev = ev.sort_values("_d", kind="mergesort")
    jan = jan.sort_values("_d", kind="mergesort")
    m = pd.merge_asof(ev, jan[["territory_code", "_d", "date", "value", "source_id", "status"]]
                      .rename(columns={"date": "pop_date", "value": "pop", "source_id": "pop_source",
                                       "status": "pop_status"}),
                      on="_d", by="territory_code", direction="backward")
    return m.drop(columns="_d")


def presences_per_1000(regional_totals: pd.DataFrame, tstock: pd.DataFrame, meta: dict,
                       members: dict) -> pd.DataFrame:
    ind = "reception_presences_per_1000_residents"
    pop = first_by_priority(restrict_sources(tstock[tstock["territory_level"] == "regione"], meta, ind),
                            ["territory_code", "date"])
    m = _population_before(regional_totals, pop)
    m = m[m["pop"].notna()]
    note = ("presenze al " + m["period"].astype("string") + "; residenti al " + m["pop_date"].astype("string")
            + " (" + m["pop_source"].astype("string") + ")")
    rates = parts(pd.DataFrame({
        "indicator_id": ind, "territory_code": m["territory_code"], "territory_level": "regione",
        "period": m["period"], "numerator": m["numerator"], "denominator": m["pop"],
        "source_ids": union_ids(m["source_ids"], m["pop_source"]),
        "status": any_provisional(m["status"], m["pop_status"]),
        "census_break": False, "note": join_notes(note, m["note"])}))
    return pd.concat([
        rates,
        aggregate(rates, members["regione->ripartizione"], "regione", "somma delle regioni (numeratori e denominatori)"),
        aggregate(rates, members["regione->italia"], "regione", "somma delle regioni (numeratori e denominatori)"),
    ], ignore_index=True)


def sai_share(regional: pd.DataFrame, members: dict) -> pd.DataFrame:
    key = ["territory_code", "period"]
    sai = regional[regional["category"] == "second_level"]
    tot = regional[regional["category"] == TOTAL]
    m = sai.merge(tot, on=key, suffixes=("_s", "_t"))
    rates = parts(pd.DataFrame({
        "indicator_id": "sai_share_of_reception_presences", "territory_code": m["territory_code"],
        "territory_level": "regione", "period": m["period"], "numerator": m["numerator_s"],
        "denominator": m["numerator_t"], "source_ids": m["source_ids_s"],
        "status": any_provisional(m["status_s"], m["status_t"]), "note": join_notes(m["note_s"], m["note_t"])}))
    return pd.concat([
        rates,
        aggregate(rates, members["regione->ripartizione"], "regione", "somma delle regioni"),
        aggregate(rates, members["regione->italia"], "regione", "somma delle regioni"),
    ], ignore_index=True)


def reception_presences_all(rp: pd.DataFrame, tstock: pd.DataFrame, meta: dict, members: dict) -> pd.DataFrame:
    pres = presences(rp, members)
    regional = pres[pres["territory_level"] == "regione"]
    regional_totals = regional[regional["category"] == TOTAL]
    return pd.concat([pres, presences_per_1000(regional_totals, tstock, meta, members),
                      sai_share(regional, members)], ignore_index=True)


# --------------------------------------------------------------------------------------------------
# ANAC contracts


def anac_ids_by_year(registry: pd.DataFrame) -> dict[int, str]:
    rows = registry[registry["dataset"] == ANAC_DATASET]
    years = rows["reference_date"].astype(str).str[:4].astype(int)
    return {y: ";".join(sorted(g)) for y, g in rows["id"].groupby(years)}


def contracts(summary: pd.DataFrame, registry: pd.DataFrame, territories: pd.DataFrame,
              members: dict) -> pd.DataFrame:
    """Lots per province (place of execution) x year x category and in total; a province and year
    without any lot in the dataset counts 0 (the dataset lists every selected lot)."""
    ids = anac_ids_by_year(registry)
    years = sorted(set(int(y) for y in summary["year"]) & set(ids))
    provinces = sorted(territories.loc[territories["territory_level"] == "provincia", "territory_code"])
    out = []
    for level, codes in (("provincia", provinces), ("italia", ["IT"])):
        rows = summary[summary["territory_level"] == level]
        grid = pd.MultiIndex.from_product([codes, years, CONTRACT_CATEGORIES],
                                          names=["territory_code", "year", "category"]).to_frame(index=False)
        grid["territory_code"] = grid["territory_code"].astype(STR)
        rows = rows.assign(year=rows["year"].astype(int), category=rows["category"].astype(STR))
        g = grid.merge(rows[["territory_code", "year", "category", "contracts", "contracts_buyer_name",
                             "contracts_unknown_province"]], on=["territory_code", "year", "category"], how="left")
        g["contracts"] = g["contracts"].astype("float64").fillna(0.0)
        g["buyer"] = g["contracts_buyer_name"].astype("float64").fillna(0.0)
        g["unknown"] = g["contracts_unknown_province"].astype("float64").fillna(0.0)
        tot = g.groupby(["territory_code", "year"], as_index=False)[["contracts", "buyer", "unknown"]].sum()
        tot["category"] = TOTAL
        g = pd.concat([g, tot], ignore_index=True)
        note = pd.Series(np.where(g["contracts"] == 0, "nessun lotto nel dataset per l'anno", None), dtype="string")
        by_name = pd.Series(np.where(g["buyer"] > 0, "di cui " + g["buyer"].astype(int).astype(str)
                                     + " attribuiti dal nome dell'ente appaltante (senza luogo di esecuzione)",
                                     None), dtype="string")
        unknown = pd.Series(np.where((level == "italia") & (g["unknown"] > 0), "di cui "
                                     + g["unknown"].astype(int).astype(str) + " senza provincia attribuibile",
                                     None), dtype="string")
        out.append(parts(pd.DataFrame({
            "indicator_id": "reception_contracts", "territory_code": g["territory_code"], "territory_level": level,
            "period": g["year"].astype(str), "category": g["category"], "numerator": g["contracts"],
            "source_ids": g["year"].map(ids), "status": "final", "note": join_notes(note, by_name, unknown)})))
    prov = out[0]
    regions = aggregate(prov, members["provincia->regione"], "provincia", "somma delle province")
    rips = aggregate(regions, members["regione->ripartizione"], "regione", "somma delle regioni")
    return pd.concat([*out, regions, rips], ignore_index=True)


# --------------------------------------------------------------------------------------------------
# PERMSOGG1


def permits(pp: pd.DataFrame, tstock: pd.DataFrame, meta: dict, members: dict) -> pd.DataFrame:
    world = pp[pp["is_total"]]
    comparable = world["comparable_to_current_province"].astype(bool)
    counts = parts(pd.DataFrame({
        "indicator_id": "protection_permits", "territory_code": world["territory_code"],
        "territory_level": world["territory_level"], "period": world["year"].astype(str), "sex": world["sex"],
        "numerator": world["value"].astype("float64"), "source_ids": world["source_id"], "status": world["status"],
        # An old-scheme province is another territory than today's: it never enters a sum of provinces.
        "aggregable": comparable, "note": world["territory_note"]}))

    # Rate: only where the permits' territory is today's (a current-scheme population otherwise).
    ind = "protection_permits_per_1000_residents"
    w = world[(world["sex"] == "totale") & comparable].copy()
    w["year"] = w["year"].astype(int)
    pop = first_by_priority(restrict_sources(tstock, meta, ind), ["territory_code", "date"])
    pop = pop[pop["date"].str.endswith("-01-01")]
    pop = pop.assign(year=pop["date"].str[:4].astype(int))
    start = pop[["territory_code", "year", "value", "source_id", "status"]]
    end = start.assign(year=start["year"] - 1)
    m = (w.merge(start, on=["territory_code", "year"], suffixes=("", "_start"))
         .merge(end, on=["territory_code", "year"], suffixes=("", "_end")))
    m = m[m["territory_level"] != "ripartizione"]
    span = m["year"] == CENSUS_BREAK_YEAR
    note = ("popolazione media = (1° gennaio " + m["year"].astype(str) + " + 1° gennaio "
            + (m["year"] + 1).astype(str) + ") / 2").astype("string")
    rates = parts(pd.DataFrame({
        "indicator_id": ind, "territory_code": m["territory_code"], "territory_level": m["territory_level"],
        "period": m["year"].astype(str), "numerator": m["value"].astype("float64"),
        "denominator": (m["value_start"].astype("float64") + m["value_end"].astype("float64")) / 2,
        "source_ids": union_ids(m["source_id"], m["source_id_start"], m["source_id_end"]),
        "status": any_provisional(m["status"], m["status_start"], m["status_end"]),
        "census_break": span,
        "note": join_notes(note, pd.Series(np.where(span, "a cavallo della ricostruzione censuaria del 1° gennaio "
                                                    "2022", None), index=m.index, dtype="string"))}))
    rates = pd.concat([rates, aggregate(rates, members["regione->ripartizione"], "regione",
                                        "somma delle regioni (numeratori e denominatori)")], ignore_index=True)

    countries = pp[~pp["is_total"] & (pp["sex"] == "totale")]
    tot = world[world["sex"] == "totale"][["territory_code", "year", "value"]].rename(columns={"value": "world"})
    c = countries.merge(tot, on=["territory_code", "year"])
    by_country = parts(pd.DataFrame({
        "indicator_id": "protection_permits_by_country", "territory_code": c["territory_code"],
        "territory_level": c["territory_level"], "period": c["year"].astype(str), "category": c["country_code"],
        "numerator": c["value"].astype("float64"), "denominator": c["world"].astype("float64"),
        "source_ids": c["source_id"], "status": c["status"],
        "aggregable": c["comparable_to_current_province"].astype(bool),
        "note": join_notes(c["country_name"].astype("string"), c["territory_note"].astype("string"))}))
    return pd.concat([counts, rates, by_country], ignore_index=True)
