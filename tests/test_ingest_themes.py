"""Theme sources (issue 10): parsers on small fixtures in the official layouts, with their quirks.

Fixtures (tests/fixtures/themes/) are cut from the mirror's files, byte layout kept:
- popstrbil1.csv: SDMX-CSV, no BOM, CRLF; real rows of Siena (ITE19), Grosseto (ITE1A), Bolzano
  (ITD10) and its NUTS-2 twin ITD1, 2021 (old scheme) and 2022 (census-based); the Toscana, Centro and
  Italia rows are the sums of those provinces, so the sum checks hold inside the fixture.
- fjan.csv: SDMX FJAN (floats, a comune row) with the fixture's own 1 January populations.
- permsogg1.csv: BOM, CRLF, quoted code + label pairs, SPARSE (zero cells absent); real Siena and
  Grosseto rows for 2019 and 2022, real WORLD rows of Milano (old scheme), Forli-Cesena (no 2019
  rows at all, as in the mirror) and Bolzano / ITD1; aggregates are the fixture's sums.
- d5.csv, d7.csv (BOM, LF, every line ends with ","), taxoccu1.csv, taxdisoccu1.csv (BOM, CRLF; no sex
  column): real rows, annual and quarterly.
- education.csv: the Noi Italia table with 2022-2023 only: BOM, CRLF, `;`, decimal commas, title rows,
  a quoted title with an embedded line break, stacked two-row header, spacer columns, block labels.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from insiena.errors import InputRejected
from insiena.ingest import themes as T
from insiena.io import read_parquet
from insiena.schemas import themes as S

FIX = Path(__file__).parent / "fixtures" / "themes"


def _copy(tmp_path: Path, name: str, edit=None, encoding: str = "utf-8") -> Path:
    """A copy of a fixture, optionally edited as text (bytes kept otherwise)."""
    data = (FIX / name).read_bytes()
    if edit is not None:
        data = edit(data.decode(encoding)).encode(encoding)
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing `needle` (the files have no embedded breaks there)."""
    for i, line in enumerate(path.read_bytes().decode("utf-8-sig").split("\n"), start=1):
        if needle in line:
            return i
    raise AssertionError(needle)


def _failures(tmp_path: Path, name: str) -> pd.DataFrame:
    path = tmp_path / "logs" / "validation" / f"{name}.failures.csv"
    assert path.is_file(), path
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _dtypes_ok(df: pd.DataFrame) -> None:
    for col in ("territory_code", "territory_name", "territory_level", "source_id", "status"):
        assert df[col].dtype == "string", col


# ------------------------------------------------------------------------------------------------
# POPSTRBIL1


def test_foreign_balance_parses_both_schemes_and_drops_the_nuts2_twin(tmp_path):
    df = T.parse_foreign_balance(FIX / "popstrbil1.csv", root=tmp_path)
    _dtypes_ok(df)
    assert df["year"].dtype == "Int64" and df["value"].dtype == "Int64"
    # ITD1 equals ITD10 (checked) and is dropped; ITD10 is Bolzano 021.
    assert set(df["territory_code"]) == {"IT", "3", "09", "052", "053", "021"}
    assert dict(zip(df["territory_code"], df["territory_level"]))["3"] == "ripartizione"
    siena = df[df["territory_code"].eq("052") & df["sex"].eq("totale")].set_index(["measure", "year"])["value"]
    assert siena[("births", 2021)] == 315 and siena[("births", 2022)] == 267
    assert siena[("citizenship_acquisitions", 2022)] == 1655
    assert siena[("population_start", 2022)] == 28310
    assert set(df.loc[df["measure"].eq("births"), "data_type"]) == {"FLBIRTH"}
    assert dict(zip(df["year"], df["scheme"])) == {2021: "2021-2021", 2022: "2022-2022 census-based"}
    S.ForeignBalance.validate(df)


def test_foreign_balance_missing_column_is_rejected_with_line_and_column(tmp_path):
    def drop_value(text):
        rows = [r.split(",") for r in text.split("\r\n")]
        return "\r\n".join(",".join(r[:6] + r[7:]) for r in rows)
    path = _copy(tmp_path, "popstrbil1.csv", drop_value)
    with pytest.raises(InputRejected) as exc:
        T.parse_foreign_balance(path, root=tmp_path)
    msg = str(exc.value)
    assert "popstrbil1.csv" in msg and "missing columns" in msg
    assert "row 1, column OBS_VALUE" in msg
    fails = _failures(tmp_path, T.BALANCE_ID)
    assert fails[["row", "column"]].values.tolist() == [["1", "OBS_VALUE"]]


