"""Theme sources (issue 10, items 1-4) -> tidy national tables.

- POPSTRBIL1 (SDMX 29_316): demographic balance of FOREIGN residents, Italy / ripartizioni / regions /
  107 provinces, 2019-2023 -> foreign_balance; its 1 January populations are compared with the 29_316
  FJAN file -> checks/foreign_balance_vs_fjan.csv.
- DCIS_PERMSOGG1: new permits for international protection, 103 provinces of the OLD scheme ->
  protection_permits.
- D5, D7, DCCV_TAXOCCU1, DCCV_TAXDISOCCU1: labour force survey rates, macro-areas only -> labour_rates.
- Noi Italia 2024 "Stranieri altri dati 2": education of foreigners vs Italians, Italy only ->
  education_levels.

Every raw file is read as text, validated with its pandera model (official headers as aliases), then
with the checks that need several rows; any failure stops the run through insiena.validation with the
raw line, the column and the check. Territory letter codes go through config/territory_crosswalk.csv.
File-by-file notes: docs/theme-sources.md.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
from pathlib import Path
from typing import Mapping

import pandas as pd

from insiena.io import write_csv, write_parquet
from insiena.schemas import themes as S
from insiena.territories import crosswalk
from insiena.validation import FAILURE_COLUMNS, reject, relpath, validate

log = logging.getLogger(__name__)

BALANCE_ID = "istat_29_316_popstrbil1_provinces"
FJAN_ID = "istat_29_316_fjan"
PERMITS_ID = "dcis_permsogg1_12012025111539693"
ACTIVITY_ID = "d5_activity_rate_between_foreigners_and_italians"
UNEMPLOYMENT_ID = "d7_unemployment_rate_between_foreigners_and_italians"
EMPLOYMENT_FOREIGN_ID = "dccv_taxoccu1_12012025110922125"
UNEMPLOYMENT_FOREIGN_ID = "dccv_taxdisoccu1_12012025111208359"
EDUCATION_ID = "ni2024_stranieri_altri_dati_2"
SOURCE_IDS = [BALANCE_ID, FJAN_ID, PERMITS_ID, ACTIVITY_ID, UNEMPLOYMENT_ID, EMPLOYMENT_FOREIGN_ID,
              UNEMPLOYMENT_FOREIGN_ID, EDUCATION_ID]
# Labour files in order of preference where two give the same cell: D7 carries Italians and
# foreigners side by side, TAXDISOCCU1 only adds 2023 for foreigners (equal values are checked).
LABOUR_FILES = [(ACTIVITY_ID, True), (UNEMPLOYMENT_ID, True), (EMPLOYMENT_FOREIGN_ID, True),
                (UNEMPLOYMENT_FOREIGN_ID, False)]

POPSTRBIL1_COLUMNS = ["DATAFLOW", "FREQ", "REF_AREA", "DATA_TYPE", "SEX", "TIME_PERIOD", "OBS_VALUE",
                      "OBS_STATUS", "NOTE_DS", "NOTE_REF_AREA", "NOTE_DATA_TYPE", "NOTE_SEX", "BASE_PER",
                      "UNIT_MEAS", "UNIT_MULT"]
FJAN_COLUMNS = ["REF_AREA", "DATA_TYPE", "SEX", "TIME_PERIOD", "OBS_VALUE"]
PERMSOGG1_COLUMNS = ["ITTER107", "Territory", "TIPO_DATO15", "Data type", "SEXISTAT1", "Gender", "ISO",
                     "Most relevant Country of citizenship", "MOTIVOPS1", "Reason", "TIME", "Select time",
                     "Value", "Flag Codes", "Flags"]
LFS_COLUMNS = ["ITTER107", "Territory", "TIPO_DATO_FOL", "Data type", "SEXISTAT1", "Gender", "ETA1",
               "Age class", "TITOLO_STUDIO", "Highest level of education attained", "CITTADINANZA",
               "Citizenship", "TIME", "Select time", "Value", "Flag Codes", "Flags"]
LFS_NO_SEX_COLUMNS = [c for c in LFS_COLUMNS if c not in ("SEXISTAT1", "Gender")]
EDUCATION_TITLE = "Popolazione straniera e nazionale (15-64 anni) per grado di istruzione"

# NUTS-2 units for the two autonomous provinces: the same territories as provinces ITD10 / ITD20,
# which the crosswalk maps to 021 / 022. Checked equal, then dropped so that no area counts twice.
AUTONOMOUS_PROVINCE_UNITS = {"ITD1": "ITD10", "ITD2": "ITD20"}
# Macro-areas of the labour force survey: ISTAT gives them no numeric code, so the ITTER107 code
# is kept; their composition is checked by sums in the FJAN file (ITCD = ITC + ITD, ITFG = ITF + ITG).
MACROAREAS = {"ITCD": ("Nord", ["ITC", "ITD"]), "ITFG": ("Mezzogiorno", ["ITF", "ITG"])}
CENTRAL_ITALY = "Italia centrale"
# Provinces the 103-province scheme of PERMSOGG1 does not have (Monza e della Brianza, Fermo,
# Barletta-Andria-Trani, established in 2004; Sud Sardegna, 2016): their absence identifies the
# file's vintage, and is checked.
POST_2004_PROVINCES = {"IT108", "IT109", "IT110", "IT111"}
# Old-scheme provinces whose territory is not the current province with the same code.
OLD_SCHEME_NOTES = {
    "ITC45": "comprende l'attuale provincia di Monza e della Brianza",
    "ITE34": "comprende l'attuale provincia di Fermo",
    "ITF41": "comprende comuni dell'attuale provincia di Barletta-Andria-Trani",
    "ITF42": "comprende comuni dell'attuale provincia di Barletta-Andria-Trani",
    "ITG25": "Sardegna a 4 province (delimitazione anteriore al 2005): confini diversi da quelli attuali",
    "ITG26": "Sardegna a 4 province (delimitazione anteriore al 2005): confini diversi da quelli attuali",
    "ITG27": "Sardegna a 4 province (delimitazione anteriore al 2005): confini diversi da quelli attuali",
    "ITG28": "Sardegna a 4 province (delimitazione anteriore al 2005): confini diversi da quelli attuali",
}
# Identities between POPSTRBIL1 data types (target = sum of signed terms), checked where every term
# is present: they confirm the meanings behind the measure ids, which the file does not label.
BALANCE_IDENTITIES = [
    ("FNATGR", [(1, "FLBIRTH"), (-1, "FDEATH")]),
    ("FINTRNMIGR", [(1, "FREGM"), (-1, "FDEREGM")]),
    ("FINTNMIG", [(1, "FREGOTHC"), (-1, "FDERGOTHC")]),
    ("FBLOTHR", [(1, "FREGOTHR"), (-1, "FDEROTHR")]),
    ("FDEC_CP", [(1, "FHOUSMEMB_CP"), (1, "FPOPCOM_CP")]),
    ("FTOTAL_BAL", [(1, "FDEC_CP"), (-1, "FJAN")]),
]
SUM_TOLERANCE_EDUCATION = 0.2  # three shares rounded to one decimal: at most 0.15 off 100

SORT_BALANCE = ["territory_code", "year", "data_type", "sex"]
SORT_PERMITS = ["territory_code", "year", "country_code", "sex"]
SORT_LABOUR = ["territory_code", "indicator", "year", "citizenship", "sex", "age_class", "education"]
SORT_EDUCATION = ["year", "education_level", "age_class", "citizenship"]
SORT_CHECK = ["check", "territory_code", "date"]


# ------------------------------------------------------------------------------------------------
# Reading and reporting


def _src(path, root) -> str:
    return relpath(path, root)


def _fail(name: str, source: str, rows: list[dict], what: str, root) -> None:
    reject(name, source, pd.DataFrame(rows, columns=FAILURE_COLUMNS), what=what, root=root)


def _decode(path, name: str, root) -> str:
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        _fail(name, _src(path, root), [{"row": str(line), "column": "", "check": "UTF-8 encoding",
                                        "value": repr(data[exc.start: exc.start + 8])}],
              "cannot be read", root)
    raise AssertionError("unreachable")


def read_table(path, columns: list[str], *, name: str, root=None, sep: str = ",") -> pd.DataFrame:
    """Read a CSV export as text cells; a `_line` column keeps each row's line in the raw file."""
    source = _src(path, root)
    text = _decode(path, name, root)
    first = text.split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([first], delimiter=sep)) if first else []
    missing = [c for c in columns if c not in header]
    if missing:
        _fail(name, source, [{"row": "1", "column": c, "check": f"column present (separator {sep!r})",
                              "value": first[:200]} for c in missing], "missing columns", root)
    if not text.endswith("\n"):
        last = text.rsplit("\n", 1)[-1]
        _fail(name, source, [{"row": str(text.count("\n") + 1), "column": "",
                              "check": "file ends with a line break (not truncated)", "value": last[:200]}],
              "truncated file", root)
    try:
        # index_col=False: a line with one field more than the header (a trailing separator) must not
        # turn the first column into the index.
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                         skip_blank_lines=False, index_col=False)
    except pd.errors.ParserError as exc:
        found = re.search(r"line (\d+)", str(exc))
        _fail(name, source, [{"row": found.group(1) if found else "", "column": "",
                              "check": "same number of fields as the header", "value": str(exc)[:200]}],
              "cannot be parsed", root)
    df["_line"] = pd.Series(range(2, len(df) + 2), index=df.index, dtype="int64")
    return df


