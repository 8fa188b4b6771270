"""Build the national ISTAT tables: territories, population, demographic_balance and the consistency
report, in one pass over every registered ISTAT file.

Which figure to use when ISTAT publishes two for one date
---------------------------------------------------------
At 1 January 2025 the province of Siena has 259,826 residents in POSAS 2025 (release "posas",
status provisional: the register count before the census) and 259,460 in the 2025 balance P2
(release "census_count", final: "Popolazione censita al 1° gennaio", the census count that opens
the balance; it is also the basis of P3 and of SDMX 29_316 at 1/1/2025). The report uses:

- totals at 1 January 2025 (all residents and foreigners): release census_count (P2, P3), final and
  consistent with the 2025 flows and with SDMX 29_316;
- structure by age at 1 January 2025: POSAS 2025 (the only source by age), labelled provisional,
  with shares computed within POSAS (numerator and denominator from the same source_id), never
  dividing a POSAS age group by a census_count total;
- 1 January 2019-2024: POSAS (final) and, for comuni, SDMX 22_289 / 29_316; they agree where they
  overlap (see data/processed/checks/consistency.csv).

The 2021 -> 2022 step of every series crosses the 2021 census recount: rows dated 2022-01-01 have
census_break = True and the consistency report lists the step per territory; it is not a one-year
change.

Rows summed by INSIEna (sums of comuni for P2/P3, of provinces for STRASA, zone distretto, or the
STRASA total = Males + Females) have derived = True; files' own aggregate rows are kept as published
and compared with the sums, never replaced by them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from insiena.consistency import build_consistency
from insiena.errors import ConfigError, RegistryError
from insiena.ingest.istat_bilancio import balance_population, parse_bilancio, parse_monthly_balance
from insiena.ingest.istat_csv import read_official_csv
from insiena.ingest.istat_posas import parse_italy_by_age, parse_posas, parse_strasa
from insiena.ingest.istat_sdmx import parse_codelist, parse_sdmx
from insiena.io import write_csv, write_parquet
from insiena.schemas.istat import (BALANCE_KEY, POPULATION_KEY, ConsistencyChecks, DemographicBalance, Population,
                                   Territories, ZoneDistrettoRaw)
from insiena.territories import (aggregate, build_territories, check_comuni_present, codes_by_level, crosswalk,
                                 label, letter_codes, level_of_codes, parent_codes, zone_assignments)
from insiena.validation import reject, relpath, validate

log = logging.getLogger(__name__)

# ISTAT's population series restart from the 2021 census count at 1 January 2022.
CENSUS_BREAK_DATE = "2022-01-01"
ABOVE_COMUNE = ["zona_distretto", "provincia", "regione", "ripartizione", "italia"]
POPULATION_COLUMNS = ["territory_code", "territory_name", "territory_level", "date", "sex", "age", "citizenship",
                      "value", "source_id", "status", "release", "derived", "census_break"]
BALANCE_COLUMNS = ["territory_code", "territory_name", "territory_level", "period", "measure", "sex", "citizenship",
                   "value", "source_id", "status", "derived", "period_inferred"]
# Keys of a derived sum; its status is provisional if any part is (see territories.aggregate).
POP_KEYS = ["date", "sex", "age", "citizenship", "source_id", "release"]
BAL_KEYS = ["period", "measure", "sex", "citizenship", "source_id", "period_inferred"]


def _one(sources: dict[str, dict], dataset: str) -> tuple[str, dict]:
    ids = [i for i, m in sources.items() if m["dataset"] == dataset]
    if len(ids) != 1:
        raise RegistryError(f"config/sources.csv: the ISTAT ingest needs exactly one file of dataset '{dataset}', "
                            f"found {len(ids)} ({', '.join(ids) or 'none'})")
    return ids[0], sources[ids[0]]


def _all(sources: dict[str, dict], dataset: str) -> list[tuple[str, dict]]:
    return sorted((i, m) for i, m in sources.items() if m["dataset"] == dataset)


def _derive(rows: pd.DataFrame, territories: pd.DataFrame, from_level: str, to_levels: list[str],
            keys: list[str]) -> pd.DataFrame:
    summed = aggregate(rows[rows["territory_level"] == from_level], territories, from_level, to_levels, keys)
    return summed.assign(derived=True)


def _present(rows: pd.DataFrame, codes: list[str], *, name: str, source: str, what: str) -> None:
    """Each configured territory appears at every date a province- or region-level file covers."""
    failures = []
    for date, group in rows.groupby("date"):
        for code in sorted(set(codes) - set(group["territory_code"])):
            failures.append({"row": "", "column": "territory_code", "value": code,
                             "check": f"every configured {what} present at {date}"})
    if failures:
        reject(name, source, pd.DataFrame(failures), what=f"configured {what} missing")


def _former_comuni(codes: set[str], current: set[str], codelist: pd.Series, source_ids: str) -> pd.DataFrame:
    former = sorted(codes - current)
    unnamed = [c for c in former if c not in codelist.index]
    if unnamed:
        reject("territories", source_ids, pd.DataFrame({"row": "", "column": "REF_AREA", "value": unnamed,
                                                          "check": "a comune of the 2025 list or of ITTER107"}),
               what="comuni without a name")
    return pd.DataFrame({"territory_code": former, "territory_name": [codelist[c] for c in former],
                         "current": False, "source_id": "3_dimension_cl_itter107"})


def read_zone_mapping(path, source_id: str) -> tuple[pd.DataFrame, str, pd.Series]:
    raw = read_official_csv(path, name=source_id, sep=",", title=False)
    df = validate(raw.frame, ZoneDistrettoRaw, name=source_id, source=raw.source, row_offset=raw.lines)
    return df, raw.source, raw.lines


def build_istat(sources: dict[str, dict], *, crosswalk_path: str | Path, provinces: list[str],
                zone_distretto: dict[str, str], territories_out: str | Path, population_out: str | Path,
                balance_out: str | Path, consistency_out: str | Path) -> None:
    """Parse every ISTAT source and write the four outputs.

    sources: source_id -> {"path", "dataset", "reference_date", "status"} (from config/sources.csv);
    zone_distretto: province -> source id of its comune -> zona distretto mapping.
    """
    cw = crosswalk(crosswalk_path)
    letters, levels, parents, by_level = letter_codes(cw), level_of_codes(cw), parent_codes(cw), codes_by_level(cw)
    datasets = {i: m["dataset"] for i, m in sources.items()}

    cl_id, cl_meta = _one(sources, "itter107")
    codelist = parse_codelist(cl_meta["path"], cl_id)

    balances, names = [], {}
    p2_id = _one(sources, "bilancio_p2")[0]
    for dataset in ("bilancio_p2", "bilancio_p3"):
        for sid, meta in _all(sources, dataset):
            year_list = (p2_id, set(names[p2_id]["territory_code"])) if dataset == "bilancio_p3" else None
            rows, comuni = parse_bilancio(meta["path"], sid, meta, dataset, provinces=by_level["provincia"],
                                          comuni=year_list)
            balances.append(rows)
            names[sid] = comuni
    current = names[p2_id]
    for sid, comuni in names.items():
        if not comuni.set_index("territory_code")["territory_name"].equals(
                current.set_index("territory_code")["territory_name"]):
            log.warning("%s: comune list or names differ from %s; names are taken from %s", sid, p2_id, p2_id)

    sdmx = [parse_sdmx(m["path"], sid, m, ds, letters, levels, parents, codelist)
            for ds in ("sdmx_22_289", "sdmx_29_316_fjan") for sid, m in _all(sources, ds)]
    sdmx_comuni = set().union(*(set(s.loc[s["territory_level"] == "comune", "territory_code"]) for s in sdmx))
    current_codes = set(current["territory_code"])
    former = _former_comuni(sdmx_comuni, current_codes, codelist, ";".join(s["source_id"].iloc[0] for s in sdmx))
    comuni = pd.concat([current.assign(current=True, source_id=p2_id)] + ([former] if len(former) else []),
                       ignore_index=True)

    zones, zone_sources = [], {}
    for province, zid in sorted(zone_distretto.items()):
        if zid not in sources:
            raise ConfigError(f"config: key 'zone_distretto.{province}': '{zid}' is not an input of this job")
        mapping, zsource, zlines = read_zone_mapping(sources[zid]["path"], zid)
        zones.append(zone_assignments(mapping, province, comuni[comuni["current"]], name=zid, source=zsource,
                                      lines=zlines))
        zone_sources[province] = zid
    zones = pd.concat(zones, ignore_index=True) if zones else pd.DataFrame(
        columns=["comune_code", "zona_distretto_code", "zona_distretto_name"], dtype="string")
    territories = build_territories(cw, comuni.astype({"territory_code": "string", "territory_name": "string"}),
                                    zones, zone_sources)
    territories = validate(territories, Territories, name="territories", source=relpath(territories_out))

    # Stocks by age and sex.
    stocks = []
    for sid, meta in _all(sources, "posas"):
        stocks.append(parse_posas(meta["path"], sid, meta, by_level))
    for sid, meta in _all(sources, "posas_italia"):
        stocks.append(parse_italy_by_age(meta["path"], sid, meta))
    for sid, meta in _all(sources, "strasa"):
        stocks.append(parse_strasa(meta["path"], sid, meta, by_level))
    monthly = [parse_monthly_balance(m["path"], sid, m, by_level) for sid, m in _all(sources, "bilancio_mensile")]

    # Presence of every configured territory.
    region_of = {p: parents[p] for p in provinces}
    for s in stocks:
        sid, level = s["source_id"].iloc[0], s["territory_level"].iloc[0]
        wanted = {"provincia": provinces, "regione": sorted(set(region_of.values())), "italia": ["IT"],
                  "ripartizione": sorted({parents[r] for r in region_of.values()})}[level]
        _present(s, wanted, name=sid, source=relpath(sources[sid]["path"]), what=level)
    for m in monthly:
        sid = m["source_id"].iloc[0]
        _present(m.assign(date=m["period"]), provinces, name=sid, source=relpath(sources[sid]["path"]),
                 what="provincia")
    for s in sdmx:
        sid = s["source_id"].iloc[0]
        com = s[(s["territory_level"] == "comune") & (s["sex"] == "totale")]
        pub = s[(s["territory_level"] == "provincia") & (s["sex"] == "totale")]
        check_comuni_present(com, territories, provinces, date_col="date", published=pub, name=sid,
                             source=relpath(sources[sid]["path"]))
    for b in balances:
        sid = b["source_id"].iloc[0]
        com = b[(b["measure"] == "population_start") & (b["sex"] == "totale")]
        check_comuni_present(com, territories, provinces, date_col="period", published=None, name=sid,
                             source=relpath(sources[sid]["path"]))

    # Derived aggregates where no file of the same release publishes the level.
    balance = pd.concat(balances + monthly, ignore_index=True)
    bal_derived = [_derive(balance, territories, "comune", ABOVE_COMUNE, BAL_KEYS),
                   _derive(balance, territories, "provincia", ["regione", "ripartizione", "italia"], BAL_KEYS)]
    balance = pd.concat([balance.assign(derived=False), *bal_derived], ignore_index=True)

    stock_pop = pd.concat(stocks + sdmx + [balance_population(b) for b in balances], ignore_index=True)
    derived = [
        _derive(stock_pop[stock_pop["release"].isin(["census_count", "balance_end"])], territories, "comune",
                ABOVE_COMUNE, POP_KEYS),
        _derive(stock_pop[stock_pop["release"] == "sdmx"], territories, "comune", ["zona_distretto"], POP_KEYS),
        _derive(stock_pop[stock_pop["release"] == "posas"], territories, "regione", ["ripartizione", "italia"],
                POP_KEYS),
        _derive(stock_pop[stock_pop["source_id"].map(datasets) == "strasa"], territories, "provincia",
                ["regione", "ripartizione", "italia"], POP_KEYS),
    ]
    derived = pd.concat(derived, ignore_index=True)
    same = ["territory_code", "date", "sex", "age", "citizenship", "release"]
    seen = derived[same].merge(stock_pop[same].drop_duplicates(), how="left", indicator=True)["_merge"]
    derived = derived[(seen == "left_only").to_numpy()]
    population = pd.concat([stock_pop, derived], ignore_index=True)
    population = label(population, territories)
    population["census_break"] = population["date"] == CENSUS_BREAK_DATE
    population = population.reindex(columns=POPULATION_COLUMNS)
    population = validate(population, Population, name="population", source=relpath(population_out))

    balance = label(balance, territories).reindex(columns=BALANCE_COLUMNS)
    balance = validate(balance, DemographicBalance, name="demographic_balance", source=relpath(balance_out))

    checks = build_consistency(population, balance, territories, datasets)
    checks = validate(checks, ConsistencyChecks, name="consistency", source=relpath(consistency_out))

    write_parquet(territories_out, territories, sort_by=["territory_level", "territory_code"])
    write_parquet(population_out, population, sort_by=POPULATION_KEY)
    write_parquet(balance_out, balance, sort_by=BALANCE_KEY)
    write_csv(consistency_out, checks, sort_by=["check", "territory_code", "date", "source_a", "source_b"])
    log.info("territories %d rows, population %d, demographic_balance %d, consistency %d (%d mismatches)",
             len(territories), len(population), len(balance), len(checks), (checks["status"] == "mismatch").sum())
