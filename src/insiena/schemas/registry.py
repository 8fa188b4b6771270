"""The source registry (config/sources.csv): one row per raw file the pipeline may use."""

import pandera.pandas as pa
from pandera.typing import Series

LEVELS = ["comune", "zona_distretto", "provincia", "area", "regione", "ripartizione", "macroarea", "italia"]


class SourceRegistry(pa.DataFrameModel):
    id: Series[str] = pa.Field(unique=True, str_matches=r"^[a-z0-9_]+$")
    dataset: Series[str] = pa.Field(str_matches=r"^[a-z0-9_]+$")
    producer: Series[str] = pa.Field(str_length={"min_value": 2})
    title: Series[str] = pa.Field(str_length={"min_value": 5})
    # Relative, forward-slash paths without '..': the same string names the file in the mirror and
    # under data/raw/, so it must not be able to escape either folder.
    path: Series[str] = pa.Field(unique=True, str_matches=r"^(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9_.\-/]+$")
    sha256: Series[str] = pa.Field(str_matches=r"^[0-9a-f]{64}$")
    size: Series[int] = pa.Field(ge=0)
    reference_date: Series[str] = pa.Field(str_matches=r"^\d{4}(-\d{2}(-\d{2})?)?(/\d{4}(-\d{2}(-\d{2})?)?)?$")
    status: Series[str] = pa.Field(isin=["final", "provisional"])
    licence: Series[str] = pa.Field(str_length={"min_value": 3})
    upstream_url: Series[str] = pa.Field(nullable=True, str_matches=r"^(https?://\S+)?$")
    producer_url: Series[str] = pa.Field(str_matches=r"^https?://\S+$")
    origin: Series[str]
    note: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = True
        coerce = True