def _validate_raw(df: pd.DataFrame, model, *, name: str, source: str, root) -> None:
    validate(df.drop(columns=[c for c in df.columns if c.startswith("_")]), model, name=name, source=source,
             row_offset=df["_line"], root=root)


def _flag(df: pd.DataFrame, mask: pd.Series, column: str, check: str, value: pd.Series | None = None) -> pd.DataFrame:
    """Failure rows for the rows of `df` where `mask` is true (row = raw line when known)."""
    bad = df.loc[mask.fillna(True).astype(bool)]
    values = (value.loc[bad.index] if value is not None else bad[column]).astype(str)
    rows = bad["_line"].astype("Int64").astype(str).replace("<NA>", "")
    return pd.DataFrame({"file": None, "row": rows.to_numpy(), "column": column, "check": check,
                         "value": values.to_numpy()}, columns=FAILURE_COLUMNS)


def _raise_failures(failures: list[pd.DataFrame], *, name: str, source: str, root,
                    what: str = "failed consistency checks") -> None:
    failures = [f for f in failures if len(f)]
    if failures:
        reject(name, source, pd.concat(failures, ignore_index=True), what=what, root=root)


def _norm(name: str) -> str:
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z]", "", name)


# ------------------------------------------------------------------------------------------------
# Checks shared by the parsers