def test_foreign_balance_sex_total_mismatch_names_the_total_row(tmp_path):
    row = "A,ITE19,FLBIRTH,9,2022,267,"
    path = _copy(tmp_path, "popstrbil1.csv", lambda t: t.replace(row, row.replace(",267,", ",268,")))
    line = _line_of(path, "A,ITE19,FLBIRTH,9,2022,268,")
    with pytest.raises(InputRejected) as exc:
        T.parse_foreign_balance(path, root=tmp_path)
    msg = str(exc.value)
    assert f"row {line}, column OBS_VALUE: check 'SEX 1 + 2 = 9'" in msg
    fails = _failures(tmp_path, T.BALANCE_ID)
    sex = fails[fails["check"].eq("SEX 1 + 2 = 9")]
    assert sex["row"].tolist() == [str(line)]
    assert "!= 9: 268" in sex["value"].iloc[0]


def test_foreign_balance_negative_count_is_rejected(tmp_path):
    row = "A,ITE19,FDEATH,1,2022,"
    text = (FIX / "popstrbil1.csv").read_bytes().decode()
    old = next(l for l in text.split("\r\n") if row in l)
    new = old.replace(f",2022,{old.split(',')[6]},", ",2022,-5,")
    path = _copy(tmp_path, "popstrbil1.csv", lambda t: t.replace(old, new))
    line = _line_of(path, new)
    with pytest.raises(InputRejected) as exc:
        T.parse_foreign_balance(path, root=tmp_path)
    assert f"row {line}, column OBS_VALUE: check 'non-negative count' failed for value -5" in str(exc.value)
    fails = _failures(tmp_path, T.BALANCE_ID)
    assert {"non-negative count", "SEX 1 + 2 = 9", "FNATGR = FLBIRTH - FDEATH"} <= set(fails["check"])


def test_foreign_balance_provinces_not_summing_to_italy_are_rejected(tmp_path):
    text = (FIX / "popstrbil1.csv").read_bytes().decode()
    rows = {sex: next(l for l in text.split("\r\n") if f",A,IT,ACQCITIZ,{sex},2021," in l) for sex in ("1", "9")}

    def plus_one(t):
        for line in rows.values():
            f = line.split(",")
            t = t.replace(line, ",".join(f[:6] + [str(int(f[6]) + 1)] + f[7:]))
        return t
    path = _copy(tmp_path, "popstrbil1.csv", plus_one)
    with pytest.raises(InputRejected) as exc:
        T.parse_foreign_balance(path, root=tmp_path)
    assert "failed consistency checks" in str(exc.value)
    fails = _failures(tmp_path, T.BALANCE_ID)
    assert set(fails["check"]) == {"provinces sum to Italy"}
    assert sorted(fails["row"].astype(int)) == sorted(_line_of(path, f",A,IT,ACQCITIZ,{s},2021,") for s in ("1", "9"))


def test_foreign_balance_unknown_data_type_is_rejected(tmp_path):
    path = _copy(tmp_path, "popstrbil1.csv", lambda t: t.replace(",FLBIRTH,", ",FXBIRTH,", 1))
    line = _line_of(path, "FXBIRTH")
    with pytest.raises(InputRejected) as exc:
        T.parse_foreign_balance(path, root=tmp_path)
    assert f"row {line}, column DATA_TYPE: check 'isin" in str(exc.value)


def test_fjan_comparison_is_all_equal_on_the_fixture(tmp_path):
    balance = T.parse_foreign_balance(FIX / "popstrbil1.csv", root=tmp_path)
    fjan = T.read_fjan_territories(FIX / "fjan.csv", root=tmp_path)
    check = T.compare_population_start(balance, fjan, T._crosswalk())
    S.CrossSourceCheck.validate(check)
    assert list(check.columns) == ["check", "territory_code", "date", "source_a", "value_a", "source_b",
                                   "value_b", "difference", "status"]
    assert len(check) == 12 and set(check["status"]) == {"ok"}
    row = check[check["territory_code"].eq("052") & check["date"].eq("2022-01-01")].iloc[0]
    assert (row["value_a"], row["value_b"], row["difference"]) == (28310, 28310, 0)


# ------------------------------------------------------------------------------------------------
# PERMSOGG1


