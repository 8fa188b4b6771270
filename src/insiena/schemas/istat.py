"""pandera models of the ISTAT demographic files and of the tables built from them.

Raw models keep the official headers as aliases, so a failure names the column an analyst sees in
the file. Relational checks (males + females = total, single ages add up to the total row, balance
identities, sums of parts equal the published aggregate) return a boolean frame that is False only
in the failing cells: `insiena.validation.validate` then reports the exact column, not the whole row.
On the large processed tables they return a row mask instead (a full-frame mask costs pandera a pass
over every column, and a failure there is a bug of ours, not of an input file).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from insiena.schemas.registry import LEVELS

SEXES = ["totale", "maschi", "femmine"]
CITIZENSHIPS = ["totale", "stranieri"]
STATUSES = ["final", "provisional"]
# Which publication a population figure belongs to, where ISTAT gives two figures for one date:
# census_count = "Popolazione censita al 1° gennaio" of the demographic balance (census-based, final);
# balance_end = "Popolazione al 31 dicembre" of the balance (registers, provisional);
# posas = demo.istat.it stock by age and sex (POSAS, STRASA, Italia by age);
# sdmx = esploradati.istat.it dataflows (22_289, 29_316).
RELEASES = ["census_count", "balance_end", "posas", "sdmx"]

# Items of the demographic balance: official wording (P2, P3, monthly) -> measure id, and whether the
# item is a count (never negative) rather than a balance.
BALANCE_ITEMS = [
    ("Popolazione censita al 1° gennaio", "population_start", True),
    ("Popolazione inizio periodo", "population_start", True),
    ("Nati vivi", "births", True),
    ("Morti", "deaths", True),
    ("Saldo naturale", "natural_balance", False),
    ("Immigrati da altro comune", "internal_immigration", True),
    ("Emigrati per altro comune", "internal_emigration", True),
    ("Saldo migratorio interno", "internal_net_migration", False),
    ("Immigrati dall'estero", "foreign_immigration", True),
    ("Emigrati per l'estero", "foreign_emigration", True),
    ("Saldo migratorio con l'estero", "foreign_net_migration", False),
    ("Acquisizioni della cittadinanza italiana", "citizenship_acquisitions", True),
    ("Unità in più/meno dovute a variazioni territoriali", "territorial_changes", False),
    ("Popolazione al 31 dicembre", "population_end", True),
    ("Popolazione fine periodo", "population_end", True),
    ("Iscritti in anagrafe per altri motivi", "other_registrations", True),
    ("Cancellati dall'anagrafe per altri motivi", "other_cancellations", True),
]
MEASURES = list(dict.fromkeys(m for _, m, _ in BALANCE_ITEMS))
COUNT_MEASURES = sorted({m for _, m, count in BALANCE_ITEMS if count})
P2_ITEMS = [i for i in BALANCE_ITEMS if i[1] != "citizenship_acquisitions" and "periodo" not in i[0]]
P3_ITEMS = [i for i in BALANCE_ITEMS if "periodo" not in i[0]]
# The monthly file capitalises "Comune" and names the stocks after the period, not the date.
MONTHLY_COLUMNS = {
    "population_start": "Popolazione inizio periodo",
    "births": "Nati vivi",
    "deaths": "Morti",
    "natural_balance": "Saldo naturale",
    "internal_immigration": "Immigrati da altro Comune",
    "internal_emigration": "Emigrati per altro Comune",
    "internal_net_migration": "Saldo migratorio interno",
    "foreign_immigration": "Immigrati dall'estero",
    "foreign_emigration": "Emigrati per l'estero",
    "foreign_net_migration": "Saldo migratorio con l'estero",
    "territorial_changes": "Unità in più/meno dovute a variazioni territoriali",
    "population_end": "Popolazione fine periodo",
}
ITALIAN_SEXES = {"Maschi": "maschi", "Femmine": "femmine", "Totale": "totale"}

INT = pd.Int64Dtype
STR = pd.StringDtype


def frame_check(name: str):
    """pa.dataframe_check whose name survives inheritance: pandera 0.35 pops `name` when it first
    builds a schema, and a model sharing the check then reports the function's name instead."""
    def decorate(fn):
        fn.__name__ = name
        return pa.dataframe_check(name=name)(fn)
    return decorate