def _sex_total_failures(df: pd.DataFrame, keys: list[str], sex: str, column: str, *,
                        absent_is_zero: bool = False) -> pd.DataFrame:
    """SEX 1 + 2 = 9 for every key; the total row is flagged (the component rows if it is absent)."""
    wide = df.pivot(index=keys, columns=sex, values="_v").reindex(columns=["1", "2", "9"]).astype("Int64")
    if absent_is_zero:
        wide = wide.fillna(0)
    ok = (wide["1"] + wide["2"]).eq(wide["9"]).fillna(False)
    bad = wide.loc[~ok].reset_index()
    if bad.empty:
        return bad.iloc[0:0]
    shown = {c: bad[c].astype("string").fillna("absent") for c in ("1", "2", "9")}
    bad["_msg"] = "1: " + shown["1"] + " + 2: " + shown["2"] + " != 9: " + shown["9"]
    flagged = df.merge(bad[keys + ["_msg"]], on=keys, how="inner")
    has_total = flagged.groupby(keys)[sex].transform(lambda s: s.eq("9").any())
    flagged = flagged[flagged[sex].eq("9") | ~has_total]
    return _flag(flagged, pd.Series(True, index=flagged.index), column, "SEX 1 + 2 = 9", flagged["_msg"])


def _same_area_failures(df: pd.DataFrame, pairs: Mapping[str, str], area: str, keys: list[str], column: str,
                        *, absent_is_zero: bool = False) -> pd.DataFrame:
    """Rows of an area that must repeat another area's values (e.g. ITD1 = ITD10)."""
    out = []
    for dup, main in pairs.items():
        a = df.loc[df[area].eq(dup), keys + ["_v", "_line"]]
        if a.empty:
            continue
        b = df.loc[df[area].eq(main), keys + ["_v"]].rename(columns={"_v": "_main"})
        m = a.merge(b, on=keys, how="outer")
        if absent_is_zero:
            m[["_v", "_main"]] = m[["_v", "_main"]].fillna(0)
        out.append(_flag(m, ~m["_v"].eq(m["_main"]).fillna(False), column, f"{dup} equals {main}",
                         dup + " " + m["_v"].astype(str) + ", " + main + " " + m["_main"].astype(str)))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=FAILURE_COLUMNS)


def _code_label_failures(df: pd.DataFrame, code: str, label: str, expected: Mapping[str, str]) -> pd.DataFrame:
    """Code + label pairs (I.Stat exports): the label must be the one that defines the code here."""
    want = df[code].map(expected)
    return _flag(df, want.notna() & df[label].ne(want), label,
                 f"label of {code} matches the code", df[code] + " -> " + df[label])


def _crosswalk() -> pd.DataFrame:
    """config/territory_crosswalk.csv of the project being run (`root` in this module only says where
    failure files go, so it is not passed on)."""
    return crosswalk()


def _attach_territories(df: pd.DataFrame, area: str, cw: pd.DataFrame, *, name: str, source: str,
                        root) -> pd.DataFrame:
    """Add territory_code/name/level and parent_code by the crosswalk's letter code (itter107)."""
    table = cw.rename(columns={"itter107": area, "code": "territory_code", "name": "territory_name",
                               "level": "territory_level"})[[area, "territory_code", "territory_name",
                                                             "territory_level", "parent_code"]]
    out = df.merge(table, on=area, how="left", validate="many_to_one")
    unknown = out["territory_code"].isna()
    if unknown.any():
        _raise_failures([_flag(out, unknown, area, "territory code in config/territory_crosswalk.csv")],
                        name=name, source=source, root=root, what="unknown territory codes")
    return out


def _sum_failures(df: pd.DataFrame, keys: list[str], column: str, *, absent_is_zero: bool = True) -> pd.DataFrame:
    """Provinces add up to their region and to Italy, for every key (only where both exist)."""
    prov = df[df["territory_level"].eq("provincia")]
    out = []
    by_region = prov.groupby(["parent_code"] + keys, observed=True)["_v"].sum().rename("_sum")
    regions = df[df["territory_level"].eq("regione")]
    regions = regions[regions["territory_code"].isin(prov["parent_code"].unique())]
    m = regions.merge(by_region.reset_index().rename(columns={"parent_code": "territory_code"}),
                      on=["territory_code"] + keys, how="left")
    if absent_is_zero:
        m["_sum"] = m["_sum"].fillna(0)
    out.append(_flag(m, ~m["_v"].eq(m["_sum"]).fillna(False), column, "provinces sum to the region",
                     "region " + m["_v"].astype(str) + ", provinces " + m["_sum"].astype(str)))
    total = prov.groupby(keys, observed=True)["_v"].sum().rename("_sum")
    italy = df[df["territory_level"].eq("italia")].merge(total.reset_index(), on=keys, how="left")
    if absent_is_zero:
        italy["_sum"] = italy["_sum"].fillna(0)
    out.append(_flag(italy, ~italy["_v"].eq(italy["_sum"]).fillna(False), column, "provinces sum to Italy",
                     "Italy " + italy["_v"].astype(str) + ", provinces " + italy["_sum"].astype(str)))
    return pd.concat(out, ignore_index=True)


def _common(df: pd.DataFrame, source_id: str, status: str) -> pd.DataFrame:
    return pd.DataFrame({
        "territory_code": pd.array(df["territory_code"].to_numpy(), dtype="string"),
        "territory_name": pd.array(df["territory_name"].to_numpy(), dtype="string"),
        "territory_level": pd.array(df["territory_level"].to_numpy(), dtype="string"),
        "source_id": pd.array([source_id] * len(df), dtype="string"),
        "status": pd.array([status] * len(df), dtype="string"),
    })


# ------------------------------------------------------------------------------------------------
# 1. POPSTRBIL1: foreigners' demographic balance


