"""Reception-system sources (issue 4), each labelled with the territory it really covers.

- Ministero dell'Interno cruscotto (regional presences, twice a month): `build_presences`.
- ANAC public contracts for reception services (one file per month): `build_contracts`.
- Published figures (curated table) and optional per-centre data: `build_published_and_centres`.

Definitions, caveats and the matching/classification rules are documented in
docs/reception-sources.md; tests in tests/test_ingest_reception*.py pin them down.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import logging
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.errors

from insiena.errors import InputRejected
from insiena.ingest.istat_csv import bad_byte_location
from insiena.io import read_parquet, write_csv, write_json, write_parquet
from insiena.schemas import reception as S
from insiena.validation import FAILURE_COLUMNS, reject, relpath, validate

log = logging.getLogger(__name__)


def _read_text_csv(path, name: str, sep: str = ",", encoding: str = "utf-8-sig") -> pd.DataFrame:
    """Every cell as text; blank cells become <NA> (not reported), never 0.

    utf-8-sig: a byte-order mark (Excel writes one) is dropped, not glued to the first header."""
    src = relpath(path)
    data = Path(path).read_bytes()
    bom = 3 if encoding == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf") else 0
    try:
        data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        # Decoded here rather than by pandas, whose error gives no usable position in the file.
        line, column = bad_byte_location(data, bom + exc.start, sep, title=False)
        _reject_file(name, src, "encoding utf-8", repr(data[bom + exc.start:bom + exc.start + 8]), column=column,
                     row=str(line))
    try:
        df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, sep=sep, encoding=encoding)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        _reject_file(name, src, "readable_csv", str(exc).strip())
    return df.mask(df == "")


def _reject_file(name: str, source: str, check: str, value: str, column: str = "", row: str = "") -> None:
    reject(name, source, pd.DataFrame([{"file": source, "row": row, "column": column, "check": check,
                                        "value": value}], columns=FAILURE_COLUMNS),
           what="cannot be parsed")


def _require_columns(df: pd.DataFrame, expected: list[str], name: str, source: str) -> None:
    missing = [c for c in expected if c not in df.columns]
    if missing:
        failures = pd.DataFrame([{"file": source, "row": "1", "column": c, "check": "column_present",
                                  "value": "(missing from header)"} for c in missing], columns=FAILURE_COLUMNS)
        reject(name, source, failures, what=f"missing column(s) {', '.join(missing)}")


def _validate_files(df: pd.DataFrame, model, name: str, file_col: str = "_file",
                    line_col: str = "_line") -> None:
    """Validate rows read from several files at once; failures name each row's own file and line.

    insiena.validation.validate names one source per call; calling it per file would cost one
    pandera run per monthly file, so the rows are validated together and mapped back here.
    """
    data = df.drop(columns=[file_col, line_col])
    try:
        model.validate(data, lazy=True)
        return
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    rows = []
    for rec in cases.to_dict("records"):
        idx = rec.get("index")
        has_row = idx is not None and not (isinstance(idx, float) and pd.isna(idx)) and idx in df.index
        rows.append({
            "file": df.at[idx, file_col] if has_row else "",
            "row": str(int(df.at[idx, line_col])) if has_row else "",
            "column": "" if rec.get("column") is None else str(rec.get("column")),
            "check": str(rec.get("check")),
            "value": str(rec.get("failure_case")),
        })
    failures = pd.DataFrame(rows, columns=FAILURE_COLUMNS)
    failures["_n"] = pd.to_numeric(failures["row"], errors="coerce")
    failures = failures.sort_values(["file", "_n"], kind="mergesort").drop(columns="_n")
    files = [f for f in dict.fromkeys(failures["file"]) if f]
    # The summary lines name rows of the first file; the failures file names every row's own file.
    source = files[0] + (f" (and {len(files) - 1} more file(s))" if len(files) > 1 else "") if files else name
    reject(name, source, failures)


# ==================================================================================================
# Cruscotto statistico giornaliero: presences per region
# ==================================================================================================

TYPE_LABELS = {
    "hotspot": "Hotspot",
    "centri_accoglienza": "Centri di accoglienza (governativi e CAS insieme)",
    "second_level": "Seconda accoglienza (SIPROIMI fino al 2020, SAI dal 15/01/2021)",
}


def read_cruscotto(path, name: str = "cruscotto_accoglienza") -> pd.DataFrame:
    source = relpath(path)
    df = _read_text_csv(path, name)
    # The folder README calls the columns "Immigrati presenti ..."; the file says "Migranti ...".
    df = df.rename(columns=lambda c: re.sub(r"^Immigrati presenti", "Migranti presenti", c.strip()))
    _require_columns(df, S.CRUSCOTTO_COLUMNS, name, source)
    return validate(df, S.CruscottoRaw, name=name, source=source,
                    row_offset=pd.Series(df.index + 2, index=df.index))


def read_cruscotto_reports(path, name: str = "cruscotto_anagrafica_report") -> pd.DataFrame:
    source = relpath(path)
    df = _read_text_csv(path, name)
    _require_columns(df, ["Data_Report", "URL"], name, source)
    return validate(df, S.CruscottoReportsRaw, name=name, source=source,
                    row_offset=pd.Series(df.index + 2, index=df.index))


def report_calendar(first: str, last: str) -> list[str]:
    """The cruscotto's publication calendar: the 15th and the last day of every month."""
    start, end = pd.Timestamp(first), pd.Timestamp(last)
    dates = []
    for period in pd.period_range(start.to_period("M"), end.to_period("M"), freq="M"):
        month_end = calendar.monthrange(period.year, period.month)[1]
        for day in (15, month_end):
            d = pd.Timestamp(period.year, period.month, day)
            if start <= d <= end:
                dates.append(d.strftime("%Y-%m-%d"))
    return dates


