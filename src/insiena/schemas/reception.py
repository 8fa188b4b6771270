"""Reception-system sources (issue 4): the Ministry's cruscotto, ANAC contracts, published figures,
optional per-centre data.

Raw models carry the official headers as aliases and read every cell as text, so that a count
written in an unexpected way (a decimal, a letter, a minus sign) is reported with its raw line
instead of being coerced silently. Processed models are strict, with nullable dtypes: a blank in a
raw file stays <NA> (not reported), never 0.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

STATUSES = ["final", "provisional"]
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
COUNT = r"^\d+$"
# ANAC writes amounts with a dot and optional decimals ("2091533.72", "19000000"); a sign is allowed
# by the pattern so that a negative amount is reported by the dedicated non-negative check.
AMOUNT = r"^-?\d+(\.\d+)?$"
URLS = r"^https?://\S+( ; https?://\S+)*$"

# --- cruscotto (Ministero dell'Interno via ondata) ------------------------------------------------
# The file header says "Migranti presenti ..."; the folder README documents the same columns as
# "Immigrati presenti ...". The reader accepts either spelling and renames to these.
CRUSCOTTO_HOTSPOT = "Migranti presenti negli hot spot"
CRUSCOTTO_CENTRI = "Migranti presenti nei centri di accoglienza"
CRUSCOTTO_SIPROIMI = "Migranti presenti nei centri SIPROIMI"
CRUSCOTTO_SAI = "Migranti presenti nei centri SAI"
CRUSCOTTO_COLUMNS = ["Regione", "Data_Report", CRUSCOTTO_HOTSPOT, CRUSCOTTO_CENTRI, CRUSCOTTO_SIPROIMI,
                     CRUSCOTTO_SAI, "CodiceRegione", "DenominazioneRegione"]
REGION_CODES = [f"{i:02d}" for i in range(1, 21)]


class CruscottoRaw(pa.DataFrameModel):
    """accoglienza.csv: one row per region and report date."""

    regione: Series[str] = pa.Field(alias="Regione", str_length={"min_value": 2})
    data_report: Series[str] = pa.Field(alias="Data_Report", str_matches=ISO_DATE)
    hotspot: Series[str] = pa.Field(alias=CRUSCOTTO_HOTSPOT, nullable=True, str_matches=COUNT)
    centri: Series[str] = pa.Field(alias=CRUSCOTTO_CENTRI, nullable=True, str_matches=COUNT)
    siproimi: Series[str] = pa.Field(alias=CRUSCOTTO_SIPROIMI, nullable=True, str_matches=COUNT)
    sai: Series[str] = pa.Field(alias=CRUSCOTTO_SAI, nullable=True, str_matches=COUNT)
    # Zero-padded ISTAT region code, read as text ("09" = Toscana).
    codice_regione: Series[str] = pa.Field(alias="CodiceRegione", isin=REGION_CODES)
    denominazione_regione: Series[str] = pa.Field(alias="DenominazioneRegione", str_length={"min_value": 2})

    @pa.dataframe_check(name="one_row_per_region_and_date")
    def _unique_pairs(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["CodiceRegione", "Data_Report"], keep=False)

    @pa.dataframe_check(name="siproimi_and_sai_not_both_filled")
    def _one_second_level_column(cls, df: pd.DataFrame) -> pd.Series:
        # The two columns are one series under two names; both filled would be two different counts.
        return ~(df[CRUSCOTTO_SIPROIMI].notna() & df[CRUSCOTTO_SAI].notna())

    class Config:
        strict = True


class CruscottoReportsRaw(pa.DataFrameModel):
    """anagrafica-report.csv: the PDF of each report date."""

    data_report: Series[str] = pa.Field(alias="Data_Report", str_matches=ISO_DATE, unique=True)
    url: Series[str] = pa.Field(alias="URL", str_matches=r"^https?://\S+\.pdf$")

    class Config:
        strict = True


PRESENCE_TYPES = ["hotspot", "centri_accoglienza", "second_level"]
SYSTEM_LABELS = ["SIPROIMI", "SAI"]


class ReceptionPresences(pa.DataFrameModel):
    territory_code: Series[pd.StringDtype] = pa.Field(str_matches=r"^(\d{2}|IT)$")
    territory_name: Series[pd.StringDtype]
    territory_level: Series[pd.StringDtype] = pa.Field(isin=["regione", "italia"])
    date: Series[pd.StringDtype] = pa.Field(str_matches=ISO_DATE)
    type: Series[pd.StringDtype] = pa.Field(isin=PRESENCE_TYPES)
    type_label: Series[pd.StringDtype]
    system_label: Series[pd.StringDtype] = pa.Field(nullable=True, isin=SYSTEM_LABELS)
    break_flag: Series[pd.BooleanDtype]
    value: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    aggregation: Series[pd.StringDtype] = pa.Field(isin=["reported", "sum_of_regions"])
    regions_reported: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0, le=20)
    source_id: Series[pd.StringDtype]
    pdf_url: Series[pd.StringDtype] = pa.Field(nullable=True)
    status: Series[pd.StringDtype] = pa.Field(isin=STATUSES)

    @pa.dataframe_check(name="one_row_per_territory_date_type")
    def _unique(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["territory_code", "date", "type"], keep=False)

    @pa.dataframe_check(name="italia_only_as_complete_sum")
    def _italia_complete(cls, df: pd.DataFrame) -> pd.Series:
        italia = df["territory_level"] == "italia"
        return ~italia | df["value"].isna() | (df["regions_reported"] == 20)

    class Config:
        strict = True
        coerce = True


# --- ANAC contracts (via Osservatorio Accoglienza) -----------------------------------------------
ANAC_COLUMNS = ["cig", "cig_accordo_quadro", "n_lotti_componenti", "oggetto_gara", "oggetto_lotto",
                "importo_lotto", "importo_complessivo_gara", "provincia", "luogo_istat",
                "data_pubblicazione", "tipo_scelta_contraente", "cf_amministrazione_appaltante",
                "denominazione_amministrazione_appaltante", "denominazione_centro_costo", "cod_cpv",
                "descrizione_cpv", "DURATA_PREVISTA", "ESITO", "confidenza"]
CONFIDENCE = ["certa", "probabile"]


class AnacContractsRaw(pa.DataFrameModel):
    """output/accoglienza_YYYY_MM.csv: one row per CIG (tender lot) and CPV code."""

    cig: Series[str] = pa.Field(str_matches=r"^[0-9A-Z]{10}$")
    cig_accordo_quadro: Series[str] = pa.Field(nullable=True, str_matches=r"^[0-9A-Z]{10}$")
    n_lotti_componenti: Series[str] = pa.Field(str_matches=COUNT)
    oggetto_gara: Series[str] = pa.Field(str_length={"min_value": 1})
    oggetto_lotto: Series[str] = pa.Field(nullable=True)
    importo_lotto: Series[str] = pa.Field(str_matches=AMOUNT)
    importo_complessivo_gara: Series[str] = pa.Field(str_matches=AMOUNT)
    provincia: Series[str] = pa.Field(nullable=True)
    # Six-digit ISTAT code of the place of execution, zero-padded text; often blank.
    luogo_istat: Series[str] = pa.Field(nullable=True, str_matches=r"^\d{6}$")
    data_pubblicazione: Series[str] = pa.Field(str_matches=ISO_DATE)
    tipo_scelta_contraente: Series[str] = pa.Field(str_length={"min_value": 1})
    # Fiscal code, or ANAC's own id "CFAVCP-..." for bodies registered without one.
    cf_amministrazione_appaltante: Series[str] = pa.Field(str_matches=r"^([0-9A-Z]{11,16}|CFAVCP-[0-9A-F]+)$")
    denominazione_amministrazione_appaltante: Series[str] = pa.Field(str_length={"min_value": 1})
    denominazione_centro_costo: Series[str] = pa.Field(nullable=True)
    # "99999999" (no CPV) and codes without the check digit occur.
    cod_cpv: Series[str] = pa.Field(str_matches=r"^\d{8}(-\d)?$")
    descrizione_cpv: Series[str] = pa.Field(nullable=True)
    durata_prevista: Series[str] = pa.Field(alias="DURATA_PREVISTA", nullable=True, str_matches=r"^\d+(\.0+)?$")
    esito: Series[str] = pa.Field(alias="ESITO", nullable=True)
    confidenza: Series[str] = pa.Field(isin=CONFIDENCE)

    @pa.check("importo_lotto", "importo_complessivo_gara", name="greater_than_or_equal_to(0)")
    def _non_negative(cls, s: pd.Series) -> pd.Series:
        return pd.to_numeric(s, errors="coerce").fillna(0).ge(0)

    class Config:
        strict = True


PROVINCE_BASES = ["luogo_istat", "buyer_name", "unknown"]
CATEGORIES = ["SAI", "CAS", "MSNA", "other"]
BUYER_TYPES = ["prefettura", "comune", "unione_comuni", "societa_salute", "provincia", "regione",
               "ministero", "altro"]


class ReceptionContracts(pa.DataFrameModel):
    cig: Series[pd.StringDtype] = pa.Field(unique=True, str_matches=r"^[0-9A-Z]{10}$")
    cig_framework: Series[pd.StringDtype] = pa.Field(nullable=True)
    publication_date: Series[pd.StringDtype] = pa.Field(str_matches=ISO_DATE)
    year: Series[pd.Int64Dtype] = pa.Field(ge=2000, le=2100)
    territory_code: Series[pd.StringDtype] = pa.Field(str_matches=r"^(\d{6}|\d{3}|IT)$")
    territory_level: Series[pd.StringDtype] = pa.Field(isin=["comune", "provincia", "italia"])
    province_code: Series[pd.StringDtype] = pa.Field(nullable=True, str_matches=r"^\d{3}$")
    province_name: Series[pd.StringDtype] = pa.Field(nullable=True)
    comune_code: Series[pd.StringDtype] = pa.Field(nullable=True, str_matches=r"^\d{6}$")
    province_basis: Series[pd.StringDtype] = pa.Field(isin=PROVINCE_BASES)
    province_rule: Series[pd.StringDtype] = pa.Field(nullable=True)
    buyer_name: Series[pd.StringDtype]
    buyer_cf: Series[pd.StringDtype]
    buyer_cost_centre: Series[pd.StringDtype] = pa.Field(nullable=True)
    buyer_type: Series[pd.StringDtype] = pa.Field(isin=BUYER_TYPES)
    # The province the buyer's own name points to (a Prefettura's province), whatever the place.
    buyer_province_code: Series[pd.StringDtype] = pa.Field(nullable=True, str_matches=r"^\d{3}$")
    object_tender: Series[pd.StringDtype]
    object_lot: Series[pd.StringDtype] = pa.Field(nullable=True)
    object_withheld: Series[pd.BooleanDtype]
    amount_lot: Series[pd.Float64Dtype] = pa.Field(ge=0)
    amount_tender: Series[pd.Float64Dtype] = pa.Field(ge=0)
    n_lots: Series[pd.Int64Dtype] = pa.Field(ge=0)
    framework: Series[pd.BooleanDtype]
    framework_basis: Series[pd.StringDtype] = pa.Field(nullable=True)
    category: Series[pd.StringDtype] = pa.Field(isin=CATEGORIES)
    category_rule: Series[pd.StringDtype]
    category_explicit: Series[pd.BooleanDtype]
    minors: Series[pd.BooleanDtype]
    confidence: Series[pd.StringDtype] = pa.Field(isin=CONFIDENCE)
    procedure_type: Series[pd.StringDtype]
    outcome: Series[pd.StringDtype] = pa.Field(nullable=True)
    duration_days: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    cpv_codes: Series[pd.StringDtype]
    source_rows: Series[pd.Int64Dtype] = pa.Field(ge=1)
    source_id: Series[pd.StringDtype] = pa.Field(str_matches=r"^[a-z0-9_]+$")
    status: Series[pd.StringDtype] = pa.Field(isin=STATUSES)

    @pa.dataframe_check(name="territory_matches_basis")
    def _territory_basis(cls, df: pd.DataFrame) -> pd.Series:
        unknown = df["province_basis"] == "unknown"
        return (unknown == (df["territory_level"] == "italia")) & (unknown == df["province_code"].isna())

    class Config:
        strict = True
        coerce = True


class ReceptionContractsSummary(pa.DataFrameModel):
    territory_code: Series[pd.StringDtype] = pa.Field(str_matches=r"^(\d{3}|IT)$")
    territory_name: Series[pd.StringDtype] = pa.Field(nullable=True)
    territory_level: Series[pd.StringDtype] = pa.Field(isin=["provincia", "italia"])
    year: Series[pd.Int64Dtype]
    category: Series[pd.StringDtype] = pa.Field(isin=CATEGORIES)
    contracts: Series[pd.Int64Dtype] = pa.Field(ge=1)
    contracts_luogo_istat: Series[pd.Int64Dtype] = pa.Field(ge=0)
    contracts_buyer_name: Series[pd.Int64Dtype] = pa.Field(ge=0)
    contracts_unknown_province: Series[pd.Int64Dtype] = pa.Field(ge=0)
    contracts_explicit: Series[pd.Int64Dtype] = pa.Field(ge=0)
    contracts_framework: Series[pd.Int64Dtype] = pa.Field(ge=0)
    contracts_probabile: Series[pd.Int64Dtype] = pa.Field(ge=0)
    amount_lot_non_framework: Series[pd.Float64Dtype] = pa.Field(nullable=True, ge=0)
    amount_label: Series[pd.StringDtype]
    source_id: Series[pd.StringDtype]

    class Config:
        strict = True
        coerce = True


# --- published figures (curated, config/published/reception_figures.csv) --------------------------
PUBLISHED_LEVELS = ["comune", "provincia", "regione", "italia"]
PUBLISHED_UNITS = ["persone", "posti", "strutture", "comuni", "percentuale", "progetti", "enti", "euro"]
QUALIFIERS = ["esatto", "più di", "circa"]
PUBLISHED_COLUMNS = ["figure_id", "section", "reference_date_text", "reference_date", "archive_date",
                     "territory_code", "territory_name", "territory_level", "scope", "partial_coverage",
                     "measure", "value", "value_qualifier", "unit", "source_url", "definition_note"]


class PublishedFiguresRaw(pa.DataFrameModel):
    figure_id: Series[str] = pa.Field(unique=True, str_matches=r"^[A-E]\d{2}$")
    section: Series[str] = pa.Field(isin=list("ABCDE"))
    reference_date_text: Series[str] = pa.Field(str_length={"min_value": 2})
    # ISO date, month or year only where the text gives one; otherwise blank (see archive_date).
    reference_date: Series[str] = pa.Field(nullable=True, str_matches=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    archive_date: Series[str] = pa.Field(nullable=True, str_matches=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    territory_code: Series[str] = pa.Field(str_matches=r"^(\d{6}|\d{3}|\d{2}|IT)$")
    territory_name: Series[str] = pa.Field(str_length={"min_value": 2})
    territory_level: Series[str] = pa.Field(isin=PUBLISHED_LEVELS)
    scope: Series[str] = pa.Field(str_length={"min_value": 2})
    partial_coverage: Series[str] = pa.Field(isin=["true", "false"])
    measure: Series[str] = pa.Field(str_matches=r"^[a-z][a-z0-9_]*$")
    value: Series[str] = pa.Field(str_matches=r"^\d+(\.\d+)?$")
    value_qualifier: Series[str] = pa.Field(isin=QUALIFIERS)
    unit: Series[str] = pa.Field(isin=PUBLISHED_UNITS)
    source_url: Series[str] = pa.Field(str_matches=URLS)
    definition_note: Series[str] = pa.Field(str_length={"min_value": 5})

    @pa.dataframe_check(name="code_matches_level")
    def _code_level(cls, df: pd.DataFrame) -> pd.Series:
        width = df["territory_level"].map({"comune": 6, "provincia": 3, "regione": 2})
        numeric = df["territory_code"].str.fullmatch(r"\d+") & (df["territory_code"].str.len() == width)
        return numeric.fillna(False) | ((df["territory_level"] == "italia") & (df["territory_code"] == "IT"))

    @pa.dataframe_check(name="percentage_at_most_100")
    def _pct(cls, df: pd.DataFrame) -> pd.Series:
        return (df["unit"] != "percentuale") | (pd.to_numeric(df["value"], errors="coerce") <= 100)

    class Config:
        strict = True


class ReceptionPublished(pa.DataFrameModel):
    figure_id: Series[pd.StringDtype] = pa.Field(unique=True)
    section: Series[pd.StringDtype]
    reference_date_text: Series[pd.StringDtype]
    reference_date: Series[pd.StringDtype] = pa.Field(nullable=True)
    reference_year: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    archive_date: Series[pd.StringDtype] = pa.Field(nullable=True)
    territory_code: Series[pd.StringDtype]
    territory_name: Series[pd.StringDtype]
    territory_level: Series[pd.StringDtype] = pa.Field(isin=PUBLISHED_LEVELS)
    province_code: Series[pd.StringDtype] = pa.Field(nullable=True, str_matches=r"^\d{3}$")
    scope: Series[pd.StringDtype]
    partial_coverage: Series[pd.BooleanDtype]
    measure: Series[pd.StringDtype]
    value: Series[pd.Float64Dtype] = pa.Field(ge=0)
    value_qualifier: Series[pd.StringDtype] = pa.Field(isin=QUALIFIERS)
    unit: Series[pd.StringDtype] = pa.Field(isin=PUBLISHED_UNITS)
    source_url: Series[pd.StringDtype]
    definition_note: Series[pd.StringDtype]
    kind: Series[pd.StringDtype] = pa.Field(isin=["published_statement"])
    source_id: Series[pd.StringDtype]

    class Config:
        strict = True
        coerce = True


# --- per-centre data (optional; docs/centres-format.md) ------------------------------------------
CENTRE_TYPES = ["CAS", "CPA", "hotspot", "SAI"]
CENTRES_REQUIRED = ["centro_id", "tipologia_centro", "comune_codice_istat", "rilevazione_data"]
CENTRES_OPTIONAL = ["centro_denominazione", "comune_denominazione", "provincia_cm_codice_istat",
                    "capienza", "presenze_giornaliere", "ente_gestore", "tipologia_ospiti",
                    "sai_progetto_codice"]


class CentresRaw(pa.DataFrameModel):
    """The per-centre input after header aliases are resolved (extra Centri d'Italia columns are
    dropped before validation: only these are read)."""

    centro_id: Series[str] = pa.Field(str_length={"min_value": 1})
    tipologia_centro: Series[str] = pa.Field(isin=CENTRE_TYPES)
    comune_codice_istat: Series[str] = pa.Field(str_matches=r"^\d{6}$")
    rilevazione_data: Series[str] = pa.Field(str_matches=ISO_DATE)
    centro_denominazione: Series[str] = pa.Field(nullable=True)
    comune_denominazione: Series[str] = pa.Field(nullable=True)
    provincia_cm_codice_istat: Series[str] = pa.Field(nullable=True, str_matches=r"^\d{3}$")
    capienza: Series[str] = pa.Field(nullable=True, str_matches=COUNT)
    presenze_giornaliere: Series[str] = pa.Field(nullable=True, str_matches=COUNT)
    ente_gestore: Series[str] = pa.Field(nullable=True)
    tipologia_ospiti: Series[str] = pa.Field(nullable=True)
    sai_progetto_codice: Series[str] = pa.Field(nullable=True)

    @pa.dataframe_check(name="one_row_per_centre_and_date")
    def _unique(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["tipologia_centro", "centro_id", "rilevazione_data"], keep=False)

    @pa.dataframe_check(name="province_matches_comune_code")
    def _province(cls, df: pd.DataFrame) -> pd.Series:
        p = df["provincia_cm_codice_istat"]
        return p.isna() | (p == df["comune_codice_istat"].str[:3])

    class Config:
        strict = True


class ReceptionCentres(pa.DataFrameModel):
    centre_id: Series[pd.StringDtype]
    centre_type: Series[pd.StringDtype] = pa.Field(isin=CENTRE_TYPES)
    centre_name: Series[pd.StringDtype] = pa.Field(nullable=True)
    territory_code: Series[pd.StringDtype] = pa.Field(str_matches=r"^\d{6}$")
    territory_name: Series[pd.StringDtype] = pa.Field(nullable=True)
    territory_level: Series[pd.StringDtype] = pa.Field(isin=["comune"])
    province_code: Series[pd.StringDtype] = pa.Field(str_matches=r"^\d{3}$")
    date: Series[pd.StringDtype] = pa.Field(str_matches=ISO_DATE)
    places: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    presences: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    manager: Series[pd.StringDtype] = pa.Field(nullable=True)
    guest_type: Series[pd.StringDtype] = pa.Field(nullable=True)
    sai_project: Series[pd.StringDtype] = pa.Field(nullable=True)
    source_id: Series[pd.StringDtype]

    class Config:
        strict = True
        coerce = True


class ReceptionCentresComuni(pa.DataFrameModel):
    territory_code: Series[pd.StringDtype] = pa.Field(str_matches=r"^\d{6}$")
    territory_name: Series[pd.StringDtype] = pa.Field(nullable=True)
    territory_level: Series[pd.StringDtype] = pa.Field(isin=["comune"])
    province_code: Series[pd.StringDtype] = pa.Field(str_matches=r"^\d{3}$")
    date: Series[pd.StringDtype] = pa.Field(str_matches=ISO_DATE)
    centre_type: Series[pd.StringDtype] = pa.Field(isin=CENTRE_TYPES)
    centres: Series[pd.Int64Dtype] = pa.Field(ge=1)
    places: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    centres_without_places: Series[pd.Int64Dtype] = pa.Field(ge=0)
    presences: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    centres_without_presences: Series[pd.Int64Dtype] = pa.Field(ge=0)
    source_id: Series[pd.StringDtype]

    class Config:
        strict = True
        coerce = True