def _scheme_labels(df: pd.DataFrame) -> dict[int, str]:
    """Balance scheme of each year: census-based where the census-scheme data types appear."""
    years = df["_year"].drop_duplicates().sort_values().tolist()
    census = set(df.loc[df["DATA_TYPE"].isin(S.CENSUS_SCHEME_DATA_TYPES), "_year"])
    labels = {}
    for group, suffix in ((sorted(y for y in years if y not in census), ""),
                          (sorted(y for y in years if y in census), " census-based")):
        for y in group:
            labels[y] = f"{group[0]}-{group[-1]}{suffix}"
    return labels


def _identity_failures(df: pd.DataFrame) -> pd.DataFrame:
    keys = ["REF_AREA", "SEX", "TIME_PERIOD"]
    wide = df.pivot(index=keys, columns="DATA_TYPE", values="_v").astype("Int64")
    out = []
    for target, terms in BALANCE_IDENTITIES:
        if target not in wide or any(code not in wide for _, code in terms):
            continue
        expected = sum(sign * wide[code] for sign, code in terms)
        bad = wide[target].ne(expected).fillna(False).astype(bool)
        if not bad.any():
            continue
        formula = " ".join(("+ " if sign > 0 else "- ") + code for sign, code in terms).lstrip("+ ")
        bad_keys = wide.index[bad].to_frame(index=False).assign(
            DATA_TYPE=target, _msg=(f"{target} != {formula} = " + expected[bad].astype(str)).to_numpy())
        rows = df.merge(bad_keys, on=keys + ["DATA_TYPE"])
        out.append(_flag(rows, pd.Series(True, index=rows.index), "OBS_VALUE", f"{target} = {formula}",
                         rows["OBS_VALUE"] + " (" + rows["_msg"] + ")"))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=FAILURE_COLUMNS)


def parse_foreign_balance(path, *, source_id: str = BALANCE_ID, status: str = "final", root=None) -> pd.DataFrame:
    """POPSTRBIL1 -> foreign_balance (validated against its raw model and consistency checks)."""
    source = _src(path, root)
    df = read_table(path, POPSTRBIL1_COLUMNS, name=source_id, root=root)
    _validate_raw(df, S.Popstrbil1Raw, name=source_id, source=source, root=root)
    df["_v"] = df["OBS_VALUE"].astype("int64")
    df["_year"] = df["TIME_PERIOD"].astype("int64")
    keys = ["REF_AREA", "DATA_TYPE", "TIME_PERIOD"]
    _raise_failures([
        _flag(df, df["DATA_TYPE"].isin(S.COUNT_DATA_TYPES) & df["_v"].lt(0), "OBS_VALUE", "non-negative count"),
        _sex_total_failures(df, keys, "SEX", "OBS_VALUE"),
        _identity_failures(df),
        _same_area_failures(df, AUTONOMOUS_PROVINCE_UNITS, "REF_AREA", ["DATA_TYPE", "SEX", "TIME_PERIOD"],
                            "OBS_VALUE"),
    ], name=source_id, source=source, root=root)

    df = df[~df["REF_AREA"].isin(list(AUTONOMOUS_PROVINCE_UNITS))]
    df = _attach_territories(df, "REF_AREA", _crosswalk(), name=source_id, source=source, root=root)
    _raise_failures([_sum_failures(df, ["DATA_TYPE", "SEX", "TIME_PERIOD"], "OBS_VALUE", absent_is_zero=False)],
                    name=source_id, source=source, root=root)

    schemes = _scheme_labels(df)
    out = _common(df, source_id, status)
    out["year"] = pd.array(df["_year"].to_numpy(), dtype="Int64")
    out["measure"] = pd.array(df["DATA_TYPE"].map(lambda c: S.BALANCE_MEASURES[c][0]).to_numpy(), dtype="string")
    out["data_type"] = pd.array(df["DATA_TYPE"].to_numpy(), dtype="string")
    out["sex"] = pd.array(df["SEX"].map(S.SEXES).to_numpy(), dtype="string")
    out["value"] = pd.array(df["_v"].to_numpy(), dtype="Int64")
    out["scheme"] = pd.array(df["_year"].map(schemes).to_numpy(), dtype="string")
    log.info("%s: %d rows, %d territories, years %s", source, len(out), out["territory_code"].nunique(),
             sorted(schemes))
    return validate(out, S.ForeignBalance, name="foreign_balance", source=source, root=root)


def read_fjan_territories(path, *, source_id: str = FJAN_ID, root=None) -> pd.DataFrame:
    """The 29_316 FJAN file, letter-coded rows only: REF_AREA, date, value (comuni are not needed)."""
    source = _src(path, root)
    df = read_table(path, FJAN_COLUMNS, name=source_id, root=root)
    _validate_raw(df[FJAN_COLUMNS + ["_line"]], S.Sdmx29316FjanRaw, name=source_id, source=source, root=root)
    df = df[df["REF_AREA"].str.startswith("IT")].copy()
    df["_v"] = df["OBS_VALUE"].astype(float).astype("int64")
    df["date"] = df["TIME_PERIOD"]
    wide = df.pivot(index="date", columns="REF_AREA", values="_v")
    failures = []
    for code, (label, parts) in MACROAREAS.items():
        if code in wide and all(p in wide for p in parts):
            bad = ~wide[code].eq(sum(wide[p] for p in parts))
            rows = df[df["REF_AREA"].eq(code) & df["date"].isin(wide.index[bad])]
            failures.append(_flag(rows, pd.Series(True, index=rows.index), "OBS_VALUE",
                                  f"{code} ({label}) = {' + '.join(parts)}"))
    _raise_failures(failures, name=source_id, source=source, root=root)
    return df[["REF_AREA", "date", "_v", "_line"]]