def test_permits_sparse_zeros_totals_and_old_scheme(tmp_path):
    df = T.parse_protection_permits(FIX / "permsogg1.csv", root=tmp_path)
    _dtypes_ok(df)
    assert df["is_total"].dtype == "boolean" and df["comparable_to_current_province"].dtype == "boolean"
    siena = df[df["territory_code"].eq("052")].set_index(["country_code", "sex", "year"])
    assert siena.loc[("WORLD", "totale", 2019), "value"] == 98
    assert siena.loc[("WORLD", "maschi", 2022), "value"] == 704
    assert siena.loc[("PK", "totale", 2022), "value"] == 436
    # Absent from the file, made explicit because Siena 2019 has its WORLD row.
    assert siena.loc[("PK", "femmine", 2019), "value"] == 0
    assert bool(siena.loc[("PK", "femmine", 2019), "zero_filled"])
    assert not bool(siena.loc[("PK", "maschi", 2019), "zero_filled"])
    assert len(siena) == 2 * len(S.COUNTRIES) * 3
    assert siena.loc[("WORLD", "totale", 2019), "is_total"] and not siena.loc[("X777", "totale", 2019), "is_total"]
    assert siena.loc[("UA", "totale", 2022), "country_name"] == "Ucraina"
    assert siena.loc[("UA", "totale", 2022), "country_name_en"] == "Ukraine"
    # Forli-Cesena has no row at all for 2019: left absent, not filled.
    assert set(df.loc[df["territory_code"].eq("040"), "year"]) == {2022}
    # Old scheme: Milano includes Monza; Siena is the current province; ITD1 dropped, ITDA is region 04.
    milano = df[df["territory_code"].eq("015")]
    assert not milano["comparable_to_current_province"].any()
    assert milano["territory_note"].str.contains("Monza").all()
    assert siena["comparable_to_current_province"].all() and siena["territory_note"].isna().all()
    assert set(df["territory_vintage"]) == {"103 province, vecchia delimitazione"}
    assert "04" in set(df["territory_code"]) and "021" in set(df["territory_code"])
    S.ProtectionPermits.validate(df)


def test_permits_negative_value_and_sex_mismatch_are_rejected(tmp_path):
    old = '"international protection","2022","2022",1172,'
    path = _copy(tmp_path, "permsogg1.csv", lambda t: t.replace(old, old.replace("1172", "-1172")))
    line = _line_of(path, "-1172")
    with pytest.raises(InputRejected) as exc:
        T.parse_protection_permits(path, root=tmp_path)
    assert f"row {line}, column Value: check 'non-negative count' failed for value -1172" in str(exc.value)

    path = _copy(tmp_path, "permsogg1.csv", lambda t: t.replace(old, old.replace("1172", "1171")))
    line = _line_of(path, '"2022","2022",1171,')
    with pytest.raises(InputRejected) as exc:
        T.parse_protection_permits(path, root=tmp_path)
    assert f"row {line}, column Value: check 'SEX 1 + 2 = 9'" in str(exc.value)
    fails = _failures(tmp_path, T.PERMITS_ID)
    assert "provinces sum to the region" not in set(fails["check"])  # sums come after row checks


def test_permits_new_province_code_breaks_the_vintage(tmp_path):
    path = _copy(tmp_path, "permsogg1.csv",
                 lambda t: t.replace('"ITD58","Forlì-Cesena"', '"IT108","Monza e della Brianza"'), "utf-8-sig")
    with pytest.raises(InputRejected) as exc:
        T.parse_protection_permits(path, root=tmp_path)
    assert "unexpected territorial scheme" in str(exc.value)


# ------------------------------------------------------------------------------------------------
# Labour force survey


def _labour(tmp_path, **files):
    names = {T.ACTIVITY_ID: "d5.csv", T.UNEMPLOYMENT_ID: "d7.csv", T.EMPLOYMENT_FOREIGN_ID: "taxoccu1.csv",
             T.UNEMPLOYMENT_FOREIGN_ID: "taxdisoccu1.csv", **files}
    frames = [T.parse_labour_file(names[sid] if isinstance(names[sid], Path) else FIX / names[sid],
                                  source_id=sid, has_sex=has_sex, root=tmp_path)
              for sid, has_sex in T.LABOUR_FILES]
    return T.combine_labour(frames, root=tmp_path)


