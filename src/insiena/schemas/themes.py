"""Theme sources (issue 10): foreigners' balance, protection permits, labour and education context.

Raw models carry the official headers as aliases and read every cell as text, so that a number
written in an unexpected way (a float, a blank, a decimal point instead of a comma) is reported
with its raw line instead of being coerced silently. Checks that need several columns or rows
(SEX 1 + 2 = 9, non-negative counts by data type, sums of provinces) are in insiena.ingest.themes,
which reports them through insiena.validation.reject with the same failure file.

The code vocabularies below are part of the contract: a code that is not listed stops the run,
because its meaning would otherwise be guessed.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from insiena.schemas.registry import LEVELS

STATUSES = ["final", "provisional"]
SEXES = {"1": "maschi", "2": "femmine", "9": "totale"}
SEX_LABELS_EN = {"1": "males", "2": "females", "9": "total"}

# --- POPSTRBIL1: ISTAT DATA_TYPE -> (stable measure id, kind). Labels are not in the file: the
# meanings come from the code names and were confirmed by the identities checked at ingest
# (docs/theme-sources.md). Kinds "stock" and "flow" are counts (never negative); "balance" may be
# negative; "unknown" is not sign-checked.
BALANCE_MEASURES: dict[str, tuple[str, str]] = {
    "FJAN": ("population_start", "stock"),
    "FDEC_CP": ("population_end", "stock"),
    "FHOUSMEMB_CP": ("population_end_in_households", "stock"),
    "FPOPCOM_CP": ("population_end_in_cohabitations", "stock"),
    "FLBIRTH": ("births", "flow"),
    "FDEATH": ("deaths", "flow"),
    "FNATGR": ("natural_balance", "balance"),
    "FREGM": ("internal_in", "flow"),
    "FDEREGM": ("internal_out", "flow"),
    "FINTRNMIGR": ("internal_net", "balance"),
    "FREGOTHC": ("foreign_in", "flow"),
    "FDERGOTHC": ("foreign_out", "flow"),
    "FINTNMIG": ("foreign_net", "balance"),
    "FREGOTHR": ("other_in", "flow"),
    "FDEROTHR": ("other_out", "flow"),
    "FBLOTHR": ("other_net", "balance"),
    "TFREG_TOT": ("registrations_total", "flow"),
    "TFDEREG_TOT": ("cancellations_total", "flow"),
    "FNETMIG": ("migration_net", "balance"),
    "FNMIGRAT": ("migration_and_other_net", "balance"),
    "ACQCITIZ": ("citizenship_acquisitions", "flow"),
    "FTOTBAL_CP": ("total_balance_before_adjustment", "balance"),
    "FTOCESTAD_CP": ("census_adjustment", "balance"),
    "FREGSTAD_CP": ("statistical_adjustment_registrations", "unknown"),
    "FSTAT_ADJUST": ("statistical_adjustment", "balance"),
    "FTOTAL_BAL": ("total_balance", "balance"),
    "FIDECTR": ("unlabelled_fidectr", "unknown"),
}
COUNT_DATA_TYPES = sorted(c for c, (_, kind) in BALANCE_MEASURES.items() if kind in ("stock", "flow"))
MEASURES = sorted(m for m, _ in BALANCE_MEASURES.values())
# The scheme label is derived from the years each scheme covers (see ingest); these data types
# exist only in the census-based scheme that starts with 2022.
CENSUS_SCHEME_DATA_TYPES = ["FSTAT_ADJUST", "FTOTAL_BAL"]
NOTE_DATA_TYPES = ["", "TIPO_DATO15__FREGOTHR_N1", "TIPO_DATO15__FDEROTHR_N1"]

# --- PERMSOGG1: ISO code -> (Italian name shown to readers, English label in the file).
COUNTRIES: dict[str, tuple[str, str]] = {
    "WORLD": ("Tutti i paesi", "All countries of the world"),
    "X777": ("Altri paesi", "Other countries"),
    "AL": ("Albania", "Albania"),
    "BD": ("Bangladesh", "Bangladesh"),
    "BR": ("Brasile", "Brazil"),
    "CN": ("Cina", "China"),
    "EG": ("Egitto", "Egypt"),
    "GH": ("Ghana", "Ghana"),
    "IN": ("India", "India"),
    "LK": ("Sri Lanka", "Sri Lanka"),
    "MA": ("Marocco", "Morocco"),
    "MD": ("Moldova", "Moldova"),
    "NG": ("Nigeria", "Nigeria"),
    "PE": ("Perù", "Peru"),
    "PK": ("Pakistan", "Pakistan"),
    "RU": ("Federazione russa", "Russia"),
    "SN": ("Senegal", "Senegal"),
    "TN": ("Tunisia", "Tunisia"),
    "UA": ("Ucraina", "Ukraine"),
    "US": ("Stati Uniti d'America", "United States"),
}
PERMITS_VINTAGE = "103 province, vecchia delimitazione"

# --- Labour force survey files: code -> (value in the table, English label in the file).
LFS_INDICATORS = {"ACT_R": ("activity_rate", "activity rate"),
                  "EMP_R": ("employment_rate", "employment rate"),
                  "UNEM_R": ("unemployment_rate", "unemployment rate")}
LFS_CITIZENSHIP = {"ITL": ("italiani", "italian"), "FRG": ("stranieri", "foreign"), "TOTAL": ("totale", "total")}
LFS_EDUCATION = {"99": ("totale", "total"),
                 "13": ("fino licenza media",
                        "no educational degree, primary and lower secondary school certificate"),
                 "7": ("diploma", "upper and post secondary"),
                 "11": ("laurea", "tertiary (university, doctoral and specialization courses)")}
LFS_AGES = {"Y15-64": ("15-64", "15-64 years"), "Y15-74": ("15-74", "15-74 years"),
            "Y20-64": ("20-64", "20-64 years")}
# Territory labels as the files print them: ITE is "Centro (I)", i.e. central Italy, never Toscana.
LFS_TERRITORY_LABELS = {"IT": "Italy", "ITCD": "Nord", "ITC": "Nord-ovest", "ITD": "Nord-est",
                        "ITE": "Centro (I)", "ITFG": "Mezzogiorno"}

# --- Noi Italia education table.
EDUCATION_BLOCKS = {"LICENZA MEDIA": "licenza_media", "DIPLOMA": "diploma", "TITOLO UNIVERSITARIO": "laurea"}
EDUCATION_AGES = {"15-24": "15-24", "25-34": "25-34", "35-44": "35-44", "45-54": "45-54", "55-64": "55-64",
                  "Totale": "15-64"}
EDUCATION_CITIZENSHIP = {"Straniera": "stranieri", "Italiana": "italiani"}

_EMPTY = {"isin": [""]}
_INT = r"^-?\d+$"


# ------------------------------------------------------------------------------------------------
# Raw formats


class Popstrbil1Raw(pa.DataFrameModel):
    """SDMX-CSV export of IT1:29_316_DF_DCIS_POPSTRBIL1_1 (foreign citizens' demographic balance)."""

    dataflow: Series[str] = pa.Field(alias="DATAFLOW", str_startswith="IT1:29_316_DF_DCIS_POPSTRBIL1")
    freq: Series[str] = pa.Field(alias="FREQ", isin=["A"])
    ref_area: Series[str] = pa.Field(alias="REF_AREA", str_matches=r"^IT[0-9A-Z]{0,3}$")
    data_type: Series[str] = pa.Field(alias="DATA_TYPE", isin=list(BALANCE_MEASURES))
    sex: Series[str] = pa.Field(alias="SEX", isin=list(SEXES))
    time_period: Series[str] = pa.Field(alias="TIME_PERIOD", str_matches=r"^\d{4}$")
    obs_value: Series[str] = pa.Field(alias="OBS_VALUE", str_matches=_INT)
    # Flag and note columns are empty in this release; a flag appearing (e.g. provisional) must be
    # read by a person before it is carried into the tables.
    obs_status: Series[str] = pa.Field(alias="OBS_STATUS", **_EMPTY)
    note_ds: Series[str] = pa.Field(alias="NOTE_DS", **_EMPTY)
    note_ref_area: Series[str] = pa.Field(alias="NOTE_REF_AREA", str_matches=r"^(FILTER__IT[0-9A-Z]+)?$")
    note_data_type: Series[str] = pa.Field(alias="NOTE_DATA_TYPE", isin=NOTE_DATA_TYPES)
    note_sex: Series[str] = pa.Field(alias="NOTE_SEX", **_EMPTY)
    base_per: Series[str] = pa.Field(alias="BASE_PER", **_EMPTY)
    unit_meas: Series[str] = pa.Field(alias="UNIT_MEAS", **_EMPTY)
    unit_mult: Series[str] = pa.Field(alias="UNIT_MULT", **_EMPTY)

    class Config:
        strict = True
        unique = ["REF_AREA", "DATA_TYPE", "SEX", "TIME_PERIOD"]


class Sdmx29316FjanRaw(pa.DataFrameModel):
    """SDMX-CSV export of IT1:29_316 FJAN (foreign residents at 1 January), the columns compared."""

    ref_area: Series[str] = pa.Field(alias="REF_AREA", str_matches=r"^(IT[0-9A-Z]{0,3}|\d{6})$")
    data_type: Series[str] = pa.Field(alias="DATA_TYPE", isin=["FJAN"])
    sex: Series[str] = pa.Field(alias="SEX", isin=["9"])
    time_period: Series[str] = pa.Field(alias="TIME_PERIOD", str_matches=r"^\d{4}-01-01$")
    # Written as floats ("5524.0"); only whole numbers are persons.
    obs_value: Series[str] = pa.Field(alias="OBS_VALUE", str_matches=r"^\d+(\.0+)?$")

    class Config:
        strict = "filter"
        unique = ["REF_AREA", "DATA_TYPE", "SEX", "TIME_PERIOD"]


def _non_negative_text(series: pd.Series) -> pd.Series:
    return ~series.str.startswith("-")


class Permsogg1Raw(pa.DataFrameModel):
    """I.Stat / Immigrants.Stat CSV export of DCIS_PERMSOGG1 (code + English label pairs)."""

    itter107: Series[str] = pa.Field(alias="ITTER107", str_matches=r"^IT[0-9A-Z]{0,3}$")
    territory: Series[str] = pa.Field(alias="Territory", str_length={"min_value": 2})
    tipo_dato15: Series[str] = pa.Field(alias="TIPO_DATO15", isin=["INFLNONEU"])
    data_type: Series[str] = pa.Field(alias="Data type", isin=["annual inflows of non-EU citizens"])
    sexistat1: Series[str] = pa.Field(alias="SEXISTAT1", isin=list(SEXES))
    gender: Series[str] = pa.Field(alias="Gender", isin=list(SEX_LABELS_EN.values()))
    iso: Series[str] = pa.Field(alias="ISO", isin=list(COUNTRIES))
    country: Series[str] = pa.Field(alias="Most relevant Country of citizenship",
                                    isin=[en for _, en in COUNTRIES.values()])
    motivops1: Series[str] = pa.Field(alias="MOTIVOPS1", isin=["ALL1"])
    reason: Series[str] = pa.Field(alias="Reason", isin=["international protection"])
    time: Series[str] = pa.Field(alias="TIME", str_matches=r"^\d{4}$")
    select_time: Series[str] = pa.Field(alias="Select time", str_matches=r"^\d{4}$")
    value: Series[str] = pa.Field(alias="Value", str_matches=_INT)
    flag_codes: Series[str] = pa.Field(alias="Flag Codes", **_EMPTY)
    flags: Series[str] = pa.Field(alias="Flags", **_EMPTY)

    @pa.check("Value", name="non-negative count")
    def _value_non_negative(cls, series: Series[str]) -> Series[bool]:
        return _non_negative_text(series)

    class Config:
        strict = True
        unique = ["ITTER107", "ISO", "SEXISTAT1", "TIME"]


_LFS_RATE = r"^\d{1,3}(\.\d+)?$"
_LFS_TIME = r"^\d{4}(-Q[1-4])?$"


class LfsRatesNoSexRaw(pa.DataFrameModel):
    """I.Stat / Immigrants.Stat CSV export of a labour force survey rate without a sex breakdown
    (DCCV_TAXDISOCCU1: foreigners, both sexes)."""

    itter107: Series[str] = pa.Field(alias="ITTER107", isin=list(LFS_TERRITORY_LABELS))
    territory: Series[str] = pa.Field(alias="Territory", isin=list(LFS_TERRITORY_LABELS.values()))
    tipo_dato_fol: Series[str] = pa.Field(alias="TIPO_DATO_FOL", isin=list(LFS_INDICATORS))
    data_type: Series[str] = pa.Field(alias="Data type", isin=[en for _, en in LFS_INDICATORS.values()])
    eta1: Series[str] = pa.Field(alias="ETA1", isin=list(LFS_AGES))
    age_class: Series[str] = pa.Field(alias="Age class", isin=[en for _, en in LFS_AGES.values()])
    titolo_studio: Series[str] = pa.Field(alias="TITOLO_STUDIO", isin=list(LFS_EDUCATION))
    education: Series[str] = pa.Field(alias="Highest level of education attained",
                                      isin=[en for _, en in LFS_EDUCATION.values()])
    cittadinanza: Series[str] = pa.Field(alias="CITTADINANZA", isin=list(LFS_CITIZENSHIP))
    citizenship: Series[str] = pa.Field(alias="Citizenship", isin=[en for _, en in LFS_CITIZENSHIP.values()])
    time: Series[str] = pa.Field(alias="TIME", str_matches=_LFS_TIME)
    select_time: Series[str] = pa.Field(alias="Select time", str_matches=r"^(\d{4}|Q[1-4]-\d{4})$")
    value: Series[str] = pa.Field(alias="Value", str_matches=_LFS_RATE)
    flag_codes: Series[str] = pa.Field(alias="Flag Codes", **_EMPTY)
    flags: Series[str] = pa.Field(alias="Flags", **_EMPTY)

    @pa.check("Value", name="rate within 0-100")
    def _rate_range(cls, series: Series[str]) -> Series[bool]:
        return pd.to_numeric(series, errors="coerce").between(0, 100)

    class Config:
        strict = True
        unique = ["ITTER107", "TIPO_DATO_FOL", "ETA1", "TITOLO_STUDIO", "CITTADINANZA", "TIME"]


class LfsRatesRaw(LfsRatesNoSexRaw):
    """The same export with a sex breakdown (D5, D7, DCCV_TAXOCCU1)."""

    sexistat1: Series[str] = pa.Field(alias="SEXISTAT1", isin=list(SEXES))
    gender: Series[str] = pa.Field(alias="Gender", isin=list(SEX_LABELS_EN.values()))

    class Config:
        strict = True
        unique = ["ITTER107", "TIPO_DATO_FOL", "SEXISTAT1", "ETA1", "TITOLO_STUDIO", "CITTADINANZA", "TIME"]


class NoiItaliaEducationRaw(pa.DataFrameModel):
    """Cells of the Noi Italia table, unstacked by the parser: one row per year x block x column.

    Aliases are the table's own labels: the block-label rows, the first header row (age class,
    under "ANNI") and the second header row (Straniera / Italiana)."""

    anni: Series[str] = pa.Field(alias="ANNI", str_matches=r"^\d{4}$")
    grado: Series[str] = pa.Field(alias="grado di istruzione", isin=list(EDUCATION_BLOCKS))
    classe: Series[str] = pa.Field(alias="classe di età", isin=list(EDUCATION_AGES))
    popolazione: Series[str] = pa.Field(alias="popolazione", isin=list(EDUCATION_CITIZENSHIP))
    # Italian spreadsheet layout: decimal comma, one decimal.
    valore: Series[str] = pa.Field(alias="valore", str_matches=r"^\d{1,3}(,\d+)?$")

    @pa.check("valore", name="percentage within 0-100")
    def _share_range(cls, series: Series[str]) -> Series[bool]:
        return pd.to_numeric(series.str.replace(",", ".", regex=False), errors="coerce").between(0, 100)

    class Config:
        strict = True
        unique = ["ANNI", "grado di istruzione", "classe di età", "popolazione"]


# ------------------------------------------------------------------------------------------------
# Processed tables


class _Territorial(pa.DataFrameModel):
    territory_code: Series[pd.StringDtype] = pa.Field(str_matches=r"^(IT|ITCD|ITFG|\d|\d{2}|\d{3})$")
    territory_name: Series[pd.StringDtype] = pa.Field(str_length={"min_value": 2})
    territory_level: Series[pd.StringDtype] = pa.Field(isin=LEVELS)
    source_id: Series[pd.StringDtype] = pa.Field(str_matches=r"^[a-z0-9_]+(;[a-z0-9_]+)*$")
    status: Series[pd.StringDtype] = pa.Field(isin=STATUSES)


class ForeignBalance(_Territorial):
    """data/processed/foreign_balance.parquet: POPSTRBIL1, one row per territory x year x data type x sex."""

    territory_level: Series[pd.StringDtype] = pa.Field(isin=["italia", "ripartizione", "regione", "provincia"])
    year: Series[pd.Int64Dtype] = pa.Field(ge=1990, le=2100)
    measure: Series[pd.StringDtype] = pa.Field(isin=MEASURES)
    data_type: Series[pd.StringDtype] = pa.Field(isin=list(BALANCE_MEASURES))
    sex: Series[pd.StringDtype] = pa.Field(isin=list(SEXES.values()))
    value: Series[pd.Int64Dtype]
    scheme: Series[pd.StringDtype] = pa.Field(str_matches=r"^\d{4}-\d{4}( census-based)?$")

    class Config:
        strict = True
        unique = ["territory_code", "year", "data_type", "sex"]


class ProtectionPermits(_Territorial):
    """data/processed/protection_permits.parquet: new permits for international protection (flows)."""

    territory_level: Series[pd.StringDtype] = pa.Field(isin=["italia", "ripartizione", "regione", "provincia"])
    year: Series[pd.Int64Dtype] = pa.Field(ge=1990, le=2100)
    sex: Series[pd.StringDtype] = pa.Field(isin=list(SEXES.values()))
    country_code: Series[pd.StringDtype] = pa.Field(isin=list(COUNTRIES))
    country_name: Series[pd.StringDtype] = pa.Field(isin=[it for it, _ in COUNTRIES.values()])
    country_name_en: Series[pd.StringDtype] = pa.Field(isin=[en for _, en in COUNTRIES.values()])
    value: Series[pd.Int64Dtype] = pa.Field(ge=0)
    is_total: Series[pd.BooleanDtype]
    zero_filled: Series[pd.BooleanDtype]
    territory_vintage: Series[pd.StringDtype] = pa.Field(isin=[PERMITS_VINTAGE])
    comparable_to_current_province: Series[pd.BooleanDtype]
    territory_note: Series[pd.StringDtype] = pa.Field(nullable=True)

    @pa.dataframe_check(name="zero-filled rows have value 0")
    def _zero_filled(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["zero_filled"] | df["value"].eq(0)

    class Config:
        strict = True
        unique = ["territory_code", "year", "sex", "country_code"]


class LabourRates(_Territorial):
    """data/processed/labour_rates.parquet: LFS rates (%), annual, macro-areas only."""

    territory_level: Series[pd.StringDtype] = pa.Field(isin=["italia", "ripartizione", "macroarea"])
    year: Series[pd.Int64Dtype] = pa.Field(ge=1990, le=2100)
    indicator: Series[pd.StringDtype] = pa.Field(isin=[v for v, _ in LFS_INDICATORS.values()])
    citizenship: Series[pd.StringDtype] = pa.Field(isin=[v for v, _ in LFS_CITIZENSHIP.values()])
    sex: Series[pd.StringDtype] = pa.Field(isin=list(SEXES.values()))
    age_class: Series[pd.StringDtype] = pa.Field(isin=[v for v, _ in LFS_AGES.values()])
    education: Series[pd.StringDtype] = pa.Field(isin=[v for v, _ in LFS_EDUCATION.values()])
    value: Series[pd.Float64Dtype] = pa.Field(ge=0, le=100)

    @pa.dataframe_check(name="ITE is labelled Italia centrale")
    def _centre_label(cls, df: pd.DataFrame) -> Series[bool]:
        return df["territory_code"].ne("3") | df["territory_name"].eq("Italia centrale")

    class Config:
        strict = True
        unique = ["territory_code", "year", "indicator", "citizenship", "sex", "age_class", "education"]


class EducationLevels(_Territorial):
    """data/processed/education_levels.parquet: % composition by education level, Italy only."""

    territory_code: Series[pd.StringDtype] = pa.Field(isin=["IT"])
    territory_level: Series[pd.StringDtype] = pa.Field(isin=["italia"])
    year: Series[pd.Int64Dtype] = pa.Field(ge=1990, le=2100)
    education_level: Series[pd.StringDtype] = pa.Field(isin=list(EDUCATION_BLOCKS.values()))
    age_class: Series[pd.StringDtype] = pa.Field(isin=list(EDUCATION_AGES.values()))
    citizenship: Series[pd.StringDtype] = pa.Field(isin=list(EDUCATION_CITIZENSHIP.values()))
    value: Series[pd.Float64Dtype] = pa.Field(ge=0, le=100)

    class Config:
        strict = True
        unique = ["territory_code", "year", "education_level", "age_class", "citizenship"]


class CrossSourceCheck(pa.DataFrameModel):
    """data/processed/checks/*.csv: the same quantity read from two files."""

    check: Series[pd.StringDtype]
    territory_code: Series[pd.StringDtype]
    date: Series[pd.StringDtype] = pa.Field(str_matches=r"^\d{4}(-\d{2}-\d{2})?$")
    source_a: Series[pd.StringDtype]
    value_a: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    source_b: Series[pd.StringDtype]
    value_b: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    difference: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    status: Series[pd.StringDtype] = pa.Field(isin=["ok", "mismatch"])

    class Config:
        strict = True
        unique = ["check", "territory_code", "date"]