def compare_population_start(balance: pd.DataFrame, fjan: pd.DataFrame, cw: pd.DataFrame, *,
                             source_a: str = BALANCE_ID, source_b: str = FJAN_ID) -> pd.DataFrame:
    """foreign_balance population_start vs the FJAN file, for the years both cover."""
    a = balance[balance["measure"].eq("population_start") & balance["sex"].eq("totale")]
    a = pd.DataFrame({"territory_code": a["territory_code"].astype(str),
                      "date": a["year"].astype(int).astype(str) + "-01-01", "value_a": a["value"]})
    b = fjan.merge(cw[["itter107", "code"]].astype(str), left_on="REF_AREA", right_on="itter107")
    b = b.rename(columns={"code": "territory_code", "_v": "value_b"})[["territory_code", "date", "value_b"]]
    dates = sorted(set(a["date"]) & set(b["date"]))
    a = a[a["date"].isin(dates)]
    b = b[b["date"].isin(dates) & b["territory_code"].isin(a["territory_code"])]
    m = a.merge(b, on=["territory_code", "date"], how="outer")
    out = pd.DataFrame({
        "check": pd.array(["foreign_balance_population_start_vs_fjan"] * len(m), dtype="string"),
        "territory_code": pd.array(m["territory_code"], dtype="string"),
        "date": pd.array(m["date"], dtype="string"),
        "source_a": pd.array([source_a] * len(m), dtype="string"),
        "value_a": pd.array(m["value_a"], dtype="Int64"),
        "source_b": pd.array([source_b] * len(m), dtype="string"),
        "value_b": pd.array(m["value_b"], dtype="Int64"),
    })
    out["difference"] = out["value_a"] - out["value_b"]
    # Same vocabulary as insiena.consistency; a territory-date missing from one file is a mismatch too.
    out["status"] = pd.array(out["difference"].eq(0).fillna(False).map({True: "ok", False: "mismatch"}),
                             dtype="string")
    return out.sort_values(SORT_CHECK, kind="mergesort").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# 2. DCIS_PERMSOGG1: new permits for international protection


def _fill_sparse_zeros(df: pd.DataFrame, *, name: str, source: str, root) -> pd.DataFrame:
    """Zero cells are absent from the export: add them as 0 where the area/year has its WORLD total.

    An area/year without the WORLD total row is left absent (it is not in the export at all)."""
    have_total = df.loc[df["ISO"].eq("WORLD") & df["SEXISTAT1"].eq("9"), ["ITTER107", "TIME"]].drop_duplicates()
    orphan = df.merge(have_total, on=["ITTER107", "TIME"], how="left", indicator=True)["_merge"].eq("left_only")
    _raise_failures([_flag(df, pd.Series(orphan.to_numpy(), index=df.index), "ISO",
                           "the area/year has its WORLD total row")], name=name, source=source, root=root)
    grid = (have_total.merge(pd.DataFrame({"ISO": list(S.COUNTRIES)}), how="cross")
            .merge(pd.DataFrame({"SEXISTAT1": list(S.SEXES)}), how="cross"))
    full = grid.merge(df, on=["ITTER107", "TIME", "ISO", "SEXISTAT1"], how="left", validate="one_to_one")
    full["zero_filled"] = full["_v"].isna()
    full["_v"] = full["_v"].fillna(0).astype("int64")
    full["_line"] = full["_line"].astype("Int64")
    return full


