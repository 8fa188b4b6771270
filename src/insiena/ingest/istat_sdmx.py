"""esploradati.istat.it SDMX-CSV exports (22_289 residents, 29_316 FJAN foreign residents) and the
ITTER107 code list.

REF_AREA mixes levels in one column: 6-digit comuni, and ITTER107 letter codes (old NUTS-2010
letters: Siena = ITE19, Toscana = ITE1, Centro = ITE, Italia = IT; provinces created after 2010 are
IT108..IT111). Letter codes are mapped to ISTAT numeric codes with config/territory_crosswalk.csv.
Letter codes outside the crosswalk that the code list knows are other groupings of the same people
(Nord ITCD and Mezzogiorno ITFG; the autonomous provinces of Bolzano and Trento at NUTS-2 level,
ITD1/ITD2, which repeat ITD10/ITD20): they are left out so that nothing is counted twice. A code the
code list does not know stops the run.

OBS_VALUE is written as a float ("5524.0"): it must be a whole number and becomes Int64. Each file
publishes every level, so each aggregate is checked to equal the sum of its parts before use.
"""

from __future__ import annotations

import logging

import pandas as pd

from insiena.ingest.istat_csv import read_official_csv
from insiena.schemas.istat import SdmxAggregateSums, ItterCodelistRaw, Sdmx22289Raw, Sdmx29316FjanRaw
from insiena.validation import reject, validate

log = logging.getLogger(__name__)

FORMATS = {"sdmx_29_316_fjan": (Sdmx29316FjanRaw, "stranieri"), "sdmx_22_289": (Sdmx22289Raw, "totale")}
SDMX_SEXES = {"9": "totale", "1": "maschi", "2": "femmine"}
OBS_STATUS_PROVISIONAL = {"P", "p"}


def parse_codelist(path, source_id: str) -> pd.Series:
    """ITTER107 code -> label."""
    raw = read_official_csv(path, name=source_id, sep=",", title=False)
    df = validate(raw.frame, ItterCodelistRaw, name=source_id, source=raw.source, row_offset=raw.lines)
    return pd.Series(df["dimensionValueDescription"].to_numpy(), index=df["dimensionValueID"].to_numpy())


def parse_sdmx(path, source_id: str, meta: dict, dataset: str, letters: dict[str, str], levels: dict[str, str],
               parents: dict[str, str], codelist: pd.Series) -> pd.DataFrame:
    """Tidy rows (one per territory, sex and 1 January) of an SDMX population export.

    letters: ITTER107 letter code -> numeric code; levels: numeric code -> level; parents: numeric
    code of a provincia/regione/ripartizione -> code of the level above.
    """
    model, citizenship = FORMATS[dataset]
    raw = read_official_csv(path, name=source_id, sep=",", title=False)
    df = validate(raw.frame, model, name=source_id, source=raw.source, row_offset=raw.lines)
    area = df["REF_AREA"]
    is_comune = area.str.fullmatch(r"\d{6}")
    code = area.map(letters).where(~is_comune, area)
    other = code.isna()
    unknown = other & ~area.isin(codelist.index)
    bad_prefix = is_comune & ~area.str[:3].isin({c for c, lv in levels.items() if lv == "provincia"})
    if unknown.any() or bad_prefix.any():
        idx = df.index[unknown | bad_prefix]
        reject(source_id, raw.source, pd.DataFrame({
            "row": raw.lines[idx].astype(str).to_numpy(), "column": "REF_AREA", "value": area[idx].to_numpy(),
            "check": ["an ITTER107 code (3_Dimension_CL_ITTER107)" if u else "a comune of a known province"
                      for u in unknown[idx]]}), what="unknown REF_AREA codes")
    if other.any():
        left = area[other].value_counts().sort_index()
        log.info("%s: left out %d rows of ITTER107 groupings outside the crosswalk: %s", source_id, other.sum(),
                 ", ".join(f"{c} {codelist[c]} ({n})" for c, n in left.items()))
    df, code = df[~other], code[~other]
    level = code.map(levels).where(~is_comune[~other], "comune")
    status = df["OBS_STATUS"].isin(OBS_STATUS_PROVISIONAL).map({True: "provisional", False: meta["status"]})
    out = pd.DataFrame({"territory_code": code, "territory_level": level, "date": df["TIME_PERIOD"],
                        "sex": df["SEX"].map(SDMX_SEXES), "age": pd.array([pd.NA] * len(df), dtype="Int64"),
                        "citizenship": citizenship, "value": df["OBS_VALUE"].astype("Int64"),
                        "source_id": source_id, "status": status, "release": "sdmx", "derived": False},
                       index=df.index)
    check_sums(out, parents, name=source_id, source=raw.source, lines=raw.lines)
    return out.reset_index(drop=True)


def check_sums(rows: pd.DataFrame, parents: dict[str, str], *, name: str, source: str, lines: pd.Series) -> None:
    """Comuni add up to their province, provinces to their region, regions to their ripartizione and
    ripartizioni to Italia, in every year and sex the file publishes."""
    parent = rows["territory_code"].map(parents)
    parent = parent.where(rows["territory_level"] != "comune", rows["territory_code"].str[:3])
    frame = pd.DataFrame({"territory_code": rows["territory_code"], "parent_code": parent,
                          "key": rows["date"] + "|" + rows["sex"], "OBS_VALUE": rows["value"]}, index=rows.index)
    validate(frame.astype({"territory_code": "string", "parent_code": "string", "key": "string"}), SdmxAggregateSums,
             name=name, source=source, row_offset=lines)