def test_labour_annual_rows_macro_areas_and_central_italy(tmp_path):
    df = _labour(tmp_path)
    _dtypes_ok(df)
    assert df["value"].dtype == "Float64" and df["year"].dtype == "Int64"
    assert set(df["year"]) == {2021, 2022, 2023}  # quarterly rows dropped
    names = dict(zip(df["territory_code"], df["territory_name"]))
    assert names == {"IT": "Italia", "3": "Italia centrale", "ITCD": "Nord", "ITFG": "Mezzogiorno"}
    levels = dict(zip(df["territory_code"], df["territory_level"]))
    assert levels["ITCD"] == levels["ITFG"] == "macroarea" and levels["3"] == "ripartizione"
    key = ["territory_code", "year", "indicator", "citizenship", "sex", "age_class", "education"]
    v = df.set_index(key)["value"]

    def rate(area, year, indicator, citizenship):
        return v[(area, year, indicator, citizenship, "totale", "15-64", "totale")]
    assert rate("3", 2022, "activity_rate", "italiani") == pytest.approx(69.64, abs=0.005)
    assert rate("3", 2022, "activity_rate", "stranieri") == pytest.approx(69.93, abs=0.005)
    assert rate("3", 2022, "unemployment_rate", "stranieri") == pytest.approx(13.06, abs=0.005)
    assert rate("IT", 2022, "unemployment_rate", "stranieri") == pytest.approx(12.04, abs=0.005)
    assert rate("3", 2022, "employment_rate", "stranieri") == pytest.approx(60.79, abs=0.005)
    assert set(df["education"]) == {"totale", "laurea"}
    # 2022 foreigners' unemployment is in D7 and TAXDISOCCU1 with equal values: one row, from D7;
    # 2023 comes from TAXDISOCCU1 only.
    src = df.set_index(key)["source_id"]
    assert src[("3", 2022, "unemployment_rate", "stranieri", "totale", "15-64", "totale")] == T.UNEMPLOYMENT_ID
    assert src[("3", 2023, "unemployment_rate", "stranieri", "totale", "15-64", "totale")] == T.UNEMPLOYMENT_FOREIGN_ID
    S.LabourRates.validate(df)


def test_labour_two_files_disagreeing_on_a_cell_are_rejected(tmp_path):
    text = (FIX / "taxdisoccu1.csv").read_bytes().decode("utf-8-sig")
    old = next(l for l in text.split("\r\n") if '"ITE"' in l and '"2022","2022"' in l and '"99"' in l)
    new = old.rsplit(",", 3)[0] + ",99.5,,"
    path = _copy(tmp_path, "taxdisoccu1.csv", lambda t: t.replace(old, new), "utf-8-sig")
    with pytest.raises(InputRejected) as exc:
        _labour(tmp_path, **{T.UNEMPLOYMENT_FOREIGN_ID: path})
    assert "same value as the other file" in str(exc.value)
    assert f"row {_line_of(path, ',99.5,')}" in str(exc.value)


def test_labour_ite_labelled_toscana_or_rate_over_100_is_rejected(tmp_path):
    path = _copy(tmp_path, "d5.csv", lambda t: t.replace('"ITE","Centro (I)"', '"ITE","Toscana"', 1), "utf-8-sig")
    with pytest.raises(InputRejected) as exc:
        T.parse_labour_file(path, source_id=T.ACTIVITY_ID, root=tmp_path)
    assert "column Territory" in str(exc.value)

    text = (FIX / "d7.csv").read_bytes().decode("utf-8-sig")
    old = text.split("\n")[1]
    new = old.rsplit(",", 3)[0] + ",101.5,,"
    path = _copy(tmp_path, "d7.csv", lambda t: t.replace(old, new), "utf-8-sig")
    with pytest.raises(InputRejected) as exc:
        T.parse_labour_file(path, source_id=T.UNEMPLOYMENT_ID, root=tmp_path)
    assert "row 2, column Value: check 'rate within 0-100' failed for value 101.5" in str(exc.value)


# ------------------------------------------------------------------------------------------------
# Noi Italia education


def test_education_stacked_header_decimal_commas_and_blocks(tmp_path):
    df = T.parse_education_levels(FIX / "education.csv", root=tmp_path)
    _dtypes_ok(df)
    assert len(df) == 2 * 3 * 6 * 2
    v = df.set_index(["year", "education_level", "age_class", "citizenship"])["value"]
    assert v[(2023, "licenza_media", "15-64", "stranieri")] == pytest.approx(48.9)
    assert v[(2023, "licenza_media", "15-64", "italiani")] == pytest.approx(35.6)
    assert v[(2023, "laurea", "15-64", "stranieri")] == pytest.approx(11.1)
    assert v[(2023, "laurea", "15-64", "italiani")] == pytest.approx(20.1)
    assert v[(2022, "diploma", "15-24", "stranieri")] == pytest.approx(32.3)
    assert set(df["age_class"]) == {"15-24", "25-34", "35-44", "45-54", "55-64", "15-64"}
    S.EducationLevels.validate(df)