def parse_protection_permits(path, *, source_id: str = PERMITS_ID, status: str = "final", root=None) -> pd.DataFrame:
    """DCIS_PERMSOGG1 -> protection_permits, zeros made explicit, old-scheme provinces flagged."""
    source = _src(path, root)
    df = read_table(path, PERMSOGG1_COLUMNS, name=source_id, root=root)
    _validate_raw(df, S.Permsogg1Raw, name=source_id, source=source, root=root)
    df["_v"] = df["Value"].astype("int64")
    cw = _crosswalk()
    names = dict(zip(cw["itter107"], cw["name"]))
    levels = dict(zip(cw["itter107"], cw["level"]))
    label_mismatch = (df["ITTER107"].map(levels).isin(["provincia", "regione"])
                      & ~df["ITTER107"].map(lambda c: _norm(names.get(c, ""))).eq(df["Territory"].map(_norm)))
    parts = df[~df["ISO"].eq("WORLD")].groupby(["ITTER107", "SEXISTAT1", "TIME"])["_v"].sum().rename("_parts")
    over = df[df["ISO"].eq("WORLD")].merge(parts.reset_index(), on=["ITTER107", "SEXISTAT1", "TIME"], how="left")
    _raise_failures([
        _code_label_failures(df, "SEXISTAT1", "Gender", S.SEX_LABELS_EN),
        _code_label_failures(df, "ISO", "Most relevant Country of citizenship",
                             {k: en for k, (_, en) in S.COUNTRIES.items()}),
        _flag(df, df["TIME"].ne(df["Select time"]), "Select time", "Select time equals TIME"),
        _flag(df, label_mismatch, "Territory", "territory label matches config/territory_crosswalk.csv"),
        _sex_total_failures(df, ["ITTER107", "ISO", "TIME"], "SEXISTAT1", "Value", absent_is_zero=True),
        # The named countries and X777 do not add up to WORLD (not every country is listed), but
        # they can never exceed it.
        _flag(over, over["_parts"].gt(over["_v"]).fillna(False), "Value", "listed countries do not exceed WORLD",
              "WORLD " + over["Value"] + ", listed " + over["_parts"].astype(str)),
        _same_area_failures(df, AUTONOMOUS_PROVINCE_UNITS, "ITTER107", ["ISO", "SEXISTAT1", "TIME"], "Value",
                            absent_is_zero=True),
    ], name=source_id, source=source, root=root)

    # The old-scheme flags below hold only while the provinces created since 2004 are absent.
    _raise_failures([_flag(df, df["ITTER107"].isin(POST_2004_PROVINCES), "ITTER107",
                           f"{S.PERMITS_VINTAGE}: no province created since 2004 (IT108-IT111)")],
                    name=source_id, source=source, root=root, what="unexpected territorial scheme")

    df = df[~df["ITTER107"].isin(list(AUTONOMOUS_PROVINCE_UNITS))]
    full = _fill_sparse_zeros(df, name=source_id, source=source, root=root)
    full = _attach_territories(full, "ITTER107", cw, name=source_id, source=source, root=root)
    world_rows = full[full["ISO"].eq("WORLD")]
    _raise_failures([_sum_failures(world_rows, ["SEXISTAT1", "TIME"], "Value")], name=source_id, source=source,
                    root=root)

    out = _common(full, source_id, status)
    out["year"] = pd.array(full["TIME"].astype(int).to_numpy(), dtype="Int64")
    out["sex"] = pd.array(full["SEXISTAT1"].map(S.SEXES).to_numpy(), dtype="string")
    out["country_code"] = pd.array(full["ISO"].to_numpy(), dtype="string")
    out["country_name"] = pd.array(full["ISO"].map(lambda c: S.COUNTRIES[c][0]).to_numpy(), dtype="string")
    out["country_name_en"] = pd.array(full["ISO"].map(lambda c: S.COUNTRIES[c][1]).to_numpy(), dtype="string")
    out["value"] = pd.array(full["_v"].to_numpy(), dtype="Int64")
    out["is_total"] = pd.array(full["ISO"].eq("WORLD").to_numpy(), dtype="boolean")
    out["zero_filled"] = pd.array(full["zero_filled"].to_numpy(), dtype="boolean")
    out["territory_vintage"] = pd.array([S.PERMITS_VINTAGE] * len(full), dtype="string")
    note = full["ITTER107"].map(OLD_SCHEME_NOTES)
    out["comparable_to_current_province"] = pd.array(note.isna().to_numpy(), dtype="boolean")
    out["territory_note"] = pd.array(note.to_numpy(), dtype="string")
    log.info("%s: %d rows (%d zeros made explicit), %d territories", source, len(out),
             int(out["zero_filled"].sum()), out["territory_code"].nunique())
    return validate(out, S.ProtectionPermits, name="protection_permits", source=source, root=root)


# ------------------------------------------------------------------------------------------------
# 3. Labour force survey rates (macro-areas)


def _lfs_territories(cw: pd.DataFrame) -> pd.DataFrame:
    """The LFS areas in the crosswalk's columns: Italy and ripartizioni from the crosswalk (ITE named
    "Italia centrale", never read as Toscana), macro-areas under their ITTER107 code."""
    out = cw[cw["level"].isin(["italia", "ripartizione"])].copy()
    out.loc[out["itter107"].eq("ITE"), "name"] = CENTRAL_ITALY
    macro = pd.DataFrame([{"level": "macroarea", "code": code, "name": label, "itter107": code, "parent_code": "IT"}
                          for code, (label, _) in MACROAREAS.items()], dtype="string")
    return pd.concat([out, macro], ignore_index=True)


def parse_labour_file(path, *, source_id: str, status: str = "final", has_sex: bool = True,
                      root=None) -> pd.DataFrame:
    """One LFS export -> labour_rates rows (annual only; quarterly rows are dropped)."""
    source = _src(path, root)
    df = read_table(path, LFS_COLUMNS if has_sex else LFS_NO_SEX_COLUMNS, name=source_id, root=root)
    _validate_raw(df, S.LfsRatesRaw if has_sex else S.LfsRatesNoSexRaw, name=source_id, source=source, root=root)
    quarter = df["TIME"].str.contains("-", regex=False)
    select = df["TIME"].where(~quarter, df["TIME"].str[5:] + "-" + df["TIME"].str[:4])
    checks = [
        _code_label_failures(df, "ITTER107", "Territory", S.LFS_TERRITORY_LABELS),
        _code_label_failures(df, "TIPO_DATO_FOL", "Data type", {k: en for k, (_, en) in S.LFS_INDICATORS.items()}),
        _code_label_failures(df, "ETA1", "Age class", {k: en for k, (_, en) in S.LFS_AGES.items()}),
        _code_label_failures(df, "TITOLO_STUDIO", "Highest level of education attained",
                             {k: en for k, (_, en) in S.LFS_EDUCATION.items()}),
        _code_label_failures(df, "CITTADINANZA", "Citizenship", {k: en for k, (_, en) in S.LFS_CITIZENSHIP.items()}),
        _flag(df, df["Select time"].ne(select), "Select time", "Select time matches TIME"),
    ]
    if has_sex:
        checks.append(_code_label_failures(df, "SEXISTAT1", "Gender", S.SEX_LABELS_EN))
    _raise_failures(checks, name=source_id, source=source, root=root)

    df = df[~quarter].copy()
    df = _attach_territories(df, "ITTER107", _lfs_territories(_crosswalk()), name=source_id, source=source,
                             root=root)
    out = _common(df, source_id, status)
    out["year"] = pd.array(df["TIME"].astype(int).to_numpy(), dtype="Int64")
    out["indicator"] = pd.array(df["TIPO_DATO_FOL"].map(lambda c: S.LFS_INDICATORS[c][0]).to_numpy(), dtype="string")
    out["citizenship"] = pd.array(df["CITTADINANZA"].map(lambda c: S.LFS_CITIZENSHIP[c][0]).to_numpy(),
                                  dtype="string")
    # Without a sex column the file is for both sexes together (its values equal D7's SEX 9).
    sex = df["SEXISTAT1"].map(S.SEXES) if has_sex else pd.Series(S.SEXES["9"], index=df.index)
    out["sex"] = pd.array(sex.to_numpy(), dtype="string")
    out["age_class"] = pd.array(df["ETA1"].map(lambda c: S.LFS_AGES[c][0]).to_numpy(), dtype="string")
    out["education"] = pd.array(df["TITOLO_STUDIO"].map(lambda c: S.LFS_EDUCATION[c][0]).to_numpy(),
                                dtype="string")
    out["value"] = pd.array(df["Value"].astype(float).to_numpy(), dtype="Float64")
    out["_line"] = df["_line"].to_numpy()
    out["_source"] = source
    return out


