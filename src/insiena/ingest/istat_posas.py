"""demo.istat.it stocks by single age and sex at 1 January: POSAS, the Italia web table, STRASA.

POSAS (all residents) has a title line, `;`, quoted codes, ages 0..100 (100 = "100 and over") and a
999 total row; up to 2024 it also splits each sex by marital status, from 2025 it does not and ends
with a note line. The Italia table has no title, `,`, every field quoted, "100 e oltre" and
"Totale". STRASA (foreign residents, English edition) has `,`, Males and Females but no total column.
Total rows are kept as age <NA> (all ages) and are never added to the single ages.
"""

from __future__ import annotations

import re

import pandas as pd

from insiena.ingest.istat_csv import RawTable, read_official_csv
from insiena.schemas.istat import ItalyByAgeRaw, PosasMaritalRaw, PosasRaw, StrasaRaw
from insiena.validation import reject, validate

POSAS_LEVELS = {"Codice provincia": "provincia", "Codice regione": "regione", "Codice ripartizione": "ripartizione"}
TITLE_DATES = [(re.compile(r"al 1° gennaio (\d{4})"), "{}-01-01"),
               (re.compile(r"on 1st January (\d{4})"), "{}-01-01"),
               (re.compile(r"al 31 dicembre (\d{4})"), "{}-12-31")]


def title_date(raw: RawTable, name: str, expected: str | None = None) -> str:
    """Reference date written in the title line; it must agree with the registry."""
    for pattern, fmt in TITLE_DATES:
        match = pattern.search(raw.title or "")
        if match:
            date = fmt.format(match.group(1))
            break
    else:
        _title_failure(raw, name, "title names the reference date", raw.title or "")
    if expected is not None and date != expected:
        _title_failure(raw, name, f"reference date {expected} of config/sources.csv", date)
    return date


def title_status(raw: RawTable, name: str, expected: str) -> str:
    status = "provisional" if "provvisori" in (raw.title or "").lower() else "final"
    if status != expected:
        _title_failure(raw, name, f"status '{expected}' of config/sources.csv", raw.title or "")
    return status


def _title_failure(raw: RawTable, name: str, check: str, value: str) -> None:
    reject(name, raw.source, pd.DataFrame([{"row": "1", "column": "", "check": check, "value": value}]),
           what="title line does not match the registry")


def known_codes(df: pd.DataFrame, column: str, codes: set[str], level: str, raw: RawTable, name: str) -> None:
    """Territory codes must exist in config/territory_crosswalk.csv at the file's level."""
    bad = df.index[~df[column].isin(codes)]
    if len(bad):
        reject(name, raw.source, pd.DataFrame({"row": raw.lines[bad].astype(str).to_numpy(), "column": column,
                                               "check": f"a {level} code of config/territory_crosswalk.csv",
                                               "value": df.loc[bad, column].to_numpy()}),
               what="unknown territory codes")


def _tidy(df: pd.DataFrame, code: pd.Series, age: pd.Series, values: dict[str, str], **const) -> pd.DataFrame:
    parts = [pd.DataFrame({"territory_code": code.to_numpy(), "age": age.to_numpy(), "sex": sex,
                           "value": df[col].to_numpy()}) for col, sex in values.items()]
    out = pd.concat(parts, ignore_index=True)
    for key, value in const.items():
        out[key] = value
    out["age"] = out["age"].astype("Int64")
    out["value"] = out["value"].astype("Int64")
    return out


def parse_posas(path, source_id: str, meta: dict, codes_by_level: dict[str, set[str]]) -> pd.DataFrame:
    raw = read_official_csv(path, name=source_id, sep=";", title=True)
    first = raw.frame.columns[0]
    if first not in POSAS_LEVELS:
        reject(source_id, raw.source, pd.DataFrame([{"row": "2", "column": first, "check":
               "first header is 'Codice provincia', 'Codice regione' or 'Codice ripartizione'", "value": first}]),
               what="unknown territorial level")
    level = POSAS_LEVELS[first]
    model = PosasMaritalRaw if "Celibi" in raw.frame.columns else PosasRaw
    df = validate(raw.frame, model, name=source_id, source=raw.source, row_offset=raw.lines)
    known_codes(df, first, codes_by_level[level], level, raw, source_id)
    date = title_date(raw, source_id, meta["reference_date"])
    status = title_status(raw, source_id, meta["status"])
    age = df["Età"].where(df["Età"] != 999)
    return _tidy(df, df[first], age, {"Totale": "totale", "Totale maschi": "maschi", "Totale femmine": "femmine"},
                 territory_level=level, date=date, citizenship="totale", source_id=source_id, status=status,
                 release="posas", derived=False)


def parse_italy_by_age(path, source_id: str, meta: dict) -> pd.DataFrame:
    """The Italia table does not state its date: it comes from the registry (checked by the
    consistency report against the sum of the regional POSAS of that date)."""
    raw = read_official_csv(path, name=source_id, sep=",", title=False)
    df = validate(raw.frame, ItalyByAgeRaw, name=source_id, source=raw.source, row_offset=raw.lines)
    label = df["Età"].astype("string")
    age = pd.to_numeric(label.str.extract(r"^(\d+)", expand=False), errors="coerce").astype("Int64")
    code = pd.Series("IT", index=df.index)
    return _tidy(df, code, age, {"Totale": "totale", "Totale maschi": "maschi", "Totale femmine": "femmine"},
                 territory_level="italia", date=meta["reference_date"], citizenship="totale",
                 source_id=source_id, status=meta["status"], release="posas", derived=False)


def parse_strasa(path, source_id: str, meta: dict, codes_by_level: dict[str, set[str]]) -> pd.DataFrame:
    """STRASA has no total column: the totale rows are Males + Females (marked derived)."""
    raw = read_official_csv(path, name=source_id, sep=",", title=True)
    df = validate(raw.frame, StrasaRaw, name=source_id, source=raw.source, row_offset=raw.lines)
    known_codes(df, "Province code", codes_by_level["provincia"], "provincia", raw, source_id)
    date = title_date(raw, source_id, meta["reference_date"])
    age = df["Age"].where(df["Age"] != 999)
    df = df.assign(_total=df["Males"] + df["Females"])
    out = _tidy(df, df["Province code"], age, {"Males": "maschi", "Females": "femmine", "_total": "totale"},
                territory_level="provincia", date=date, citizenship="stranieri", source_id=source_id,
                status=meta["status"], release="posas")
    out["derived"] = out["sex"] == "totale"
    return out