def missing_report_dates(dates) -> list[str]:
    present = sorted(set(dates))
    return sorted(set(report_calendar(present[0], present[-1])) - set(present))


def tidy_presences(raw: pd.DataFrame, reports: pd.DataFrame | None, source_id: str,
                   status: str = "final") -> pd.DataFrame:
    """Long table: one row per region x report date x type, plus Italy where all 20 regions report."""
    # Regime of each report date: SAI from the first date any region fills the SAI column. The
    # two columns are one second-level series under two names (DL 130/2020 renamed SIPROIMI).
    sai_dates = raw.loc[raw[S.CRUSCOTTO_SAI].notna(), "Data_Report"]
    switch = sai_dates.min() if len(sai_dates) else None
    regime = raw["Data_Report"].map(lambda d: "SAI" if switch is not None and d >= switch else "SIPROIMI")
    second_label = pd.Series(pd.NA, index=raw.index, dtype="string")
    second_label[raw[S.CRUSCOTTO_SIPROIMI].notna()] = "SIPROIMI"
    second_label[raw[S.CRUSCOTTO_SAI].notna()] = "SAI"
    second_label = second_label.fillna(regime)

    base = pd.DataFrame({"territory_code": raw["CodiceRegione"], "territory_name": raw["DenominazioneRegione"],
                         "date": raw["Data_Report"]})
    parts = []
    for typ, values, label in [
        ("hotspot", raw[S.CRUSCOTTO_HOTSPOT], pd.NA),
        ("centri_accoglienza", raw[S.CRUSCOTTO_CENTRI], pd.NA),
        ("second_level", raw[S.CRUSCOTTO_SIPROIMI].fillna(raw[S.CRUSCOTTO_SAI]), second_label),
    ]:
        part = base.copy()
        part["type"] = typ
        part["system_label"] = label if isinstance(label, pd.Series) else pd.Series(pd.NA, index=part.index,
                                                                                  dtype="string")
        part["value"] = pd.to_numeric(values).astype("Int64")
        parts.append(part)
    regions = pd.concat(parts, ignore_index=True)
    regions["territory_level"] = "regione"
    regions["aggregation"] = "reported"
    regions["regions_reported"] = pd.array([pd.NA] * len(regions), dtype="Int64")

    grouped = regions.groupby(["date", "type"], sort=True)
    italia = grouped.agg(regions_reported=("value", "count"), rows=("value", "size"),
                         total=("value", "sum"), system_label=("system_label", "first")).reset_index()
    complete = (italia["regions_reported"] == len(S.REGION_CODES)) & (italia["rows"] == len(S.REGION_CODES))
    italia["value"] = italia["total"].astype("Int64").where(complete, pd.NA)
    italia = italia.assign(territory_code="IT", territory_name="Italia", territory_level="italia",
                           aggregation="sum_of_regions").drop(columns=["rows", "total"])
    out = pd.concat([regions, italia], ignore_index=True)

    out["type_label"] = out["type"].map(TYPE_LABELS)
    out["break_flag"] = (out["type"] == "second_level") & (switch is not None) & (out["date"] == switch)
    urls = dict(zip(reports["Data_Report"], reports["URL"])) if reports is not None else {}
    out["pdf_url"] = out["date"].map(urls)
    out["source_id"] = source_id
    out["status"] = status
    columns = list(S.ReceptionPresences.to_schema().columns)
    out = out[columns].astype({"territory_code": "string", "territory_name": "string", "territory_level": "string",
                               "date": "string", "type": "string", "type_label": "string",
                               "system_label": "string", "break_flag": "boolean", "value": "Int64",
                               "aggregation": "string", "regions_reported": "Int64", "source_id": "string",
                               "pdf_url": "string", "status": "string"})
    return out


def presence_gaps(raw: pd.DataFrame, reports: pd.DataFrame | None, source_id: str) -> pd.DataFrame:
    """Report dates of the calendar with no row in the file; listed, never interpolated."""
    missing = missing_report_dates(raw["Data_Report"])
    urls = dict(zip(reports["Data_Report"], reports["URL"])) if reports is not None else {}
    rows = []
    for d in missing:
        url = urls.get(d)
        note = ("report pubblicato (PDF in anagrafica-report.csv) ma non estratto in accoglienza.csv"
                if url else "nessun dato e nessun PDF per questa data nel mirror")
        rows.append({"date": d, "pdf_url": url, "note": note, "source_id": source_id})
    return pd.DataFrame(rows, columns=["date", "pdf_url", "note", "source_id"]).astype("string")


def build_presences(accoglienza, reports, out_table, out_gaps, source_id: str = "cruscotto_accoglienza",
                    reports_source_id: str = "cruscotto_anagrafica_report", status: str = "final") -> pd.DataFrame:
    raw = read_cruscotto(accoglienza)
    rep = read_cruscotto_reports(reports)
    table = tidy_presences(raw, rep, source_id, status)
    table = validate(table, S.ReceptionPresences, name="reception_presences", source="reception_presences")
    gaps = presence_gaps(raw, rep, f"{source_id};{reports_source_id}")
    write_parquet(out_table, table, sort_by=["territory_code", "date", "type"])
    write_csv(out_gaps, gaps, sort_by=["date"])
    log.info("presences: %d rows, %d report dates, missing dates %s", len(table), table["date"].nunique(),
             ", ".join(gaps["date"]) or "none")
    return table


# ==================================================================================================
# ANAC contracts
# ==================================================================================================

WITHHELD = "OGGETTO NON PUBBLICABILE"