def combine_labour(frames: list[pd.DataFrame], *, root=None) -> pd.DataFrame:
    """Stack the LFS files; a cell given by two files must have the same value (the first is kept)."""
    key = ["territory_code", "year", "indicator", "citizenship", "sex", "age_class", "education"]
    both = pd.concat(frames, ignore_index=True)
    both["_order"] = range(len(both))
    dup = both[both.duplicated(key, keep=False)]
    if len(dup):
        first = dup.groupby(key, observed=True)["value"].transform("first")
        differs = dup[dup["value"].ne(first)]
        if len(differs):
            failures = differs.assign(_line=differs["_line"])
            _raise_failures([_flag(failures, pd.Series(True, index=failures.index), "Value",
                                   "same value as the other file for the same cell",
                                   failures["value"].astype(str) + " vs " + first.loc[failures.index].astype(str))],
                            name="labour_rates", source=";".join(sorted(set(differs["_source"]))), root=root)
        log.info("labour: %d cells given by two files, equal values; kept the first file's rows",
                 len(dup) - dup.drop_duplicates(key).shape[0])
    out = both.drop_duplicates(key, keep="first").drop(columns=["_line", "_source", "_order"])
    return validate(out.reset_index(drop=True), S.LabourRates, name="labour_rates", source="labour_rates",
                    root=root)


# ------------------------------------------------------------------------------------------------
# 4. Noi Italia: education of foreigners and Italians


