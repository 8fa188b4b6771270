"""pandera models for the configuration tables of the indicators stage.

They are the contract read by the indicators stage and the report: the flattened indicator catalogue
(one row per indicator x territorial level), the SIENA2030 benchmark table, the initiatives catalogue,
and the two tables the report prints (availability matrix, gap agenda).
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from insiena.schemas.registry import LEVELS

THEMES = ["demografia", "accoglienza", "salute", "alloggio", "lavoro", "educazione", "governance"]
FOUR_THEMES = ["salute", "alloggio", "lavoro", "educazione"]
ZARAGOZA_DOMAINS = ["employment", "education", "social_inclusion", "health", "housing", "active_citizenship"]
STATUSES = ["computed", "gap"]
GAP_KINDS = ["not_in_mirror", "not_found"]
PERIOD_TYPES = ["stock", "flow", "annual_average"]
POPULATIONS = ["total", "foreign", "italian"]
BREAKDOWNS = ["age_class_5y", "country_of_citizenship", "reception_type"]
BENCHMARK_KINDS = ["baseline", "projection"]
INITIATIVE_KINDS = ["progetto", "servizio", "percorso", "evento", "organismo"]
# Reader-facing labels: the report prints these, the tables keep the English identifiers.
STATUS_LABELS = {"computed": "calcolato", "gap": "non disponibile"}

_ID = r"^[a-z][a-z0-9_]*$"
_URL = r"^https?://\S+$"
_PARTIAL_DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"
_THEME_LIST = r"^(%s)(;(%s))*$" % ("|".join(THEMES), "|".join(THEMES))
_URL_LIST = r"^https?://\S+( ; https?://\S+)*$"


class CatalogueLevels(pa.DataFrameModel):
    """config/indicators.yaml flattened: one row per indicator x level listed in the file."""

    indicator_id: Series[pd.StringDtype] = pa.Field(str_matches=_ID)
    theme: Series[pd.StringDtype] = pa.Field(isin=THEMES)
    zaragoza_domain: Series[pd.StringDtype] = pa.Field(nullable=True, isin=ZARAGOZA_DOMAINS)
    name: Series[pd.StringDtype] = pa.Field(str_length={"min_value": 3})
    unit: Series[pd.StringDtype] = pa.Field(str_length={"min_value": 1})
    population: Series[pd.StringDtype] = pa.Field(nullable=True, isin=POPULATIONS)
    period_type: Series[pd.StringDtype] = pa.Field(isin=PERIOD_TYPES)
    breakdown: Series[pd.StringDtype] = pa.Field(nullable=True, isin=BREAKDOWNS)
    # Demographic context filed under a theme (births under salute), not a measure of the theme itself.
    context: Series[pd.BooleanDtype]
    numerator: Series[pd.StringDtype] = pa.Field(str_matches=_ID)
    denominator: Series[pd.StringDtype] = pa.Field(nullable=True, str_matches=_ID)
    scale: Series[pd.Float64Dtype] = pa.Field(gt=0)
    indicator_status: Series[pd.StringDtype] = pa.Field(isin=STATUSES)
    level: Series[pd.StringDtype] = pa.Field(isin=LEVELS)
    status: Series[pd.StringDtype] = pa.Field(isin=STATUSES)
    # ";"-joined lists keep the table flat for CSV and Parquet alike.
    periods: Series[pd.StringDtype] = pa.Field(nullable=True)
    missing: Series[pd.StringDtype] = pa.Field(nullable=True)
    sources: Series[pd.StringDtype] = pa.Field(nullable=True)
    gap_kind: Series[pd.StringDtype] = pa.Field(nullable=True, isin=GAP_KINDS)
    would_need: Series[pd.StringDtype] = pa.Field(nullable=True)
    holder: Series[pd.StringDtype] = pa.Field(nullable=True)
    note: Series[pd.StringDtype] = pa.Field(nullable=True)
    indicator_note: Series[pd.StringDtype] = pa.Field(nullable=True)

    class Config:
        strict = True
        coerce = True
        unique = ["indicator_id", "level"]

    @pa.dataframe_check(error="a computed level needs periods and sources; a gap needs gap_kind, would_need, holder")
    def level_fields_match_status(cls, df: pd.DataFrame) -> Series[bool]:
        computed = df["status"] == "computed"
        has_data = df["periods"].notna() & df["sources"].notna()
        has_gap = df["gap_kind"].notna() & df["would_need"].notna() & df["holder"].notna()
        return (computed & has_data & df["gap_kind"].isna()) | (~computed & has_gap & df["periods"].isna())


class Siena2030Benchmark(pa.DataFrameModel):
    """config/benchmarks/siena2030.csv: published SIENA2030 figures, one row set per version."""

    version: Series[pd.Int64Dtype] = pa.Field(ge=1)
    retrieved: Series[pd.StringDtype] = pa.Field(str_matches=r"^\d{4}-\d{2}-\d{2}$")
    benchmark_id: Series[pd.StringDtype] = pa.Field(str_matches=_ID)
    indicator_id: Series[pd.StringDtype] = pa.Field(str_matches=_ID)
    territory_as_stated: Series[pd.StringDtype] = pa.Field(str_length={"min_value": 2})
    territory_code_assumed: Series[pd.StringDtype] = pa.Field(str_matches=r"^([0-9]{2,3}|[0-9]{6}|IT|[A-Z][A-Z0-9_]*)$")
    territory_level_assumed: Series[pd.StringDtype] = pa.Field(isin=LEVELS)
    assumption: Series[pd.StringDtype] = pa.Field(str_length={"min_value": 10})
    reference_year: Series[pd.Int64Dtype] = pa.Field(ge=1900, le=2100)
    # The press gives no reference date for the baseline; the join must know the year is inferred.
    reference_year_basis: Series[pd.StringDtype] = pa.Field(isin=["stated", "publication_year"])
    value: Series[pd.Float64Dtype]
    unit: Series[pd.StringDtype]
    kind: Series[pd.StringDtype] = pa.Field(isin=BENCHMARK_KINDS)
    published_wording: Series[pd.StringDtype] = pa.Field(str_length={"min_value": 3, "max_value": 120})
    note: Series[pd.StringDtype] = pa.Field(nullable=True)
    source_url: Series[pd.StringDtype] = pa.Field(str_matches=_URL)
    source_date: Series[pd.StringDtype] = pa.Field(nullable=True, str_matches=_PARTIAL_DATE)

    class Config:
        strict = True
        coerce = True
        unique = ["version", "benchmark_id"]

    @pa.dataframe_check(error="reference_year_basis must be 'stated' when kind is 'projection' (only a baseline may use the publication year)")
    def projection_year_is_stated(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["kind"] != "projection") | (df["reference_year_basis"] == "stated")


class Initiatives(pa.DataFrameModel):
    """config/initiatives.csv: existing projects and services on migration in and around the territory."""

    initiative_id: Series[pd.StringDtype] = pa.Field(unique=True, str_matches=_ID)
    name: Series[pd.StringDtype] = pa.Field(str_length={"min_value": 3})
    kind: Series[pd.StringDtype] = pa.Field(isin=INITIATIVE_KINDS)
    lead_body: Series[pd.StringDtype] = pa.Field(nullable=True)
    partners: Series[pd.StringDtype] = pa.Field(nullable=True)
    territory: Series[pd.StringDtype] = pa.Field(str_length={"min_value": 3})
    territory_code: Series[pd.StringDtype] = pa.Field(nullable=True, str_matches=r"^([0-9]{2,3}|[0-9]{6}|IT|[A-Z][A-Z0-9_]*)$")
    territory_level: Series[pd.StringDtype] = pa.Field(nullable=True, isin=LEVELS)
    period_start: Series[pd.StringDtype] = pa.Field(nullable=True, str_matches=_PARTIAL_DATE)
    period_end: Series[pd.StringDtype] = pa.Field(nullable=True, str_matches=_PARTIAL_DATE)
    funding: Series[pd.StringDtype] = pa.Field(nullable=True)
    amount_eur: Series[pd.Float64Dtype] = pa.Field(nullable=True, ge=0)
    themes: Series[pd.StringDtype] = pa.Field(str_matches=_THEME_LIST)
    source_url: Series[pd.StringDtype] = pa.Field(str_matches=_URL)
    source_date: Series[pd.StringDtype] = pa.Field(nullable=True, str_matches=_PARTIAL_DATE)
    other_sources: Series[pd.StringDtype] = pa.Field(nullable=True, str_matches=_URL_LIST)
    note: Series[pd.StringDtype] = pa.Field(nullable=True)

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(error="territory_code needs territory_level")
    def code_has_level(cls, df: pd.DataFrame) -> Series[bool]:
        return df["territory_code"].isna() | df["territory_level"].notna()

    @pa.dataframe_check(error="period_end is before period_start")
    def period_ordered(cls, df: pd.DataFrame) -> Series[bool]:
        both = df["period_start"].notna() & df["period_end"].notna()
        return ~both | (df["period_start"].fillna("") <= df["period_end"].fillna("~"))


class AvailabilityMatrix(pa.DataFrameModel):
    """What the report prints for each theme x level: computed somewhere, or not available."""

    theme: Series[pd.StringDtype] = pa.Field(isin=THEMES)
    level: Series[pd.StringDtype] = pa.Field(isin=LEVELS)
    value: Series[pd.StringDtype] = pa.Field(isin=list(STATUS_LABELS.values()))
    n_computed: Series[pd.Int64Dtype] = pa.Field(ge=0)
    n_context: Series[pd.Int64Dtype] = pa.Field(ge=0)
    n_gap: Series[pd.Int64Dtype] = pa.Field(ge=0)
    n_indicators: Series[pd.Int64Dtype] = pa.Field(ge=0)

    class Config:
        strict = True
        coerce = True
        unique = ["theme", "level"]


class GapAgenda(pa.DataFrameModel):
    """The Lab conoscitivo agenda: each missing indicator x level and what would fill it."""

    theme: Series[pd.StringDtype] = pa.Field(isin=THEMES)
    indicator_id: Series[pd.StringDtype] = pa.Field(str_matches=_ID)
    name: Series[pd.StringDtype]
    level: Series[pd.StringDtype] = pa.Field(isin=LEVELS)
    gap_kind: Series[pd.StringDtype] = pa.Field(isin=GAP_KINDS)
    would_need: Series[pd.StringDtype]
    holder: Series[pd.StringDtype]
    note: Series[pd.StringDtype] = pa.Field(nullable=True)

    class Config:
        strict = True
        coerce = True
        unique = ["indicator_id", "level"]


class GapAgendaByIndicator(pa.DataFrameModel):
    """The same agenda with the levels that share one remedy joined (";"), for a shorter print."""

    theme: Series[pd.StringDtype] = pa.Field(isin=THEMES)
    indicator_id: Series[pd.StringDtype] = pa.Field(str_matches=_ID)
    name: Series[pd.StringDtype]
    levels: Series[pd.StringDtype] = pa.Field(str_matches=r"^(%s)(;(%s))*$" % ("|".join(LEVELS), "|".join(LEVELS)))
    gap_kind: Series[pd.StringDtype] = pa.Field(isin=GAP_KINDS)
    would_need: Series[pd.StringDtype]
    holder: Series[pd.StringDtype]

    class Config:
        strict = True
        coerce = True
