"""demo.istat.it demographic balances: P2 (all residents) and P3 (foreign citizens) per comune for one
year, and the monthly balance per province.

P2 and P3 have a title line, a BOM, `;`, 3 x 14 (P3: 15) numeric columns named "<item> - <sex>", an
"Informazioni" column (p = provisional) and a trailing note. The items "in corso di validazione"
carry a "(v)" that P2 writes after the sex and P3 before it, so headers are matched after removing
it. The note says the census population at 1 January is final while the rest is provisional: the
population_start rows are "final", the others follow the row's flag.

The monthly balance has no title and does not state its month: the period comes from the registry
(reference_date, with the reasoning in its note) and every row says period_inferred = True.
"""

from __future__ import annotations

import re

import pandas as pd

from insiena.ingest.istat_csv import read_official_csv
from insiena.ingest.istat_posas import known_codes, title_date
from insiena.schemas.istat import (BILANCIO_P2_COLUMNS, BILANCIO_P3_COLUMNS, ITALIAN_SEXES, MONTHLY_COLUMNS,
                                   MonthlyBalanceRaw, P2Raw, P3Raw)
from insiena.validation import reject, validate

FORMATS = {"bilancio_p2": (P2Raw, BILANCIO_P2_COLUMNS, "totale"),
           "bilancio_p3": (P3Raw, BILANCIO_P3_COLUMNS, "stranieri")}


def normalise_header(header: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\s*\(v\)", "", header)).strip()


def parse_bilancio(path, source_id: str, meta: dict, dataset: str, *, provinces: set[str] | None = None,
                   comuni: tuple[str, set[str]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (balance rows, comune names) for a P2 or P3 file: one row per comune x measure x sex.

    provinces: known province codes (a comune code starts with its province's); comuni: (source id,
    codes) of the year's comune list (P2) that a P3 file must not go beyond. A code outside them is
    a typo that no later step would notice outside the configured provinces.
    """
    model, columns, citizenship = FORMATS[dataset]
    raw = read_official_csv(path, name=source_id, sep=";", title=True, normalise=normalise_header,
                            expected=["Codice comune", "Comune", *columns.values(), "Informazioni"])
    foreign = "stranier" in (raw.title or "").lower()
    if foreign != (citizenship == "stranieri"):
        reject(source_id, raw.source, pd.DataFrame([{"row": "1", "column": "", "value": raw.title,
               "check": f"title of a {'P3 (foreign citizens)' if foreign else 'P2 (all residents)'} file"}]),
               what=f"file does not match its registry dataset {dataset}")
    df = validate(raw.frame, model, name=source_id, source=raw.source, row_offset=raw.lines)
    code = df["Codice comune"]
    checks = []
    if provinces is not None:
        checks.append((~code.str[:3].isin(provinces), "a comune of a province of config/territory_crosswalk.csv"))
    if comuni is not None:
        checks.append((~code.isin(comuni[1]), f"a comune code of {comuni[0]} (the comuni of the same year)"))
    for bad, check in checks:
        if bad.any():
            reject(source_id, raw.source, pd.DataFrame({"row": raw.lines[bad].astype(str).to_numpy(),
                                                        "column": "Codice comune", "check": check,
                                                        "value": code[bad].to_numpy()}),
                   what="unknown comune codes")
    year = title_date(raw, source_id, meta["reference_date"])[:4]
    flagged = df["Informazioni"].fillna("").eq("p").map({True: "provisional", False: meta["status"]})
    parts = []
    for (measure, sex), col in columns.items():
        status = "final" if measure == "population_start" else flagged
        parts.append(pd.DataFrame({"territory_code": df["Codice comune"].to_numpy(), "measure": measure,
                                   "sex": sex, "value": df[col].to_numpy(),
                                   "status": pd.Series(status, index=df.index).to_numpy()}))
    out = pd.concat(parts, ignore_index=True)
    out = out.assign(territory_level="comune", period=year, citizenship=citizenship, source_id=source_id,
                     derived=False, period_inferred=False)
    out["value"] = out["value"].astype("Int64")
    names = pd.DataFrame({"territory_code": df["Codice comune"], "territory_name": df["Comune"]})
    return out, names


def parse_monthly_balance(path, source_id: str, meta: dict, codes_by_level: dict[str, set[str]]) -> pd.DataFrame:
    raw = read_official_csv(path, name=source_id, sep=",", title=False,
                            expected=["Codice provincia", "Provincia", "Sesso", *MONTHLY_COLUMNS.values()])
    df = validate(raw.frame, MonthlyBalanceRaw, name=source_id, source=raw.source, row_offset=raw.lines)
    known_codes(df, "Codice provincia", codes_by_level["provincia"], "provincia", raw, source_id)
    period = meta["reference_date"]
    if not re.fullmatch(r"\d{4}-\d{2}", period):
        reject(source_id, raw.source, pd.DataFrame([{"row": "", "column": "reference_date", "value": period,
               "check": "a month (YYYY-MM) in config/sources.csv"}]), what="no reference month")
    parts = [pd.DataFrame({"territory_code": df["Codice provincia"].to_numpy(), "measure": measure,
                           "sex": df["Sesso"].map(ITALIAN_SEXES).to_numpy(), "value": df[col].to_numpy()})
             for measure, col in MONTHLY_COLUMNS.items()]
    out = pd.concat(parts, ignore_index=True)
    out = out.assign(territory_level="provincia", period=period, citizenship="totale", source_id=source_id,
                     status=meta["status"], derived=False, period_inferred=True)
    out["value"] = out["value"].astype("Int64")
    return out


def balance_population(balance: pd.DataFrame) -> pd.DataFrame:
    """The opening and closing stocks of a yearly balance as population rows."""
    stocks = balance[balance["measure"].isin(["population_start", "population_end"])
                     & balance["period"].str.fullmatch(r"\d{4}")]
    start = stocks["measure"] == "population_start"
    out = stocks.assign(date=(stocks["period"] + "-01-01").where(start, stocks["period"] + "-12-31"),
                        release=pd.Series("census_count", index=stocks.index).where(start, "balance_end"),
                        age=pd.array([pd.NA] * len(stocks), dtype="Int64"))
    return out.drop(columns=["measure", "period", "period_inferred"])