def test_education_decimal_point_is_rejected_with_its_physical_line(tmp_path):
    # The title cell spans two physical lines: line numbers must count both.
    path = _copy(tmp_path, "education.csv", lambda t: t.replace("2023;;64,1;", "2023;;64.1;"), "utf-8-sig")
    line = _line_of(path, "2023;;64.1;")
    assert line == 15
    with pytest.raises(InputRejected) as exc:
        T.parse_education_levels(path, root=tmp_path)
    assert f"row {line}, column valore: check 'str_matches" in str(exc.value)


def test_education_missing_title_or_wrong_separator_is_rejected(tmp_path):
    path = _copy(tmp_path, "education.csv", lambda t: t.replace("Popolazione straniera e nazionale", "Tabella"),
                 "utf-8-sig")
    with pytest.raises(InputRejected) as exc:
        T.parse_education_levels(path, root=tmp_path)
    assert "missing title line" in str(exc.value)
    path = _copy(tmp_path, "education.csv", lambda t: t.replace(";", ","), "utf-8-sig")
    with pytest.raises(InputRejected) as exc:
        T.parse_education_levels(path, root=tmp_path)
    assert "missing header" in str(exc.value) and "separator ';'" in str(exc.value)


def test_education_shares_not_adding_to_100_are_rejected(tmp_path):
    path = _copy(tmp_path, "education.csv", lambda t: t.replace("2023;;1,8;", "2023;;3,8;"), "utf-8-sig")
    with pytest.raises(InputRejected) as exc:
        T.parse_education_levels(path, root=tmp_path)
    assert "the three levels add up to 100" in str(exc.value)


# ------------------------------------------------------------------------------------------------
# The whole stage


def _inputs(**override):
    files = {T.BALANCE_ID: "popstrbil1.csv", T.FJAN_ID: "fjan.csv", T.PERMITS_ID: "permsogg1.csv",
             T.ACTIVITY_ID: "d5.csv", T.UNEMPLOYMENT_ID: "d7.csv", T.EMPLOYMENT_FOREIGN_ID: "taxoccu1.csv",
             T.UNEMPLOYMENT_FOREIGN_ID: "taxdisoccu1.csv", T.EDUCATION_ID: "education.csv"}
    return {sid: str(override.get(sid, FIX / name)) for sid, name in files.items()}


def _outputs(tmp_path):
    out = {n: str(tmp_path / "out" / f"{n}.parquet")
           for n in ("foreign_balance", "protection_permits", "labour_rates", "education_levels")}
    out["fjan_check"] = str(tmp_path / "out" / "checks" / "foreign_balance_vs_fjan.csv")
    return out


def test_build_themes_writes_byte_identical_tables(tmp_path):
    outputs = _outputs(tmp_path)
    T.build_themes(_inputs(), outputs, root=tmp_path)
    first = {k: Path(p).read_bytes() for k, p in outputs.items()}
    T.build_themes(_inputs(), outputs, root=tmp_path)
    assert first == {k: Path(p).read_bytes() for k, p in outputs.items()}
    table = read_parquet(outputs["protection_permits"])
    assert table["territory_vintage"].dtype == "string" and table["value"].dtype == "Int64"
    check = pd.read_csv(outputs["fjan_check"], dtype=str)
    assert set(check["status"]) == {"ok"}


def test_build_themes_fails_when_fjan_differs_and_writes_nothing(tmp_path):
    fjan = _copy(tmp_path, "fjan.csv", lambda t: t.replace(",ITE19,FJAN,9,2022-01-01,28310.0,",
                                                          ",ITE19,FJAN,9,2022-01-01,28311.0,"))
    outputs = _outputs(tmp_path)
    with pytest.raises(InputRejected) as exc:
        T.build_themes(_inputs(**{T.FJAN_ID: fjan}), outputs, root=tmp_path)
    msg = str(exc.value)
    line = _line_of(fjan, ",ITE19,FJAN,9,2022-01-01,28311.0,")
    assert "fjan.csv: 1 January populations differ from the foreigners' balance (POPSTRBIL1)" in msg
    assert f"row {line}, column OBS_VALUE: check 'equals population_start of 052 2022 in" in msg
    assert "failed for value 28311 (balance file: 28310)" in msg
    assert _failures(tmp_path, "foreign_balance_vs_fjan")["row"].tolist() == [str(line)]
    assert not any(Path(p).exists() for p in outputs.values())