def normalise(text) -> str:
    """Upper-case ASCII words: HTML entities decoded, accents and apostrophes removed.

    "SOCIETA' DELLA SALUTE" and "Società della Salute" both become "SOCIETA DELLA SALUTE";
    "Val d'Elsa" becomes "VAL D ELSA"; "Forlì-Cesena" becomes "FORLI CESENA".
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    s = _QUOTES.sub(" ", html.unescape(str(text)))
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii").upper()
    return _NON_WORD.sub(" ", s).strip()


_QUOTES = re.compile(r"['\u2019\u2018`\u00b4]")
_NON_WORD = re.compile(r"[^A-Z0-9]+")


def _object_text(text) -> str:
    # Dots are dropped before splitting so that acronyms written "S.P.R.A.R." or "M.S.N.A." match.
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    return normalise(str(text).replace(".", ""))


# --- classification of the object text -------------------------------------------------------------
# Priority SAI > CAS > MSNA > other: the system named in the text decides; minors are a separate
# flag, so a SAI project for unaccompanied minors is SAI with minors=True. See docs/reception-sources.md.
CATEGORY_RULES: list[tuple[str, str, str]] = [
    ("SAI", "sprar", r"\bSPRAR\b"),
    ("SAI", "siproimi", r"\bSIPROIMI\b"),
    ("SAI", "sai", r"\bSAI\b"),
    ("SAI", "sai_full_name", r"\bSISTEMA (DI )?ACCOGLIENZA E INTEGRAZIONE\b"),
    ("SAI", "sprar_full_name", r"\bSISTEMA (DI )?PROTEZIONE (PER )?(RICHIEDENTI ASILO|TITOLARI)"),
    ("SAI", "fnpsa", r"\bFNPSA\b|\bFONDO NAZIONALE (PER )?(LE )?POLITICHE E (I )?SERVIZI (DELL )?ASILO"),
    ("CAS", "cas", r"\bCAS\b"),
    ("CAS", "accoglienza_straordinaria", r"\bACCOGLIENZA STRAORDINARI[AO]\b|\bSTRAORDINARI[AO] (DI )?ACCOGLIENZA\b"
                                         r"|\bCENTR[OI] (DI )?ACCOGLIENZA STRAORDINARI"),
    ("MSNA", "msna", r"\bMSNA\b"),
    ("MSNA", "minori_stranieri", r"\bMINOR[EI] STRANIER[OI]\b"),
    ("MSNA", "minori_non_accompagnati", r"\bMINOR[EI]\b.*\bNON ACCOMPAGNAT[EIOA]\b"),
]
_COMPILED_RULES = [(cat, rule, re.compile(p)) for cat, rule, p in CATEGORY_RULES]
# "MSNA extra SAI" = minors placed outside the SAI network: the system word must not make it SAI.
OUTSIDE_SYSTEM = re.compile(r"\b(EXTRA|FUORI (DAL|DALLA RETE)) (SAI|SPRAR|SIPROIMI)\b")


# Prefetture procure CAS (and, in a few provinces, government first-reception centres) with objects
# such as "accoglienza migranti" that name no system. Such a contract is CAS by rule
# "prefettura_reception", recorded as not explicit; texts naming a government centre are left out.
RECEPTION_ACT = re.compile(r"\b(ACCOGLI|OSPITALITA|ASSISTENZA\b)")
RECEPTION_PEOPLE = re.compile(r"\b(MIGRANT|RICHIEDENT|PROFUGH|STRANIER|IMMIGRAT|RIFUGIAT|ASILO\b|"
                              r"PROTEZIONE INTERNAZIONALE|UCRAIN)")
GOVERNMENT_CENTRE = re.compile(r"\b(HOT ?SPOT|CPR|CPA|CARA|CDA|HUB|RIMPATRI|TRATTENIMENTO)")


def classify_object(text: str, normalised: bool = False, buyer: str | None = None) -> tuple[str, str, bool]:
    """(category, rule that fired, minors) for one contract object (tender + lot text).

    `buyer` is the buyer type (see buyer_type); it only matters for the last, non-explicit rule.
    """
    norm = OUTSIDE_SYSTEM.sub(" EXTRA SISTEMA ", text if normalised else _object_text(text))
    category, rule = "other", "none"
    minors = False
    for cat, name, pattern in _COMPILED_RULES:
        if pattern.search(norm):
            if category == "other":
                category, rule = cat, name
            if cat == "MSNA":
                minors = True
    if (category == "other" and buyer == "prefettura" and RECEPTION_ACT.search(norm)
            and RECEPTION_PEOPLE.search(norm) and not GOVERNMENT_CENTRE.search(norm)):
        category, rule = "CAS", "prefettura_reception"
    return category, rule, minors


EXPLICIT_RULES = {name for _, name, _ in CATEGORY_RULES}


FRAMEWORK_TEXT = re.compile(r"ACCORD[OI] ?QUADR")


# --- buyer types and buyer-name matching -----------------------------------------------------------
BUYER_TYPE_RULES: list[tuple[str, str]] = [
    ("prefettura", r"\bPREFETTUR|\bPREFETTO\b|\bUTG\b|\bU T G\b|\bUFFICIO TERRITORIALE (DEL )?GOVERNO\b"),
    ("ministero", r"\bMINISTERO\b|\bDIPARTIMENTO\b|\bDIP TO\b"),
    ("societa_salute", r"\bSOCIETA DELLA SALUTE\b|\bSDS\b|\bCOESO\b"),
    ("provincia", r"\bPROVINCIA\b|\bPROVINCIALE\b|\bCITTA METROPOLITANA\b|\bLIBERO CONSORZIO\b"),
    ("unione_comuni", r"\bUNIONE\b|\bCOMUNITA MONTANA\b|\bCOM MONT\b|\bCOMUNITA (COLLINARE|COMPRENSORIALE)\b"
                      r"|\bCONSORZIO\b.*\bCOMUN|\bINTERCOMUNAL|\bCENTRALE (UNICA )?(DI )?COMMITTENZA\b|\bCUC\b"
                      r"|\bC U C\b|\bCOMUNI\b|\bBEZIRK|\bBEZIRSGEMEINSCHAFT\b|\bCIRCONDARIO\b"),
    ("comune", r"^(COMUNE|MUNICIPIO|AMMINISTRAZIONE COMUNALE|CITTA DI)\b|\bROMA CAPITALE\b"),
    ("regione", r"^REGIONE\b"),
]
_BUYER_TYPES = [(t, re.compile(p)) for t, p in BUYER_TYPE_RULES]


def buyer_type(name: str) -> str:
    norm = normalise(name)
    for typ, pattern in _BUYER_TYPES:
        if pattern.search(norm):
            return typ
    return "altro"


# Bodies whose name carries no comune or province name, placed by hand (checked on their own
# sites); each entry is a phrase of the normalised buyer name -> province code.
BUYER_ALIASES: dict[str, str] = {
    "ROMA CAPITALE": "058",
    "SOCIETA DELLA SALUTE SENESE": "052",
    "SOCIETA DELLA SALUTE DELLA ZONA ALTA VAL D ELSA": "052",
    "SOCIETA DELLA SALUTE ALTA VAL D ELSA": "052",
    "SOCIETA DELLA SALUTE AREA PRATESE": "100",
    "SOCIETA DELLA SALUTE DELLA LUNIGIANA": "045",
    "SOCIETA DELLA SALUTE ZONA PISANA": "050",
    "AREA SOCIO SANIT GROSSETANA": "053",
    "NUOVO CIRCONDARIO IMOLESE": "037",
    "BEZIRKSGEMEINSCHAFT": "021",
    "BEZIRSGEMEINSCHAFT": "021",
    "COMUNITA COMPRENSORIALE BURGRAVIATO": "021",
    "AGENTUR FUER BEVOELKERUNGSSCHUTZ": "021",
    # The region is a single province (Aosta): a regional body is placed there.
    "REGIONE AUTONOMA VALLE D AOSTA": "007",
    "REGIONE AUTONOMA DELLA VALLE D AOSTA": "007",
}

# Everyday spellings of official province names (official names come from territories.parquet).
PROVINCE_EXTRA_NAMES: dict[str, list[str]] = {
    "007": ["AOSTA", "VALLE D AOSTA"],
    "011": ["SPEZIA"],
    "021": ["BOLZANO", "BOZEN", "ALTO ADIGE", "SUDTIROL"],
    "035": ["REGGIO EMILIA"],
    "040": ["FORLI"],
    "041": ["PESARO"],
    "066": ["AQUILA"],
    "080": ["REGGIO CALABRIA"],
    "108": ["MONZA", "MONZA BRIANZA", "MONZA E BRIANZA"],
}

# Provinces suppressed by the Sardinian reform of 2016 (L.R. 2/2016): whole-province successors.
# Old luogo_istat codes (e.g. 107006) keep their comune code; the province is the successor.
SUPPRESSED_PROVINCES = {"104": "090", "105": "091", "106": "111", "107": "111"}

_PREFIXES_COMUNE = re.compile(r"^(COMUNE|MUNICIPIO|AMMINISTRAZIONE COMUNALE|CITTA)( DI| DEL| DELLA)? ")
_STOPWORDS = {"E", "DI", "DEL", "DELLA", "DEI", "DELLE", "TRA", "I", "IL", "LA", "LE"}


def territory_lookup(territories: pd.DataFrame) -> dict:
    """Names of provinces and comuni, normalised, for buyer-name matching."""
    t = territories.copy()
    for col in ("territory_code", "territory_name", "territory_level", "province_code"):
        if col not in t.columns:
            raise InputRejected(f"territories table: column '{col}' is missing (columns: {', '.join(t.columns)})")
    comuni = t[t["territory_level"] == "comune"]
    provinces = t[t["territory_level"] == "provincia"][["territory_code", "territory_name"]]
    if provinces.empty and "province_name" in t.columns:
        provinces = comuni[["province_code", "province_name"]].drop_duplicates().set_axis(
            ["territory_code", "territory_name"], axis=1)
    province_names = dict(zip(provinces["territory_code"].astype(str), provinces["territory_name"].astype(str)))

    variants: dict[str, str] = {}
    for code, name in province_names.items():
        for v in [name, *name.split("/"), *PROVINCE_EXTRA_NAMES.get(code, [])]:
            n = normalise(v)
            if n:
                variants.setdefault(n, code)
    comune_index: dict[str, set[tuple[str, str]]] = {}
    for code, name, prov in zip(comuni["territory_code"].astype(str), comuni["territory_name"].astype(str),
                                comuni["province_code"].astype(str)):
        for v in [name, *name.split("/")]:
            n = normalise(v)
            if n:
                comune_index.setdefault(n, set()).add((code, prov))
    return {"province_names": province_names,
            "province_variants": sorted(variants.items(), key=lambda kv: (-len(kv[0]), kv[0])),
            "comuni": comune_index}


def provinces_named(text: str, lookup: dict) -> set[str]:
    """Province codes whose name appears as whole words; longer names are matched first and masked,
    so "REGGIO NELL EMILIA" is not also read as another province."""
    padded = f" {text} "
    found = set()
    for variant, code in lookup["province_variants"]:
        needle = f" {variant} "
        if needle in padded:
            found.add(code)
            padded = padded.replace(needle, " | ")
    return found


def _comune_candidates(remainder: str, lookup: dict) -> set[tuple[str, str]]:
    words = remainder.split()
    for n in range(len(words), 0, -1):
        hit = lookup["comuni"].get(" ".join(words[:n]))
        if hit:
            return hit
    return set()


def _comuni_listed(text: str, lookup: dict) -> set[str]:
    """Provinces of the comuni named in a list (unions, CUC): longest names first, no overlaps."""
    words = text.split()
    provinces, comuni = set(), set()
    i = 0
    while i < len(words):
        if words[i] in _STOPWORDS:
            i += 1
            continue
        for n in range(min(5, len(words) - i), 0, -1):
            hit = lookup["comuni"].get(" ".join(words[i:i + n]))
            if hit:
                if len(hit) == 1:
                    code, prov = next(iter(hit))
                    comuni.add(code)
                    provinces.add(prov)
                i += n
                break
        else:
            i += 1
    return provinces if len(comuni) >= 2 else set()


def match_buyer(name: str, cost_centre: str | None, lookup: dict) -> tuple[str | None, str | None]:
    """(province code, rule) for a contracting body, or (None, None) when its name does not say.

    Rules, in order: hand-checked aliases; Prefettura/UTG -> the province named in the buyer name,
    else in the cost-centre name; province-type bodies -> the province named; "COMUNE DI X" -> the
    province of comune X (homonyms only when a province name settles them); unions and CUC -> the
    one province of two or more comuni listed; any other body (not a Region) -> a single province
    named in it; finally the cost centre, when it is a Prefettura naming one province or, for unions,
    CUC and other bodies, a comune.
    """
    norm = normalise(name)
    padded = f" {norm} "
    for phrase, code in BUYER_ALIASES.items():
        if f" {phrase} " in padded:
            return code, "alias"
    typ = buyer_type(name)
    named = provinces_named(norm, lookup)
    if typ == "prefettura":
        if len(named) == 1:
            return next(iter(named)), "prefettura_name"
        if named:
            return None, None
    elif typ == "provincia":
        if len(named) == 1:
            return next(iter(named)), "provincia_name"
    elif typ == "comune":
        remainder = _PREFIXES_COMUNE.sub("", norm)
        candidates = _comune_candidates(remainder, lookup)
        provs = {p for _, p in candidates}
        if len(provs) == 1:
            return next(iter(provs)), "comune_name"
        if len(provs) > 1 and len(provs & named) == 1:
            return next(iter(provs & named)), "comune_name_and_province"
    elif typ == "unione_comuni":
        provs = _comuni_listed(norm, lookup)
        if len(provs) == 1:
            return next(iter(provs)), "comuni_listed"
    if typ == "regione":
        return None, None
    if typ not in ("prefettura", "comune") and len(named) == 1:
        return next(iter(named)), "province_name_in_text"
    # The cost centre names the office that ran the tender: a Prefettura (ministry purchases made
    # for it, UTG without a place) or, for unions and CUC, the leading comune.
    cc = normalise(cost_centre)
    cc_type = buyer_type(cost_centre) if cc else None
    if cc_type == "prefettura":
        cc_named = provinces_named(cc, lookup)
        if len(cc_named) == 1:
            return next(iter(cc_named)), "cost_centre_prefettura"
    if cc_type == "comune" and typ in ("unione_comuni", "altro", "societa_salute"):
        provs = {p for _, p in _comune_candidates(_PREFIXES_COMUNE.sub("", cc), lookup)}
        if len(provs) == 1:
            return next(iter(provs)), "cost_centre_comune"
    return None, None


# --- reading and tidying ---------------------------------------------------------------------------

def read_anac(paths, source_ids, name: str = "anac_contracts") -> pd.DataFrame:
    """All monthly files, read and validated together; `_file`, `_line`, `_source_id` kept per row."""
    frames = []
    for path, sid in zip(paths, source_ids):
        source = relpath(path)
        df = _read_text_csv(path, name)
        _require_columns(df, S.ANAC_COLUMNS, name, source)
        # 19 framework CIGs carry a trailing blank or lower-case letters; CIGs are upper-case codes.
        df["cig_accordo_quadro"] = df["cig_accordo_quadro"].str.strip().str.upper()
        df["_file"] = source
        df["_line"] = df.index + 2
        df["_source_id"] = sid
        frames.append(df)
    if not frames:
        raise InputRejected(f"{name}: no input file")
    raw = pd.concat(frames, ignore_index=True)
    _validate_files(raw.drop(columns=["_source_id"]), S.AnacContractsRaw, name)
    return raw


def tidy_contracts(raw: pd.DataFrame, territories: pd.DataFrame, status: str = "final") -> pd.DataFrame:
    """One row per CIG: rows repeated for each CPV code of a lot are merged (cpv_codes joined)."""
    raw = raw.sort_values(["_file", "_line"], kind="mergesort")
    dup = raw[raw["cig"].duplicated(keep=False)]
    grouped = dup.groupby("cig", sort=False)
    df = raw.drop_duplicates("cig", keep="first").reset_index(drop=True)
    df["cpv_codes"] = df["cod_cpv"]
    df["source_rows"] = 1
    df["source_id"] = df["_source_id"]
    if not dup.empty:
        other = [c for c in S.ANAC_COLUMNS if c not in ("cig", "cod_cpv", "descrizione_cpv")]
        conflicts = (grouped[other].nunique(dropna=False) > 1).any(axis=1)
        if conflicts.any():
            log.warning("contracts: %d CIG appear in several rows that differ beyond the CPV code; the first "
                        "row (file order) is kept: %s", int(conflicts.sum()),
                        ", ".join(conflicts[conflicts].index[:10]))
        cpv = grouped["cod_cpv"].agg(lambda s: ";".join(sorted(set(s))))
        sources = grouped["_source_id"].agg(lambda s: ";".join(dict.fromkeys(s)))
        is_dup = df["cig"].isin(cpv.index)
        df.loc[is_dup, "cpv_codes"] = df.loc[is_dup, "cig"].map(cpv)
        df.loc[is_dup, "source_id"] = df.loc[is_dup, "cig"].map(sources)
        df.loc[is_dup, "source_rows"] = df.loc[is_dup, "cig"].map(grouped.size())

    lookup = territory_lookup(territories)
    # Place of execution first: the first three digits of luogo_istat are its province.
    comune = df["luogo_istat"].astype("string")
    prov_from_code = comune.str[:3].replace(SUPPRESSED_PROVINCES)
    buyers = df[["denominazione_amministrazione_appaltante", "denominazione_centro_costo"]].drop_duplicates()
    matched = {(b, c): match_buyer(b, c, lookup) for b, c in buyers.itertuples(index=False, name=None)}
    keys = list(zip(df["denominazione_amministrazione_appaltante"], df["denominazione_centro_costo"]))
    buyer_prov = pd.Series([matched[k][0] for k in keys], index=df.index, dtype="string")
    buyer_rule = pd.Series([matched[k][1] for k in keys], index=df.index, dtype="string")
    has_code = comune.notna()
    province = prov_from_code.where(has_code, buyer_prov)
    basis = pd.Series("unknown", index=df.index, dtype="string")
    basis[~has_code & buyer_prov.notna()] = "buyer_name"
    basis[has_code] = "luogo_istat"
    rule = buyer_rule.where(~has_code, "luogo_istat_prefix")
    rule[(has_code & (comune.str[:3] != prov_from_code)).fillna(False)] = "luogo_istat_suppressed_province"

    lot = df["oggetto_lotto"].where(~df["oggetto_lotto"].fillna("").str.upper().str.startswith(WITHHELD))
    texts = df["oggetto_gara"].fillna("") + " || " + lot.fillna("")
    # Many objects repeat (one tender, many lots): each distinct text is normalised and classified once.
    uniq = pd.Series(texts.unique())
    norm_of = dict(zip(uniq, uniq.map(_object_text)))
    object_norm = texts.map(norm_of)
    buyer_names = df["denominazione_amministrazione_appaltante"]
    buyer_types = buyer_names.map({b: buyer_type(b) for b in buyer_names.unique()})
    pairs = pd.Series(list(zip(object_norm, buyer_types)), index=df.index)
    class_of = {(n, b): classify_object(n, normalised=True, buyer=b) for n, b in set(pairs)}
    classes = pairs.map(class_of)
    fw_signals = pd.DataFrame({
        "cig_accordo_quadro": df["cig_accordo_quadro"].notna(),
        "procedure": df["tipo_scelta_contraente"].str.upper().str.contains("ACCORDO QUADRO", regex=False),
        "object_text": object_norm.str.contains(FRAMEWORK_TEXT),
    })
    fw_basis = pd.Series([";".join(c for c, on in zip(fw_signals.columns, row) if on) or None
                          for row in fw_signals.itertuples(index=False)], index=df.index, dtype="string")

    out = pd.DataFrame({
        "cig": df["cig"],
        "cig_framework": df["cig_accordo_quadro"],
        "publication_date": df["data_pubblicazione"],
        "year": df["data_pubblicazione"].str[:4].astype(int),
        "territory_code": comune.where(has_code, province).fillna("IT"),
        "territory_level": np.select([has_code.to_numpy(), province.notna().to_numpy()],
                                     ["comune", "provincia"], "italia"),
        "province_code": province,
        "province_name": province.map(lookup["province_names"]),
        "comune_code": comune,
        "province_basis": basis,
        "province_rule": rule,
        "buyer_name": df["denominazione_amministrazione_appaltante"],
        "buyer_cf": df["cf_amministrazione_appaltante"],
        "buyer_cost_centre": df["denominazione_centro_costo"],
        "buyer_type": buyer_types,
        "buyer_province_code": buyer_prov,
        "object_tender": df["oggetto_gara"],
        "object_lot": df["oggetto_lotto"],
        "object_withheld": df["oggetto_lotto"].fillna("").str.upper().str.startswith(WITHHELD),
        "amount_lot": pd.to_numeric(df["importo_lotto"]),
        "amount_tender": pd.to_numeric(df["importo_complessivo_gara"]),
        "n_lots": pd.to_numeric(df["n_lotti_componenti"]),
        "framework": fw_basis.notna(),
        "framework_basis": fw_basis,
        "category": classes.str[0],
        "category_rule": classes.str[1],
        "category_explicit": classes.str[1].isin(EXPLICIT_RULES),
        "minors": classes.str[2],
        "confidence": df["confidenza"],
        "procedure_type": df["tipo_scelta_contraente"],
        "outcome": df["ESITO"],
        "duration_days": pd.to_numeric(df["DURATA_PREVISTA"]).astype("Int64"),
        "cpv_codes": df["cpv_codes"],
        "source_rows": df["source_rows"],
        "source_id": df["source_id"],
        "status": status,
    })
    dtypes = {c: "string" for c in out.columns}
    dtypes.update({"year": "Int64", "n_lots": "Int64", "duration_days": "Int64", "source_rows": "Int64",
                   "amount_lot": "Float64", "amount_tender": "Float64", "object_withheld": "boolean",
                   "framework": "boolean", "minors": "boolean", "category_explicit": "boolean"})
    return out.astype(dtypes)


def prefettura_contracts(contracts: pd.DataFrame, province: str) -> pd.DataFrame:
    """The contracts whose buyer is the Prefettura (UTG) of `province`, wherever they are carried out,
    by publication date: the list the report shows per year."""
    mask = (contracts["buyer_type"] == "prefettura") & (contracts["buyer_province_code"] == province)
    return contracts[mask.fillna(False)].sort_values(["publication_date", "cig"], kind="mergesort")


AMOUNT_LABEL = ("Somma degli importi dei lotti (base di gara) pubblicati nell'anno, esclusi accordi quadro "
                "e contratti collegati: non è spesa annua né costo dell'accoglienza")


def summarise_contracts(contracts: pd.DataFrame) -> pd.DataFrame:
    """Contracts per province x year x category, and for Italy (all contracts, province known or not).
    Amounts only over contracts with no framework signal: framework ceilings are never summed."""
    c = contracts.assign(
        _luogo=contracts["province_basis"] == "luogo_istat",
        _buyer=contracts["province_basis"] == "buyer_name",
        _unknown=contracts["province_basis"] == "unknown",
        _fw=contracts["framework"].astype(bool),
        _explicit=contracts["category_explicit"].astype(bool),
        _prob=contracts["confidence"] == "probabile",
        _amount=contracts["amount_lot"].where(~contracts["framework"].astype(bool)),
    )

    def agg(frame, keys):
        g = frame.groupby(keys, sort=True, dropna=False)
        return g.agg(contracts=("cig", "size"), contracts_luogo_istat=("_luogo", "sum"),
                     contracts_buyer_name=("_buyer", "sum"), contracts_unknown_province=("_unknown", "sum"),
                     contracts_explicit=("_explicit", "sum"), contracts_framework=("_fw", "sum"),
                     contracts_probabile=("_prob", "sum"),
                     amount_lot_non_framework=("_amount", lambda s: s.sum(min_count=1))).reset_index()

    prov = agg(c[c["province_code"].notna()], ["province_code", "year", "category"]).rename(
        columns={"province_code": "territory_code"})
    names = contracts.dropna(subset=["province_code"]).drop_duplicates("province_code").set_index(
        "province_code")["province_name"]
    prov["territory_name"] = prov["territory_code"].map(names)
    prov["territory_level"] = "provincia"
    italia = agg(c, ["year", "category"]).assign(territory_code="IT", territory_name="Italia",
                                                 territory_level="italia")
    out = pd.concat([prov, italia], ignore_index=True)
    out["amount_label"] = AMOUNT_LABEL
    out["source_id"] = "anac_contracts"
    columns = list(S.ReceptionContractsSummary.to_schema().columns)
    dtypes = {col: "Int64" for col in columns if col.startswith("contracts")}
    dtypes.update({"territory_code": "string", "territory_name": "string", "territory_level": "string",
                   "year": "Int64", "category": "string", "amount_lot_non_framework": "Float64",
                   "amount_label": "string", "source_id": "string"})
    return out[columns].astype(dtypes)


def build_contracts(paths, source_ids, territories, out_table, out_summary,
                    status: str = "final") -> pd.DataFrame:
    """`territories`: path of territories.parquet, or the frame itself (tests)."""
    raw = read_anac(paths, source_ids)
    if not isinstance(territories, pd.DataFrame):
        territories = read_parquet(territories)
    table = validate(tidy_contracts(raw, territories, status), S.ReceptionContracts, name="reception_contracts",
                     source="reception_contracts")
    summary = validate(summarise_contracts(table), S.ReceptionContractsSummary,
                       name="reception_contracts_summary", source="reception_contracts_summary")
    write_parquet(out_table, table, sort_by=["publication_date", "cig"])
    write_parquet(out_summary, summary, sort_by=["territory_code", "year", "category"])
    basis = table["province_basis"].value_counts().to_dict()
    log.info("contracts: %d raw rows -> %d CIG; province basis %s; framework %d; categories %s",
             len(raw), len(table), basis, int(table["framework"].sum()),
             table["category"].value_counts().to_dict())
    return table


# ==================================================================================================
# Published figures and per-centre data
# ==================================================================================================

def read_published(path, name: str = "reception_figures") -> pd.DataFrame:
    source = relpath(path)
    df = _read_text_csv(path, name)
    _require_columns(df, S.PUBLISHED_COLUMNS, name, source)
    return validate(df, S.PublishedFiguresRaw, name=name, source=source,
                    row_offset=pd.Series(df.index + 2, index=df.index))


def tidy_published(raw: pd.DataFrame) -> pd.DataFrame:
    out = raw.copy()
    out["partial_coverage"] = out["partial_coverage"] == "true"
    out["value"] = pd.to_numeric(out["value"])
    out["reference_year"] = pd.to_numeric(out["reference_date"].str[:4]).astype("Int64")
    local = out["territory_level"].isin(["comune", "provincia"])
    out["province_code"] = out["territory_code"].str[:3].where(local)
    # Statements, not a series: the kind column keeps them apart from computed values downstream.
    out["kind"] = "published_statement"
    out["source_id"] = "reception_figures"
    columns = list(S.ReceptionPublished.to_schema().columns)
    dtypes = {c: "string" for c in columns}
    dtypes.update({"reference_year": "Int64", "partial_coverage": "boolean", "value": "Float64"})
    return out[columns].astype(dtypes)


# Header aliases: Centri d'Italia's three files name the same things differently.
CENTRE_ALIASES = {
    "centro_id": ["centro_id", "sai_struttura_id", "progetto_codice"],
    "rilevazione_data": ["rilevazione_data", "data_rilevazione", "data_riferimento"],
    "presenze_giornaliere": ["presenze_giornaliere", "presenze"],
    "centro_denominazione": ["centro_denominazione", "sai_struttura_denominazione"],
    "sai_progetto_codice": ["sai_progetto_codice", "progetto_codice"],
    "tipologia_centro": ["tipologia_centro"],
}
CENTRE_TYPE_VALUES = {"CAS": "CAS", "CPA": "CPA", "HOTSPOT": "hotspot", "HOT SPOT": "hotspot", "SAI": "SAI"}


def read_centres(path, name: str = "reception_centres_input") -> pd.DataFrame:
    source = relpath(path)
    with open(path, "rb") as fh:
        head = fh.readline().decode("utf-8-sig", errors="replace")
    sep = ";" if head.count(";") > head.count(",") else ","
    df = _read_text_csv(path, name, sep=sep, encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    resolved = {}
    for target, names in CENTRE_ALIASES.items():
        for n in names:
            if n in df.columns and target not in resolved.values():
                resolved[n] = target
                break
    df = df.rename(columns=resolved)
    if "tipologia_centro" not in df.columns and any(c.startswith("sai_") for c in resolved):
        df["tipologia_centro"] = "SAI"  # Centri d'Italia's SAI files have no type column: all SAI.
    _require_columns(df, S.CENTRES_REQUIRED, name, source)
    for col in S.CENTRES_OPTIONAL:
        if col not in df.columns:
            df[col] = pd.NA
    df = df[S.CENTRES_REQUIRED + S.CENTRES_OPTIONAL].copy()
    df["tipologia_centro"] = df["tipologia_centro"].str.strip().map(
        lambda v: CENTRE_TYPE_VALUES.get(v.upper(), v) if isinstance(v, str) else v)
    # Spreadsheet exports drop leading zeros from ISTAT codes and write dates as dd/mm/yyyy.
    for col, width in (("comune_codice_istat", 6), ("provincia_cm_codice_istat", 3)):
        df[col] = df[col].map(lambda v: v.strip().zfill(width) if isinstance(v, str) and v.strip().isdigit() else v)
    df["rilevazione_data"] = df["rilevazione_data"].map(_iso_date)
    df = df.astype(object).where(df.notna(), None)
    return validate(df, S.CentresRaw, name=name, source=source,
                    row_offset=pd.Series(df.index + 2, index=df.index))


def _iso_date(value):
    if not isinstance(value, str):
        return value
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value.strip())
    return f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}" if m else value.strip()


def tidy_centres(raw: pd.DataFrame, source_id: str) -> pd.DataFrame:
    out = pd.DataFrame({
        "centre_id": raw["centro_id"], "centre_type": raw["tipologia_centro"],
        "centre_name": raw["centro_denominazione"], "territory_code": raw["comune_codice_istat"],
        "territory_name": raw["comune_denominazione"], "territory_level": "comune",
        "province_code": raw["comune_codice_istat"].str[:3], "date": raw["rilevazione_data"],
        "places": pd.to_numeric(raw["capienza"]), "presences": pd.to_numeric(raw["presenze_giornaliere"]),
        "manager": raw["ente_gestore"], "guest_type": raw["tipologia_ospiti"],
        "sai_project": raw["sai_progetto_codice"], "source_id": source_id,
    })
    return _centres_dtypes(out)


def _centres_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    columns = list(S.ReceptionCentres.to_schema().columns)
    dtypes = {c: "string" for c in columns}
    dtypes.update({"places": "Int64", "presences": "Int64"})
    return df.reindex(columns=columns).astype(dtypes)


def centres_by_comune(centres: pd.DataFrame) -> pd.DataFrame:
    """Centres, places and presences per comune x date x type; sums over the centres that report,
    with the number that do not, so a partial total is never shown as complete."""
    columns = list(S.ReceptionCentresComuni.to_schema().columns)
    dtypes = {c: "string" for c in columns}
    dtypes.update({k: "Int64" for k in ("centres", "places", "centres_without_places", "presences",
                                        "centres_without_presences")})
    if centres.empty:
        return pd.DataFrame(columns=columns).astype(dtypes)
    c = centres.assign(_np=centres["places"].isna(), _npr=centres["presences"].isna())
    g = c.groupby(["territory_code", "date", "centre_type"], sort=True)
    out = g.agg(territory_name=("territory_name", "first"), province_code=("province_code", "first"),
                centres=("centre_id", "nunique"), places=("places", lambda s: s.sum(min_count=1)),
                centres_without_places=("_np", "sum"), presences=("presences", lambda s: s.sum(min_count=1)),
                centres_without_presences=("_npr", "sum"), source_id=("source_id", "first")).reset_index()
    out["territory_level"] = "comune"
    return out[columns].astype(dtypes)


def build_published_and_centres(figures_path, centres_file, out_published, out_centres, out_centres_comuni,
                                out_status, centres_setting: str = "") -> None:
    published = validate(tidy_published(read_published(figures_path)), S.ReceptionPublished,
                         name="reception_published", source="reception_published")
    write_parquet(out_published, published, sort_by=["figure_id"])

    if centres_file:
        raw = read_centres(centres_file)
        centres = validate(tidy_centres(raw, "centres_file"), S.ReceptionCentres, name="reception_centres",
                           source="reception_centres")
        status = {
            "present": True,
            "centres_file": centres_setting or str(centres_file),
            "sha256": hashlib.sha256(Path(centres_file).read_bytes()).hexdigest(),
            "rows": len(centres),
            "centres": int(centres[["centre_type", "centre_id"]].drop_duplicates().shape[0]),
            "comuni": int(centres["territory_code"].nunique()),
            "dates": sorted(centres["date"].unique().tolist()),
            "message": "Dati per centro presenti: tabelle per comune calcolate dal file indicato.",
        }
    else:
        centres = _centres_dtypes(pd.DataFrame())
        status = {
            "present": False,
            "centres_file": "",
            "rows": 0,
            "message": ("Dati per centro assenti (nessun file indicato in centres_file): nessuna tabella "
                        "per comune è stata stimata al loro posto."),
        }
    comuni = validate(centres_by_comune(centres), S.ReceptionCentresComuni, name="reception_centres_comuni",
                      source="reception_centres_comuni")
    write_parquet(out_centres, centres, sort_by=["territory_code", "centre_type", "centre_id", "date"])
    write_parquet(out_centres_comuni, comuni, sort_by=["territory_code", "date", "centre_type"])
    write_json(out_status, status)
    log.info("published figures: %d rows; per-centre data %s", len(published),
             "present" if status["present"] else "absent")