def column_check(column: str, name: str):
    """pa.check with a name that survives inheritance (see frame_check)."""
    def decorate(fn):
        fn.__name__ = name
        return pa.check(column, name=name)(fn)
    return decorate


def _flags(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(True, index=df.index, columns=df.columns)


def _flag(ok: pd.DataFrame, where: pd.Series | pd.Index, column: str, passed) -> None:
    """Set the cells of `column` at rows `where` to `passed` (NA counts as a failure)."""
    values = pd.Series(passed, index=where).astype("boolean").fillna(False).astype(bool)
    ok.loc[values.index, column] = values.to_numpy()


def sex_columns_check(df: pd.DataFrame, triples: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Males + females = total for each (males, females, total) column triple of a wide frame."""
    ok = _flags(df)
    for m, f, t in triples:
        _flag(ok, df.index, t, df[m] + df[f] == df[t])
    return ok


def unique_rows_check(df: pd.DataFrame, keys: list[str], report: str) -> pd.DataFrame:
    """One row per key; duplicates are reported in the `report` column (the code an analyst looks for)."""
    ok = _flags(df)
    _flag(ok, df.index, report, ~df.duplicated(subset=keys, keep=False))
    return ok


def total_row_check(df: pd.DataFrame, code: str, age: str, total_mask: pd.Series, values: list[str]) -> pd.DataFrame:
    """The total row of each territory equals the sum of its single ages (never summed with them)."""
    ok = _flags(df)
    totals = df[total_mask]
    parts = df[~total_mask].groupby(df.loc[~total_mask, code], sort=False)[values].sum(min_count=1)
    expected = parts.reindex(totals[code].to_numpy())
    expected.index = totals.index
    for col in values:
        _flag(ok, totals.index, col, totals[col] == expected[col])
    # A territory without its total row cannot be checked: flag its rows.
    has_total = df[code].isin(set(totals[code]))
    _flag(ok, df.index, age, has_total)
    return ok


# ---------------------------------------------------------------------------------------------
# demo.istat.it POSAS: population by age and sex (and marital status up to 2024) at 1 January


class PosasRaw(pa.DataFrameModel):
    """POSAS from 2025 on: code, name, Età, Totale maschi, Totale femmine, Totale (no marital status).

    The first two headers name the level ("Codice provincia" / "Codice regione" / "Codice
    ripartizione"); Età runs 0..100 (100 = 100 and over) and 999 is the total row.
    """

    code: Series[STR] = pa.Field(alias=r"^Codice (provincia|regione|ripartizione)$", regex=True,
                                 str_matches=r"^\d{1,3}$")
    name: Series[STR] = pa.Field(alias=r"^(Provincia|Regione|Ripartizione)$", regex=True,
                                 str_length={"min_value": 2})
    eta: Series[INT] = pa.Field(alias="Età", isin=list(range(101)) + [999])
    totale_maschi: Series[INT] = pa.Field(alias="Totale maschi", ge=0)
    totale_femmine: Series[INT] = pa.Field(alias="Totale femmine", ge=0)
    totale: Series[INT] = pa.Field(alias="Totale", ge=0)

    @frame_check("Totale maschi + Totale femmine = Totale")
    def males_plus_females(cls, df: pd.DataFrame) -> pd.DataFrame:
        return sex_columns_check(df, [("Totale maschi", "Totale femmine", "Totale")])

    @frame_check("ages 0-100 add up to the 999 total row")
    def ages_add_up(cls, df: pd.DataFrame) -> pd.DataFrame:
        return total_row_check(df, df.columns[0], "Età", df["Età"] == 999,
                               ["Totale maschi", "Totale femmine", "Totale"])

    @frame_check("one row per territory and age")
    def unique_territory_age(cls, df: pd.DataFrame) -> pd.DataFrame:
        return unique_rows_check(df, [df.columns[0], "Età"], df.columns[0])

    class Config:
        strict = True
        coerce = True


class PosasMaritalRaw(PosasRaw):
    """POSAS up to 2024: the 2025 columns plus marital status (used only through its totals)."""

    celibi: Series[INT] = pa.Field(alias="Celibi", ge=0)
    coniugati: Series[INT] = pa.Field(alias="Coniugati", ge=0)
    divorziati: Series[INT] = pa.Field(alias="Divorziati", ge=0)
    vedovi: Series[INT] = pa.Field(alias="Vedovi", ge=0)
    uniti_civilmente: Series[INT] = pa.Field(alias="Uniti civilmente", ge=0)
    maschi_gia_uc_scioglimento: Series[INT] = pa.Field(
        alias="Maschi già in unione civile (per scioglimento unione)", ge=0)
    maschi_gia_uc_decesso: Series[INT] = pa.Field(
        alias="Maschi già in unione civile (per decesso del partner)", ge=0)
    nubili: Series[INT] = pa.Field(alias="Nubili", ge=0)
    coniugate: Series[INT] = pa.Field(alias="Coniugate", ge=0)
    divorziate: Series[INT] = pa.Field(alias="Divorziate", ge=0)
    vedove: Series[INT] = pa.Field(alias="Vedove", ge=0)
    unite_civilmente: Series[INT] = pa.Field(alias="Unite civilmente", ge=0)
    femmine_gia_uc_scioglimento: Series[INT] = pa.Field(
        alias="Femmine già in unione civile (per scioglimento unione)", ge=0)
    femmine_gia_uc_decesso: Series[INT] = pa.Field(
        alias="Femmine già in unione civile (per decesso del partner)", ge=0)


class ItalyByAgeRaw(pa.DataFrameModel):
    """demo.istat.it web table for Italia: no territory columns, every field quoted, ages "0".."99",
    "100 e oltre" and a "Totale" row instead of 999."""

    eta: Series[STR] = pa.Field(alias="Età", str_matches=r"^(\d{1,2}|100 e oltre|Totale)$")
    celibi: Series[INT] = pa.Field(alias="Celibi", ge=0)
    coniugati: Series[INT] = pa.Field(alias="Coniugati", ge=0)
    divorziati: Series[INT] = pa.Field(alias="Divorziati", ge=0)
    vedovi: Series[INT] = pa.Field(alias="Vedovi", ge=0)
    uniti_civilmente: Series[INT] = pa.Field(alias="Uniti civilmente", ge=0)
    maschi_gia_uc_scioglimento: Series[INT] = pa.Field(
        alias="Maschi già in unione civile (per scioglimento unione)", ge=0)
    maschi_gia_uc_decesso: Series[INT] = pa.Field(
        alias="Maschi già in unione civile (per decesso del partner)", ge=0)
    totale_maschi: Series[INT] = pa.Field(alias="Totale maschi", ge=0)
    nubili: Series[INT] = pa.Field(alias="Nubili", ge=0)
    coniugate: Series[INT] = pa.Field(alias="Coniugate", ge=0)
    divorziate: Series[INT] = pa.Field(alias="Divorziate", ge=0)
    vedove: Series[INT] = pa.Field(alias="Vedove", ge=0)
    unite_civilmente: Series[INT] = pa.Field(alias="Unite civilmente", ge=0)
    femmine_gia_uc_scioglimento: Series[INT] = pa.Field(
        alias="Femmine già in unione civile (per scioglimento unione)", ge=0)
    femmine_gia_uc_decesso: Series[INT] = pa.Field(
        alias="Femmine già in unione civile (per decesso del partner)", ge=0)
    totale_femmine: Series[INT] = pa.Field(alias="Totale femmine", ge=0)
    totale: Series[INT] = pa.Field(alias="Totale", ge=0)

    @frame_check("Totale maschi + Totale femmine = Totale")
    def males_plus_females(cls, df: pd.DataFrame) -> pd.DataFrame:
        return sex_columns_check(df, [("Totale maschi", "Totale femmine", "Totale")])

    @frame_check("ages 0-100 add up to the Totale row")
    def ages_add_up(cls, df: pd.DataFrame) -> pd.DataFrame:
        frame = df.assign(_all="IT")
        ok = total_row_check(frame, "_all", "Età", df["Età"] == "Totale",
                             ["Totale maschi", "Totale femmine", "Totale"])
        return ok.drop(columns="_all")

    @frame_check("one row per age")
    def unique_age(cls, df: pd.DataFrame) -> pd.DataFrame:
        return unique_rows_check(df, ["Età"], "Età")

    class Config:
        strict = True
        coerce = True


# ---------------------------------------------------------------------------------------------
# demo.istat.it STRASA (English edition): foreign residents by age and sex at 1 January


class StrasaRaw(pa.DataFrameModel):
    """STRASA English edition: no Total column (total = Males + Females); Age 999 is the total row."""

    code: Series[STR] = pa.Field(alias="Province code", str_matches=r"^\d{3}$")
    name: Series[STR] = pa.Field(alias="Province", str_length={"min_value": 2})
    age: Series[INT] = pa.Field(alias="Age", isin=list(range(101)) + [999])
    males: Series[INT] = pa.Field(alias="Males", ge=0)
    females: Series[INT] = pa.Field(alias="Females", ge=0)

    @frame_check("ages 0-100 add up to the 999 total row")
    def ages_add_up(cls, df: pd.DataFrame) -> pd.DataFrame:
        return total_row_check(df, "Province code", "Age", df["Age"] == 999, ["Males", "Females"])

    @frame_check("one row per province and age")
    def unique_province_age(cls, df: pd.DataFrame) -> pd.DataFrame:
        return unique_rows_check(df, ["Province code", "Age"], "Province code")

    class Config:
        strict = True
        coerce = True


# ---------------------------------------------------------------------------------------------
# Demographic balance: P2 (all residents), P3 (foreign citizens), monthly balance by province


def balance_identity_check(df: pd.DataFrame, columns: dict[tuple[str, str], str]) -> pd.DataFrame:
    """Identities every ISTAT balance satisfies, per sex: natural balance = births - deaths; each
    migration balance = in - out; end = start + balances + territorial changes (- acquisitions of
    citizenship for foreigners). Registrations "for other reasons" are outside the identity."""
    ok = _flags(df)
    sexes = sorted({s for _, s in columns})
    for sex in sexes:
        col = {m: columns[(m, sex)] for (m, s) in columns if s == sex}
        g = {m: df[c] for m, c in col.items()}
        _flag(ok, df.index, col["natural_balance"], g["natural_balance"] == g["births"] - g["deaths"])
        _flag(ok, df.index, col["internal_net_migration"],
              g["internal_net_migration"] == g["internal_immigration"] - g["internal_emigration"])
        _flag(ok, df.index, col["foreign_net_migration"],
              g["foreign_net_migration"] == g["foreign_immigration"] - g["foreign_emigration"])
        end = (g["population_start"] + g["natural_balance"] + g["internal_net_migration"]
               + g["foreign_net_migration"] + g["territorial_changes"])
        if "citizenship_acquisitions" in g:
            end = end - g["citizenship_acquisitions"]
        _flag(ok, df.index, col["population_end"], g["population_end"] == end)
    return ok


def _bilancio_columns(items) -> dict[tuple[str, str], str]:
    return {(m, s): f"{item} - {sex}" for item, m, _ in items for sex, s in ITALIAN_SEXES.items()}


class _BilancioChecks(pa.DataFrameModel):
    """Columns and checks shared by P2 and P3 (headers normalised: "(v)" markers removed)."""

    codice_comune: Series[STR] = pa.Field(alias="Codice comune", str_matches=r"^\d{6}$", unique=True)
    comune: Series[STR] = pa.Field(alias="Comune", str_length={"min_value": 1})
    informazioni: Series[STR] = pa.Field(alias="Informazioni", nullable=True, isin=["p"])

    @frame_check("Maschi + Femmine = Totale")
    def males_plus_females(cls, df: pd.DataFrame) -> pd.DataFrame:
        stems = [c[: -len("Totale")] for c in df.columns if c.endswith(" - Totale")]
        return sex_columns_check(df, [(s + "Maschi", s + "Femmine", s + "Totale") for s in stems])

    @frame_check("balance identity")
    def identity(cls, df: pd.DataFrame) -> pd.DataFrame:
        items = P3_ITEMS if any(c.startswith("Acquisizioni") for c in df.columns) else P2_ITEMS
        return balance_identity_check(df, _bilancio_columns(items))

    class Config:
        strict = True
        coerce = True


def _bilancio_model(name: str, items, doc: str):
    annotations, namespace = {}, {"__module__": __name__, "__doc__": doc}
    for item, measure, count in items:
        for sex, sex_id in ITALIAN_SEXES.items():
            field = f"{measure}_{sex_id}"
            annotations[field] = Series[INT]
            namespace[field] = pa.Field(alias=f"{item} - {sex}", ge=0 if count else None)
    namespace["__annotations__"] = annotations
    return type(name, (_BilancioChecks,), namespace)


P2Raw = _bilancio_model("P2Raw", P2_ITEMS, "P2: demographic balance of all residents, one row per comune.")
P3Raw = _bilancio_model("P3Raw", P3_ITEMS, "P3: demographic balance of foreign citizens, one row per comune "
                        "(adds 'Acquisizioni della cittadinanza italiana').")
BILANCIO_P2_COLUMNS = _bilancio_columns(P2_ITEMS)
BILANCIO_P3_COLUMNS = _bilancio_columns(P3_ITEMS)


class MonthlyBalanceRaw(pa.DataFrameModel):
    """Monthly balance by province: one row per province and sex, every field quoted, no title."""

    code: Series[STR] = pa.Field(alias="Codice provincia", str_matches=r"^\d{3}$")
    name: Series[STR] = pa.Field(alias="Provincia", str_length={"min_value": 2})
    sex: Series[STR] = pa.Field(alias="Sesso", isin=list(ITALIAN_SEXES))
    population_start: Series[INT] = pa.Field(alias="Popolazione inizio periodo", ge=0)
    births: Series[INT] = pa.Field(alias="Nati vivi", ge=0)
    deaths: Series[INT] = pa.Field(alias="Morti", ge=0)
    natural_balance: Series[INT] = pa.Field(alias="Saldo naturale")
    internal_immigration: Series[INT] = pa.Field(alias="Immigrati da altro Comune", ge=0)
    internal_emigration: Series[INT] = pa.Field(alias="Emigrati per altro Comune", ge=0)
    internal_net_migration: Series[INT] = pa.Field(alias="Saldo migratorio interno")
    foreign_immigration: Series[INT] = pa.Field(alias="Immigrati dall'estero", ge=0)
    foreign_emigration: Series[INT] = pa.Field(alias="Emigrati per l'estero", ge=0)
    foreign_net_migration: Series[INT] = pa.Field(alias="Saldo migratorio con l'estero")
    territorial_changes: Series[INT] = pa.Field(alias="Unità in più/meno dovute a variazioni territoriali")
    population_end: Series[INT] = pa.Field(alias="Popolazione fine periodo", ge=0)

    @frame_check("balance identity")
    def identity(cls, df: pd.DataFrame) -> pd.DataFrame:
        return balance_identity_check(df, {(m, "all"): c for m, c in MONTHLY_COLUMNS.items()})

    @frame_check("Maschi + Femmine = Totale")
    def males_plus_females(cls, df: pd.DataFrame) -> pd.DataFrame:
        ok = _flags(df)
        values = [c for c in df.columns if c not in ("Codice provincia", "Provincia", "Sesso")]
        wide = {s: df[df["Sesso"] == s].set_index("Codice provincia")[values] for s in ITALIAN_SEXES}
        total = df[df["Sesso"] == "Totale"]
        expected = (wide["Maschi"] + wide["Femmine"]).reindex(total["Codice provincia"].to_numpy())
        expected.index = total.index
        for col in values:
            _flag(ok, total.index, col, total[col] == expected[col])
        return ok

    @frame_check("one row per province and sex")
    def unique_province_sex(cls, df: pd.DataFrame) -> pd.DataFrame:
        return unique_rows_check(df, ["Codice provincia", "Sesso"], "Codice provincia")

    class Config:
        strict = True
        coerce = True


# ---------------------------------------------------------------------------------------------
# esploradati.istat.it SDMX-CSV


class _SdmxRaw(pa.DataFrameModel):
    """SDMX-CSV export: REF_AREA mixes comuni (6 digits) with ITTER107 letter codes of every level."""

    dataflow: Series[STR] = pa.Field(alias="DATAFLOW")
    freq: Series[STR] = pa.Field(alias="FREQ", isin=["A"])
    ref_area: Series[STR] = pa.Field(alias="REF_AREA", str_matches=r"^(\d{6}|IT[A-Z0-9]{0,3})$")
    sex: Series[STR] = pa.Field(alias="SEX", isin=["1", "2", "9"])
    time_period: Series[STR] = pa.Field(alias="TIME_PERIOD", str_matches=r"^\d{4}-01-01$")
    obs_value: Series[pd.Float64Dtype] = pa.Field(alias="OBS_VALUE", ge=0)
    obs_status: Series[STR] = pa.Field(alias="OBS_STATUS", nullable=True)
    note_ds: Series[STR] = pa.Field(alias="NOTE_DS", nullable=True)
    note_ref_area: Series[STR] = pa.Field(alias="NOTE_REF_AREA", nullable=True)
    note_data_type: Series[STR] = pa.Field(alias="NOTE_DATA_TYPE", nullable=True)
    note_sex: Series[STR] = pa.Field(alias="NOTE_SEX", nullable=True)
    base_per: Series[STR] = pa.Field(alias="BASE_PER", nullable=True)
    unit_meas: Series[STR] = pa.Field(alias="UNIT_MEAS", nullable=True)
    unit_mult: Series[STR] = pa.Field(alias="UNIT_MULT", nullable=True)

    @column_check("OBS_VALUE", "whole number (persons)")
    def whole_number(cls, s: pd.Series) -> pd.Series:
        return (s % 1 == 0).fillna(False)

    class Config:
        strict = True
        coerce = True


class Sdmx29316FjanRaw(_SdmxRaw):
    """29_316 DATA_TYPE FJAN: foreign residents at 1 January."""

    dataflow: Series[STR] = pa.Field(alias="DATAFLOW", str_matches=r"^IT1:29_316\(")
    data_type: Series[STR] = pa.Field(alias="DATA_TYPE", isin=["FJAN"])

    @frame_check("one observation per REF_AREA, SEX and TIME_PERIOD")
    def unique_key(cls, df: pd.DataFrame) -> pd.DataFrame:
        return unique_rows_check(df, ["REF_AREA", "SEX", "TIME_PERIOD"], "REF_AREA")


class Sdmx22289Raw(_SdmxRaw):
    """22_289 (DCIS_POPRES1) DATA_TYPE JAN, all ages, all marital statuses: residents at 1 January."""

    dataflow: Series[STR] = pa.Field(alias="DATAFLOW", str_matches=r"^IT1:22_289\(")
    data_type: Series[STR] = pa.Field(alias="DATA_TYPE", isin=["JAN"])
    age: Series[STR] = pa.Field(alias="AGE", isin=["TOTAL"])
    marital_status: Series[STR] = pa.Field(alias="MARITAL_STATUS", isin=["99"])
    note_age: Series[STR] = pa.Field(alias="NOTE_AGE", nullable=True)
    note_marital_status: Series[STR] = pa.Field(alias="NOTE_MARITAL_STATUS", nullable=True)

    @frame_check("one observation per REF_AREA, SEX and TIME_PERIOD")
    def unique_key(cls, df: pd.DataFrame) -> pd.DataFrame:
        return unique_rows_check(df, ["REF_AREA", "SEX", "TIME_PERIOD"], "REF_AREA")


class SdmxAggregateSums(pa.DataFrameModel):
    """SDMX rows with their parent's code: each aggregate equals the sum of its parts (a file that
    publishes several levels must add up, or one of its levels is wrong)."""

    territory_code: Series[STR]
    parent_code: Series[STR] = pa.Field(nullable=True)
    key: Series[STR]
    value: Series[INT] = pa.Field(alias="OBS_VALUE", ge=0)

    @frame_check("aggregate equals the sum of its parts")
    def sums(cls, df: pd.DataFrame) -> pd.DataFrame:
        ok = _flags(df)
        parts = df.dropna(subset=["parent_code"]).groupby(["parent_code", "key"])["OBS_VALUE"].sum()
        parts.index = parts.index.set_names(["territory_code", "key"])
        expected = parts.reindex(pd.MultiIndex.from_frame(df[["territory_code", "key"]]))
        has_parts = expected.notna().to_numpy()
        rows = df.index[has_parts]
        _flag(ok, rows, "OBS_VALUE", df.loc[rows, "OBS_VALUE"].to_numpy() == expected.to_numpy()[has_parts])
        return ok

    class Config:
        strict = True
        coerce = True


# ---------------------------------------------------------------------------------------------
# Code list and zone mapping


class ItterCodelistRaw(pa.DataFrameModel):
    """CL_ITTER107 flattened by ondata: one row per territory code (any vintage since 1991)."""

    id: Series[STR] = pa.Field(alias="id", isin=["CL_ITTER107"])
    dimension_name: Series[STR] = pa.Field(alias="dimensionName")
    value_id: Series[STR] = pa.Field(alias="dimensionValueID", unique=True)
    description: Series[STR] = pa.Field(alias="dimensionValueDescription")

    class Config:
        strict = True
        coerce = True


class ZoneDistrettoRaw(pa.DataFrameModel):
    """Comune -> zona distretto mapping of one province (one row per comune)."""

    codice_comune: Series[STR] = pa.Field(alias="codice_comune", str_matches=r"^\d{6}$", unique=True)
    comune: Series[STR] = pa.Field(alias="comune", str_length={"min_value": 1})
    zona_distretto: Series[STR] = pa.Field(alias="zona_distretto", str_length={"min_value": 2})
    source_url: Series[STR] = pa.Field(alias="source_url", nullable=True)

    class Config:
        strict = True
        coerce = True


# ---------------------------------------------------------------------------------------------
# Processed tables


class Territories(pa.DataFrameModel):
    """One row per territory; comuni carry every parent. `current` = in the 2025 comune list."""

    territory_code: Series[STR] = pa.Field(unique=True, str_matches=r"^(IT|\d{1,3}|\d{6}|\d{3}-ZD\d+)$")
    territory_name: Series[STR] = pa.Field(str_length={"min_value": 1})
    territory_level: Series[STR] = pa.Field(isin=LEVELS)
    comune_code: Series[STR] = pa.Field(nullable=True, str_matches=r"^\d{6}$")
    zona_distretto_code: Series[STR] = pa.Field(nullable=True, str_matches=r"^\d{3}-ZD\d+$")
    zona_distretto_name: Series[STR] = pa.Field(nullable=True)
    province_code: Series[STR] = pa.Field(nullable=True, str_matches=r"^\d{3}$")
    province_name: Series[STR] = pa.Field(nullable=True)
    region_code: Series[STR] = pa.Field(nullable=True, str_matches=r"^\d{2}$")
    region_name: Series[STR] = pa.Field(nullable=True)
    ripartizione_code: Series[STR] = pa.Field(nullable=True, str_matches=r"^[1-5]$")
    ripartizione_name: Series[STR] = pa.Field(nullable=True)
    itter107: Series[STR] = pa.Field(nullable=True, str_matches=r"^IT[A-Z0-9]{0,3}$")
    current: Series[pd.BooleanDtype]
    source_id: Series[STR] = pa.Field(str_matches=r"^[a-z0-9_]+(;[a-z0-9_]+)*$")

    @frame_check("comuni have a province, region and ripartizione")
    def comuni_have_parents(cls, df: pd.DataFrame) -> pd.DataFrame:
        ok = _flags(df)
        com = df.index[df["territory_level"] == "comune"]
        for col in ("province_code", "region_code", "ripartizione_code", "comune_code"):
            _flag(ok, com, col, df.loc[com, col].notna())
        return ok

    class Config:
        strict = True
        coerce = True


def fullmatch_unique(s: pd.Series, pattern: str) -> pd.Series:
    """Regex test on the distinct values only: large tables repeat a handful of dates."""
    rx = re.compile(pattern)
    good = [v for v in s.dropna().unique() if rx.fullmatch(str(v))]
    return s.isin(good)


def row_keys(df: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """One integer per distinct combination of `keys` (NA is a value of its own)."""
    code = np.zeros(len(df), dtype=np.int64)
    for k in keys:
        codes, uniques = pd.factorize(df[k], use_na_sentinel=True)
        code = code * (len(uniques) + 1) + (codes + 1)
    return code


def _males_plus_females(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    """In a tidy table, the totale row equals maschi + femmine wherever all three exist.

    Returns a row mask (processed tables: the failing row is our bug, not an input's, and a
    full-frame mask would cost pandera a pass over every column of a large table)."""
    key = row_keys(df, keys)
    sex = df["sex"].to_numpy()
    value = df["value"]
    by_sex = {s: pd.Series(value[sex == s].to_numpy(), index=key[sex == s]) for s in SEXES}
    both = by_sex["maschi"].add(by_sex["femmine"])  # NA where one sex is missing
    total_rows = np.flatnonzero(sex == "totale")
    expected = both.reindex(key[total_rows])
    ok = np.ones(len(df), dtype=bool)
    present = expected.notna().to_numpy()
    rows = total_rows[present]
    ok[rows] = (value.to_numpy()[rows] == expected.to_numpy()[present])
    return pd.Series(ok, index=df.index)


POPULATION_KEY = ["territory_code", "date", "sex", "age", "citizenship", "source_id"]
BALANCE_KEY = ["territory_code", "period", "measure", "sex", "citizenship", "source_id"]


class Population(pa.DataFrameModel):
    """Resident population at 1 January (or 31 December for the balance's closing stock)."""

    territory_code: Series[STR]
    territory_name: Series[STR]
    territory_level: Series[STR] = pa.Field(isin=LEVELS)
    date: Series[STR]
    sex: Series[STR] = pa.Field(isin=SEXES)
    age: Series[INT] = pa.Field(nullable=True, ge=0, le=100)
    citizenship: Series[STR] = pa.Field(isin=CITIZENSHIPS)
    value: Series[INT] = pa.Field(ge=0)
    source_id: Series[STR]
    status: Series[STR] = pa.Field(isin=STATUSES)
    release: Series[STR] = pa.Field(isin=RELEASES)
    derived: Series[pd.BooleanDtype]
    census_break: Series[pd.BooleanDtype]

    @column_check("date", "1 January or 31 December (YYYY-MM-DD)")
    def date_format(cls, s: pd.Series) -> pd.Series:
        return fullmatch_unique(s, r"\d{4}-(01-01|12-31)")

    @frame_check("maschi + femmine = totale")
    def males_plus_females(cls, df: pd.DataFrame) -> pd.Series:
        return _males_plus_females(df, [k for k in POPULATION_KEY if k != "sex"])

    class Config:
        strict = True
        coerce = True
        unique = POPULATION_KEY


class DemographicBalance(pa.DataFrameModel):
    """Flows and stocks of the demographic balance, per territory, period, measure, sex."""

    territory_code: Series[STR]
    territory_name: Series[STR]
    territory_level: Series[STR] = pa.Field(isin=LEVELS)
    period: Series[STR]
    measure: Series[STR] = pa.Field(isin=MEASURES)
    sex: Series[STR] = pa.Field(isin=SEXES)
    citizenship: Series[STR] = pa.Field(isin=CITIZENSHIPS)
    value: Series[INT]
    source_id: Series[STR]
    status: Series[STR] = pa.Field(isin=STATUSES)
    derived: Series[pd.BooleanDtype]
    period_inferred: Series[pd.BooleanDtype]

    @column_check("period", "a year (YYYY) or a month (YYYY-MM)")
    def period_format(cls, s: pd.Series) -> pd.Series:
        return fullmatch_unique(s, r"\d{4}(-\d{2})?")

    @frame_check("counts are not negative")
    def counts_not_negative(cls, df: pd.DataFrame) -> pd.Series:
        return ~(df["measure"].isin(COUNT_MEASURES) & (df["value"] < 0)).fillna(False)

    @frame_check("maschi + femmine = totale")
    def males_plus_females(cls, df: pd.DataFrame) -> pd.Series:
        return _males_plus_females(df, [k for k in BALANCE_KEY if k != "sex"])

    class Config:
        strict = True
        coerce = True
        unique = BALANCE_KEY


CHECK_STATUSES = ["ok", "mismatch", "different_basis", "census_break"]


class ConsistencyChecks(pa.DataFrameModel):
    """Same quantity from two files (or a published aggregate vs the sum of its parts)."""

    check: Series[STR]
    territory_code: Series[STR]
    date: Series[STR] = pa.Field(str_matches=r"^\d{4}-\d{2}-\d{2}$")
    source_a: Series[STR]
    value_a: Series[INT] = pa.Field(nullable=True)
    source_b: Series[STR]
    value_b: Series[INT] = pa.Field(nullable=True)
    difference: Series[INT] = pa.Field(nullable=True)
    status: Series[STR] = pa.Field(isin=CHECK_STATUSES)

    class Config:
        strict = True
        coerce = True
        unique = ["check", "territory_code", "date", "source_a", "source_b"]