def _spreadsheet_rows(text: str) -> list[tuple[int, list[str]]]:
    """Records of a `;` file with their first physical line (a quoted cell may hold a line break)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    rows, start = [], 1
    for cells in reader:
        rows.append((start, cells))
        start = reader.line_num + 1
    return rows


def parse_education_levels(path, *, source_id: str = EDUCATION_ID, status: str = "final", root=None) -> pd.DataFrame:
    """Noi Italia table (title rows, stacked header, block labels, decimal commas) -> education_levels."""
    source = _src(path, root)
    text = _decode(path, source_id, root)
    rows = _spreadsheet_rows(text)

    def fail(line, column, check, value, what):
        _fail(source_id, source, [{"row": str(line), "column": column, "check": check, "value": value}], what, root)

    if not any(c.strip().startswith(EDUCATION_TITLE) for _, cells in rows for c in cells):
        fail(1, "", f"title line '{EDUCATION_TITLE} ...'", text[:80], "missing title line")
    head = next((i for i, (_, cells) in enumerate(rows) if cells and cells[0].strip() == "ANNI"), None)
    if head is None or head + 1 >= len(rows):
        widest = max((len(c) for _, c in rows), default=0)
        fail(1, "ANNI", "header row starting with 'ANNI' (separator ';')", f"{widest} fields in the widest row",
             "missing header")
    (line1, ages), (line2, groups) = rows[head], rows[head + 1]
    columns, age = [], None
    for j, label in enumerate(groups):
        if j < len(ages) and ages[j].strip():
            age = ages[j].strip()
        if label.strip() in S.EDUCATION_CITIZENSHIP:
            columns.append((j, age, label.strip()))
    if len(columns) != 2 * len(S.EDUCATION_AGES):
        fail(line2, "", f"second header row has Straniera/Italiana under each of {len(S.EDUCATION_AGES)} age classes",
             ";".join(groups)[:200], "unexpected header")

    records, block = [], None
    for line, cells in rows[head + 2:]:
        first = cells[0].strip() if cells else ""
        rest = [c.strip() for c in cells[1:]]
        if re.fullmatch(r"\d{4}", first):
            if block is None:
                fail(line, "ANNI", "data row after a block label (LICENZA MEDIA, DIPLOMA, ...)", first,
                     "unexpected layout")
            for j, age_label, group in columns:
                records.append({"_line": line, "ANNI": first, "grado di istruzione": block,
                                "classe di età": age_label, "popolazione": group,
                                "valore": cells[j].strip() if j < len(cells) else ""})
        elif first and not any(rest):
            if first.upper() in S.EDUCATION_BLOCKS:
                block = first.upper()
            elif not (first.startswith("(") or first.startswith("Fonte")):
                fail(line, "ANNI", "known block label (" + ", ".join(S.EDUCATION_BLOCKS) + ") or note", first,
                     "unexpected layout")
        elif first or any(rest):
            fail(line, "ANNI", "a year, a block label, a note or an empty row", ";".join(cells)[:200],
                 "unexpected layout")
    raw = pd.DataFrame(records, columns=["_line", "ANNI", "grado di istruzione", "classe di età", "popolazione",
                                         "valore"])
    if raw.empty:
        fail(line2 + 1, "ANNI", "at least one data row", "", "no data")
    _validate_raw(raw, S.NoiItaliaEducationRaw, name=source_id, source=source, root=root)

    raw["_v"] = raw["valore"].str.replace(",", ".", regex=False).astype(float)
    cell = ["ANNI", "classe di età", "popolazione"]
    blocks = raw.groupby(cell)["grado di istruzione"].transform("nunique")
    total = raw.groupby(cell)["_v"].transform("sum")
    _raise_failures([
        _flag(raw, blocks.ne(len(S.EDUCATION_BLOCKS)), "ANNI", "every year in every block"),
        _flag(raw, (total - 100).abs().gt(SUM_TOLERANCE_EDUCATION), "valore",
              f"the three levels add up to 100 (+/- {SUM_TOLERANCE_EDUCATION})", total.round(2).astype(str)),
    ], name=source_id, source=source, root=root)

    out = pd.DataFrame({
        "territory_code": pd.array(["IT"] * len(raw), dtype="string"),
        "territory_name": pd.array(["Italia"] * len(raw), dtype="string"),
        "territory_level": pd.array(["italia"] * len(raw), dtype="string"),
        "source_id": pd.array([source_id] * len(raw), dtype="string"),
        "status": pd.array([status] * len(raw), dtype="string"),
        "year": pd.array(raw["ANNI"].astype(int), dtype="Int64"),
        "education_level": pd.array(raw["grado di istruzione"].map(S.EDUCATION_BLOCKS), dtype="string"),
        "age_class": pd.array(raw["classe di età"].map(S.EDUCATION_AGES), dtype="string"),
        "citizenship": pd.array(raw["popolazione"].map(S.EDUCATION_CITIZENSHIP), dtype="string"),
        "value": pd.array(raw["_v"], dtype="Float64"),
    })
    return validate(out, S.EducationLevels, name="education_levels", source=source, root=root)


# ------------------------------------------------------------------------------------------------
# The whole stage


def build_themes(inputs: Mapping[str, str], outputs: Mapping[str, str], statuses: Mapping[str, str] | None = None,
                 root=None) -> dict[str, pd.DataFrame]:
    """Parse every theme source and write the four tables and the FJAN check.

    `inputs` maps source ids (config/sources.csv) to raw paths; `outputs` has the keys foreign_balance,
    protection_permits, labour_rates, education_levels and fjan_check. Nothing is written unless every
    file passes, so the outputs always come from one consistent set of inputs."""
    statuses = statuses or {}
    status = {sid: statuses.get(sid, "final") for sid in SOURCE_IDS}
    cw = _crosswalk()

    balance = parse_foreign_balance(inputs[BALANCE_ID], source_id=BALANCE_ID, status=status[BALANCE_ID], root=root)
    fjan = read_fjan_territories(inputs[FJAN_ID], root=root)
    check = validate(compare_population_start(balance, fjan, cw), S.CrossSourceCheck,
                     name="foreign_balance_vs_fjan", source=outputs["fjan_check"], root=root)
    differs = check[check["status"].ne("ok")]
    if len(differs):
        lines = fjan.merge(cw[["itter107", "code"]], left_on="REF_AREA", right_on="itter107")
        lines = lines.rename(columns={"code": "territory_code"})[["territory_code", "date", "_line"]]
        rows = differs.merge(lines.astype({"territory_code": "string", "date": "string"}),
                             on=["territory_code", "date"], how="left")
        reject("foreign_balance_vs_fjan", relpath(inputs[FJAN_ID], root), pd.DataFrame({
            "row": rows["_line"].astype("Int64").astype("string").fillna(""),
            "column": "OBS_VALUE",
            "check": ("equals population_start of " + rows["territory_code"] + " " + rows["date"].str[:4]
                      + " in " + relpath(inputs[BALANCE_ID], root)),
            "value": rows["value_b"].astype("string").fillna("absent") + " (balance file: "
                     + rows["value_a"].astype("string").fillna("absent") + ")"}),
            what="1 January populations differ from the foreigners' balance (POPSTRBIL1)", root=root)
    log.info("FJAN check: %d territory-dates equal (%s)", len(check), ", ".join(sorted(check["date"].unique())))

    permits = parse_protection_permits(inputs[PERMITS_ID], source_id=PERMITS_ID, status=status[PERMITS_ID], root=root)
    labour = combine_labour([parse_labour_file(inputs[sid], source_id=sid, status=status[sid], has_sex=has_sex,
                                               root=root) for sid, has_sex in LABOUR_FILES], root=root)
    education = parse_education_levels(inputs[EDUCATION_ID], source_id=EDUCATION_ID, status=status[EDUCATION_ID],
                                       root=root)

    write_parquet(outputs["foreign_balance"], balance, sort_by=SORT_BALANCE)
    write_parquet(outputs["protection_permits"], permits, sort_by=SORT_PERMITS)
    write_parquet(outputs["labour_rates"], labour, sort_by=SORT_LABOUR)
    write_parquet(outputs["education_levels"], education, sort_by=SORT_EDUCATION)
    write_csv(outputs["fjan_check"], check, sort_by=SORT_CHECK)
    return {"foreign_balance": balance, "protection_permits": permits, "labour_rates": labour,
            "education_levels": education, "fjan_check": check}
