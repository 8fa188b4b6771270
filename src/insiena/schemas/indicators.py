"""pandera models of the indicators stage's outputs: the long indicators table, its coverage table
and the two benchmark comparison tables.

The indicators table is large (every comune of Italy), so pattern checks run on the distinct values
only and the relational checks return one boolean per row.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from insiena.schemas.catalogue import STATUSES as CATALOGUE_STATUSES
from insiena.schemas.catalogue import THEMES
from insiena.schemas.registry import LEVELS

SEXES = ["totale", "maschi", "femmine"]
CITIZENSHIPS = ["totale", "stranieri", "italiani"]
STATUSES = ["final", "provisional"]
KEY = ["indicator_id", "territory_code", "period", "sex", "citizenship", "age_class", "category"]
INDICATOR_ID = r"[a-z][a-z0-9_]*"
TERRITORY_CODE = r"IT|ITCD|ITFG|\d|\d{2}|\d{3}|\d{6}|\d{3}-ZD\d+|[A-Z][A-Z0-9_]*"
PERIOD = r"\d{4}(-\d{2}(-\d{2})?)?"
SOURCE_IDS = r"[a-z0-9_]+(;[a-z0-9_]+)*"
# Width of the code at each level where the level fixes it.
CODE_OF_LEVEL = {"comune": r"\d{6}", "zona_distretto": r"\d{3}-ZD\d+", "provincia": r"\d{3}", "regione": r"\d{2}",
                 "ripartizione": r"\d", "macroarea": r"IT[A-Z]{2}", "italia": r"IT", "area": r"[A-Z][A-Z0-9_]*"}


def _matches(s: pd.Series, pattern: str) -> pd.Series:
    rx = re.compile(pattern)
    good = [v for v in s.dropna().unique() if rx.fullmatch(str(v))]
    return s.isin(good)


class Indicators(pa.DataFrameModel):
    """data/processed/indicators.{parquet,csv}: one row per indicator x territory x period x breakdown."""

    indicator_id: Series[pd.StringDtype]
    theme: Series[pd.StringDtype] = pa.Field(isin=THEMES)
    territory_code: Series[pd.StringDtype]
    territory_name: Series[pd.StringDtype]
    territory_level: Series[pd.StringDtype] = pa.Field(isin=LEVELS)
    period: Series[pd.StringDtype]
    sex: Series[pd.StringDtype] = pa.Field(isin=SEXES)
    citizenship: Series[pd.StringDtype] = pa.Field(isin=CITIZENSHIPS)
    age_class: Series[pd.StringDtype]
    category: Series[pd.StringDtype]
    value: Series[pd.Float64Dtype]
    unit: Series[pd.StringDtype]
    numerator: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    denominator: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    source_ids: Series[pd.StringDtype]
    status: Series[pd.StringDtype] = pa.Field(isin=STATUSES)
    census_break: Series[pd.BooleanDtype]
    benchmark_id: Series[pd.StringDtype] = pa.Field(nullable=True)
    benchmark_value: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    gap: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    note: Series[pd.StringDtype] = pa.Field(nullable=True)

    @pa.check("indicator_id", name="snake_case id")
    def _id(cls, s: pd.Series) -> pd.Series:
        return _matches(s, INDICATOR_ID)

    @pa.check("territory_code", name="ISTAT code, zona distretto or area id")
    def _code(cls, s: pd.Series) -> pd.Series:
        return _matches(s, TERRITORY_CODE)

    @pa.check("period", name="YYYY, YYYY-MM or YYYY-MM-DD")
    def _period(cls, s: pd.Series) -> pd.Series:
        return _matches(s, PERIOD)

    @pa.check("source_ids", name="registry ids joined by ';'")
    def _sources(cls, s: pd.Series) -> pd.Series:
        return _matches(s, SOURCE_IDS)

    @pa.check("value", name="finite")
    def _finite(cls, s: pd.Series) -> pd.Series:
        return pd.Series(np.isfinite(s.to_numpy(dtype="float64", na_value=np.nan)), index=s.index)

    @pa.dataframe_check(name="code fits its level")
    def _code_level(cls, df: pd.DataFrame) -> pd.Series:
        ok = np.zeros(len(df), dtype=bool)
        for level, pattern in CODE_OF_LEVEL.items():
            at = (df["territory_level"] == level).to_numpy(dtype=bool)
            if at.any():
                ok[at] = _matches(df.loc[at, "territory_code"], pattern).to_numpy(dtype=bool)
        return pd.Series(ok, index=df.index)

    @pa.dataframe_check(name="gap = value - benchmark_value")
    def _gap(cls, df: pd.DataFrame) -> pd.Series:
        both = df["gap"].notna().to_numpy(dtype=bool)
        diff = (df["value"] - df["benchmark_value"]).to_numpy(dtype="float64", na_value=np.nan)
        gap = df["gap"].to_numpy(dtype="float64", na_value=np.nan)
        ok = ~both | np.isclose(gap, diff, rtol=0, atol=1e-9)
        return pd.Series(ok, index=df.index)

    @pa.dataframe_check(name="benchmark value only with a benchmark id")
    def _benchmark(cls, df: pd.DataFrame) -> pd.Series:
        return df["benchmark_id"].notna() | df["benchmark_value"].isna()

    class Config:
        strict = True
        unique = KEY


class CoverageTable(pa.DataFrameModel):
    """data/processed/indicators_coverage.csv: per catalogue indicator x level, periods and gaps."""

    indicator_id: Series[pd.StringDtype]
    theme: Series[pd.StringDtype] = pa.Field(isin=THEMES)
    territory_level: Series[pd.StringDtype] = pa.Field(isin=LEVELS)
    status: Series[pd.StringDtype] = pa.Field(isin=CATALOGUE_STATUSES)
    periods_expected: Series[pd.StringDtype] = pa.Field(nullable=True)
    periods_computed: Series[pd.StringDtype] = pa.Field(nullable=True)
    periods_missing: Series[pd.StringDtype] = pa.Field(nullable=True)
    missing_reason: Series[pd.StringDtype] = pa.Field(nullable=True)
    periods_not_in_catalogue: Series[pd.StringDtype] = pa.Field(nullable=True)
    n_territories: Series[pd.Int64Dtype] = pa.Field(ge=0)
    n_rows: Series[pd.Int64Dtype] = pa.Field(ge=0)
    gap_kind: Series[pd.StringDtype] = pa.Field(nullable=True)
    would_need: Series[pd.StringDtype] = pa.Field(nullable=True)
    holder: Series[pd.StringDtype] = pa.Field(nullable=True)
    note: Series[pd.StringDtype] = pa.Field(nullable=True)

    @pa.dataframe_check(name="a gap has a remedy and no periods")
    def _gap_rows(cls, df: pd.DataFrame) -> pd.Series:
        gap = df["status"] == "gap"
        return ~gap | (df["would_need"].notna() & df["periods_computed"].isna())

    class Config:
        strict = True
        unique = ["indicator_id", "territory_level"]


class BenchmarkSiena2030(pa.DataFrameModel):
    """data/processed/benchmark_siena2030.csv: published figures beside the computed values."""

    benchmark_id: Series[pd.StringDtype] = pa.Field(nullable=True)
    kind: Series[pd.StringDtype] = pa.Field(isin=["baseline", "path", "projection", "contesto"])
    indicator_id: Series[pd.StringDtype]
    indicator_name: Series[pd.StringDtype]
    unit: Series[pd.StringDtype]
    territory_as_stated: Series[pd.StringDtype] = pa.Field(nullable=True)
    territory_code: Series[pd.StringDtype]
    territory_name: Series[pd.StringDtype]
    territory_level: Series[pd.StringDtype] = pa.Field(isin=LEVELS)
    assumption: Series[pd.StringDtype] = pa.Field(nullable=True)
    benchmark_year: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    benchmark_value: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    period: Series[pd.StringDtype] = pa.Field(nullable=True)
    value: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    gap: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    status: Series[pd.StringDtype] = pa.Field(nullable=True, isin=STATUSES)
    census_break: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    published_wording: Series[pd.StringDtype] = pa.Field(nullable=True)
    source_url: Series[pd.StringDtype] = pa.Field(nullable=True)
    note: Series[pd.StringDtype] = pa.Field(nullable=True)

    @pa.dataframe_check(name="every published figure cites its source")
    def _cited(cls, df: pd.DataFrame) -> pd.Series:
        return (df["kind"] == "contesto") | df["source_url"].notna()

    class Config:
        strict = True


class BenchmarkSamedi(pa.DataFrameModel):
    """data/processed/benchmark_samedi.csv: the SAMEDI indicators, one value column per territory."""

    indicator_id: Series[pd.StringDtype]
    indicator_name: Series[pd.StringDtype]
    theme: Series[pd.StringDtype] = pa.Field(isin=THEMES)
    unit: Series[pd.StringDtype]
    period: Series[pd.StringDtype] = pa.Field(nullable=True)
    sex: Series[pd.StringDtype] = pa.Field(nullable=True)
    citizenship: Series[pd.StringDtype] = pa.Field(nullable=True)
    age_class: Series[pd.StringDtype] = pa.Field(nullable=True)
    category: Series[pd.StringDtype] = pa.Field(nullable=True)
    values: Series[pd.Float64Dtype] = pa.Field(alias=r"^value_.+$", regex=True, nullable=True)
    status: Series[pd.StringDtype] = pa.Field(nullable=True, isin=STATUSES)
    census_break: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    catalogue_status: Series[pd.StringDtype] = pa.Field(isin=CATALOGUE_STATUSES)
    note: Series[pd.StringDtype] = pa.Field(nullable=True)

    class Config:
        strict = True
