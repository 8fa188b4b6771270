"""ISTAT parsers on small fixtures in the official layouts (tests/fixtures/istat), and the messages
that stop the run when a file is wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from insiena.errors import InputRejected
from insiena.ingest.istat import build_istat
from insiena.ingest.istat_bilancio import balance_population, parse_bilancio, parse_monthly_balance
from insiena.ingest.istat_posas import parse_italy_by_age, parse_posas, parse_strasa
from insiena.ingest.istat_sdmx import parse_codelist, parse_sdmx
from insiena.io import read_parquet
from insiena.territories import codes_by_level, crosswalk, letter_codes, level_of_codes, parent_codes

FIXTURES = Path(__file__).parent / "fixtures" / "istat"
ROOT = Path(__file__).resolve().parents[1]
SOURCES = {
    "3_dimension_cl_itter107": ("3_Dimension_CL_ITTER107.csv", "itter107", "2020-05-06", "final"),
    "p2_2025_it_comuni": ("P2_2025_it_Comuni.csv", "bilancio_p2", "2025-12-31", "provisional"),
    "p3_2025_it_comuni": ("P3_2025_it_Comuni.csv", "bilancio_p3", "2025-12-31", "provisional"),
    "bilancio_demografico_mensile": ("Bilancio_demografico_mensile.csv", "bilancio_mensile", "2022-01", "final"),
    "posas_2024_it_province": ("POSAS_2024_it_Province.csv", "posas", "2024-01-01", "final"),
    "posas_2025_it_regioni": ("POSAS_2025_it_Regioni.csv", "posas", "2025-01-01", "provisional"),
    "popolazione_residente_2024": ("Popolazione_residente_2024.csv", "posas_italia", "2024-01-01", "final"),
    "strasa_2022_en_provinces": ("STRASA_2022_en_Provinces.csv", "strasa", "2022-01-01", "final"),
    "istat_22_289": ("istat_22_289.csv", "sdmx_22_289", "2022-01-01/2023-01-01", "final"),
    "istat_29_316_fjan": ("istat_29_316_FJAN.csv", "sdmx_29_316_fjan", "2021-01-01/2022-01-01", "final"),
    "zone_distretto_siena": ("zone_distretto.csv", "zone_distretto", "2020-04-01", "final"),
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A scratch project root holding copies of the fixtures (tests may corrupt them)."""
    monkeypatch.setenv("INSIENA_ROOT", str(tmp_path))
    (tmp_path / "raw").mkdir()
    for name in {v[0] for v in SOURCES.values()}:
        shutil.copyfile(FIXTURES / name, tmp_path / "raw" / name)
    return tmp_path


@pytest.fixture
def sources(project):
    return {sid: {"path": str(project / "raw" / f), "dataset": ds, "reference_date": ref, "status": st}
            for sid, (f, ds, ref, st) in SOURCES.items()}


@pytest.fixture(scope="module")
def cw():
    return crosswalk(ROOT / "config" / "territory_crosswalk.csv")


def edit(sources, sid, old, new, count=1):
    path = Path(sources[sid]["path"])
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def failures(project, name):
    path = project / "logs" / "validation" / f"{name}.failures.csv"
    assert path.is_file()
    return pd.read_csv(path, dtype=str, keep_default_na=False)


# --------------------------------------------------------------------------------------------- parsers


def test_posas_with_marital_status_title_bom_and_999_rows(sources, cw):
    s = sources["posas_2024_it_province"]
    rows = parse_posas(s["path"], "posas_2024_it_province", s, codes_by_level(cw))
    assert len(rows) == 2 * 4 * 3
    total = rows[(rows["territory_code"] == "052") & rows["age"].isna()].set_index("sex")["value"]
    singles = rows[(rows["territory_code"] == "052") & rows["age"].notna()].groupby("sex")["value"].sum()
    assert (total.sort_index() == singles.sort_index()).all()  # the 999 row is kept, not added
    assert set(rows["age"].dropna()) == {0, 1, 100}
    assert set(rows["date"]) == {"2024-01-01"} and set(rows["status"]) == {"final"}
    assert set(rows["territory_level"]) == {"provincia"} and rows["territory_code"].str.len().eq(3).all()


def test_posas_2025_note_line_and_provisional_title(sources, cw):
    s = sources["posas_2025_it_regioni"]
    rows = parse_posas(s["path"], "posas_2025_it_regioni", s, codes_by_level(cw))
    assert len(rows) == 4 * 3  # the trailing "Nota: ..." line is not a row
    assert set(rows["status"]) == {"provisional"} and set(rows["territory_code"]) == {"09"}
    assert rows.loc[rows["age"].isna() & (rows["sex"] == "totale"), "value"].item() == 48350


def test_italy_table_quoted_numbers_100_e_oltre_and_totale(sources):
    s = sources["popolazione_residente_2024"]
    rows = parse_italy_by_age(s["path"], "popolazione_residente_2024", s)
    assert set(rows["age"].dropna()) == {0, 1, 100}
    assert rows.loc[rows["age"].isna() & (rows["sex"] == "totale"), "value"].item() == 812000
    assert set(rows["territory_code"]) == {"IT"} and set(rows["date"]) == {"2024-01-01"}


def test_strasa_total_is_males_plus_females_and_marked_derived(sources, cw):
    s = sources["strasa_2022_en_provinces"]
    rows = parse_strasa(s["path"], "strasa_2022_en_provinces", s, codes_by_level(cw))
    tot = rows[rows["age"].isna()].set_index("sex")["value"]
    assert tot["maschi"] == 185 and tot["femmine"] == 166 and tot["totale"] == 351
    assert rows.loc[rows["sex"] == "totale", "derived"].all() and not rows.loc[rows["sex"] != "totale", "derived"].any()
    assert set(rows["citizenship"]) == {"stranieri"}


def test_p2_and_p3_headers_matched_despite_v_marker_and_comune_named_none(sources):
    p2, names2 = parse_bilancio(sources["p2_2025_it_comuni"]["path"], "p2_2025_it_comuni",
                                sources["p2_2025_it_comuni"], "bilancio_p2")
    p3, names3 = parse_bilancio(sources["p3_2025_it_comuni"]["path"], "p3_2025_it_comuni",
                                sources["p3_2025_it_comuni"], "bilancio_p3")
    assert "None" in set(names2["territory_name"])  # not read as missing
    assert p2["measure"].nunique() == 14 and p3["measure"].nunique() == 15
    assert "citizenship_acquisitions" in set(p3["measure"]) and "citizenship_acquisitions" not in set(p2["measure"])
    assert set(p3["citizenship"]) == {"stranieri"} and set(p2["citizenship"]) == {"totale"}
    # The census population at 1 January is final; the flows and the end stock carry the p flag.
    assert set(p2.loc[p2["measure"] == "population_start", "status"]) == {"final"}
    assert set(p2.loc[p2["measure"] != "population_start", "status"]) == {"provisional"}
    reg = p3[(p3["measure"] == "other_registrations") & (p3["territory_code"] == "052032")].set_index("sex")["value"]
    assert reg.to_dict() == {"maschi": 1, "femmine": 1, "totale": 2}
    stocks = balance_population(p2)
    assert set(stocks["date"]) == {"2025-01-01", "2025-12-31"}
    assert set(stocks["release"]) == {"census_count", "balance_end"}


def test_monthly_balance_period_comes_from_registry_and_is_flagged_inferred(sources, cw):
    s = sources["bilancio_demografico_mensile"]
    rows = parse_monthly_balance(s["path"], "bilancio_demografico_mensile", s, codes_by_level(cw))
    assert set(rows["period"]) == {"2022-01"} and rows["period_inferred"].all()
    tot = rows[rows["sex"] == "totale"].set_index("measure")["value"]
    assert tot["population_start"] == 2100 and tot["natural_balance"] == -7


def test_sdmx_float_values_letter_codes_and_groupings_left_out(sources, cw):
    s = sources["istat_29_316_fjan"]
    codelist = parse_codelist(sources["3_dimension_cl_itter107"]["path"], "3_dimension_cl_itter107")
    rows = parse_sdmx(s["path"], "istat_29_316_fjan", s, "sdmx_29_316_fjan", letter_codes(cw), level_of_codes(cw),
                      parent_codes(cw), codelist)
    assert str(rows["value"].dtype) == "Int64"
    levels = rows.drop_duplicates("territory_code").set_index("territory_code")["territory_level"].to_dict()
    assert levels == {"052032": "comune", "052022": "comune", "052": "provincia", "09": "regione",
                      "3": "ripartizione", "IT": "italia"}  # ITE19 -> 052 ..., ITCD (Nord) left out
    assert rows.loc[(rows["territory_code"] == "052032") & (rows["date"] == "2021-01-01"), "value"].item() == 6016


def test_build_on_fixtures_writes_every_table_byte_identically(project, sources):
    outs = {k: project / "out" / f for k, f in (("territories_out", "territories.parquet"),
                                                ("population_out", "population.parquet"),
                                                ("balance_out", "demographic_balance.parquet"),
                                                ("consistency_out", "checks/consistency.csv"))}
    kw = dict(crosswalk_path=ROOT / "config" / "territory_crosswalk.csv", provinces=["052"],
              zone_distretto={"052": "zone_distretto_siena"})
    build_istat(sources, **kw, **outs)
    first = {k: p.read_bytes() for k, p in outs.items()}
    build_istat(sources, **kw, **outs)
    assert first == {k: p.read_bytes() for k, p in outs.items()}

    terr = read_parquet(outs["territories_out"])
    zones = terr[terr["territory_level"] == "zona_distretto"].set_index("territory_code")["territory_name"]
    assert zones.to_dict() == {"052-ZD1": "Alta Val d'Elsa", "052-ZD2": "Senese"}  # alphabetical
    pop = read_parquet(outs["population_out"])
    p2 = pop[(pop["source_id"] == "p2_2025_it_comuni") & (pop["territory_code"] == "052") & (pop["sex"] == "totale")]
    # Siena + Poggibonsi: 5000 + 5500 + 1400 + 1500 at 1 January; 5040 + 5545 + 1418 + 1518 at 31 December.
    assert p2.set_index("date")["value"].to_dict() == {"2025-01-01": 13400, "2025-12-31": 13521}
    assert p2["derived"].all()
    assert pop.loc[pop["date"] == "2022-01-01", "census_break"].all()
    checks = pd.read_csv(outs["consistency_out"], dtype=str)
    # Fixture values differ across files on purpose: the report says so and the run goes on.
    assert (checks.loc[checks["check"] == "foreign_residents_strasa_vs_fjan", "status"] == "mismatch").all()
    assert (checks.loc[checks["check"].str.startswith("fjan_sum_of"), "status"] == "ok").all()


# --------------------------------------------------------------------------------------------- rejections


def _reject(call, *args):
    with pytest.raises(InputRejected) as exc:
        call(*args)
    return str(exc.value)


def test_males_plus_females_not_total_names_file_row_column_check(project, sources, cw):
    edit(sources, "posas_2024_it_province", '"052";"Siena";1;950;0;0;0;0;0;0;950;',
         '"052";"Siena";1;950;0;0;0;0;0;0;951;')  # Totale maschi of age 1, line 4
    s = sources["posas_2024_it_province"]
    msg = _reject(parse_posas, s["path"], "posas_2024_it_province", s, codes_by_level(cw))
    assert "POSAS_2024_it_Province.csv" in msg
    assert "row 4, column Totale: check 'Totale maschi + Totale femmine = Totale'" in msg
    f = failures(project, "posas_2024_it_province")
    hit = f[(f["row"] == "4") & (f["check"] == "Totale maschi + Totale femmine = Totale")]
    assert list(hit["column"]) == ["Totale"]
    assert "posas_2024_it_province.failures.csv" in msg


def test_single_ages_not_adding_up_to_999_row(project, sources, cw):
    edit(sources, "posas_2025_it_regioni", '"09";"Toscana";999;24650;23700;48350',
         '"09";"Toscana";999;24651;23700;48351')
    s = sources["posas_2025_it_regioni"]
    msg = _reject(parse_posas, s["path"], "posas_2025_it_regioni", s, codes_by_level(cw))
    assert "row 6" in msg
    f = failures(project, "posas_2025_it_regioni")
    assert set(f.loc[f["check"] == "ages 0-100 add up to the 999 total row", "column"]) == {"Totale maschi", "Totale"}


def test_negative_count_is_rejected(project, sources):
    edit(sources, "p2_2025_it_comuni", '"052022";"Poggibonsi";1400;10;', '"052022";"Poggibonsi";1400;-10;')
    s = sources["p2_2025_it_comuni"]
    msg = _reject(parse_bilancio, s["path"], "p2_2025_it_comuni", s, "bilancio_p2")
    assert "P2_2025_it_Comuni.csv" in msg
    assert "row 4, column Nati vivi - Maschi: check 'greater_than_or_equal_to(0)' failed for value -10" in msg
    f = failures(project, "p2_2025_it_comuni")
    hit = f[f["check"] == "greater_than_or_equal_to(0)"]
    assert hit[["row", "column", "value"]].values.tolist() == [["4", "Nati vivi - Maschi", "-10"]]


def test_duplicated_comune_row_is_rejected(project, sources):
    path = Path(sources["p3_2025_it_comuni"]["path"])
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(4, lines[2])  # the 052032 row again, as line 5
    path.write_text("\n".join(lines), encoding="utf-8")
    s = sources["p3_2025_it_comuni"]
    msg = _reject(parse_bilancio, s["path"], "p3_2025_it_comuni", s, "bilancio_p3")
    assert "row 3, column Codice comune: check 'field_uniqueness'" in msg
    f = failures(project, "p3_2025_it_comuni")
    assert set(f.loc[f["check"] == "field_uniqueness", "row"]) == {"3", "5"}


def test_duplicated_comune_date_row_in_sdmx_is_rejected(project, sources, cw):
    edit(sources, "istat_22_289", "IT1:22_289(1.0),A,052022,JAN,9,TOTAL,99,2022-01-01,28576.0,,,FILTER__ITE1,,,,,,,",
         "IT1:22_289(1.0),A,052022,JAN,9,TOTAL,99,2022-01-01,28576.0,,,FILTER__ITE1,,,,,,,\n"
         "IT1:22_289(1.0),A,052022,JAN,9,TOTAL,99,2022-01-01,28576.0,,,FILTER__ITE1,,,,,,,")
    s = sources["istat_22_289"]
    codelist = parse_codelist(sources["3_dimension_cl_itter107"]["path"], "3_dimension_cl_itter107")
    msg = _reject(parse_sdmx, s["path"], "istat_22_289", s, "sdmx_22_289", letter_codes(cw), level_of_codes(cw),
                  parent_codes(cw), codelist)
    assert "istat_22_289.csv" in msg
    assert "row 3, column REF_AREA: check 'one observation per REF_AREA, SEX and TIME_PERIOD'" in msg
    assert "row 4, column REF_AREA" in msg


def test_missing_column_names_the_header_line(project, sources):
    path = Path(sources["p2_2025_it_comuni"]["path"])
    text = path.read_text(encoding="utf-8").replace(';"Morti - Femmine"', "", 1)
    path.write_text(text, encoding="utf-8")
    s = sources["p2_2025_it_comuni"]
    msg = _reject(parse_bilancio, s["path"], "p2_2025_it_comuni", s, "bilancio_p2")
    assert "missing columns" in msg and "row 2, column Morti - Femmine" in msg and "column present" in msg


def test_missing_title_line(project, sources, cw):
    path = Path(sources["posas_2024_it_province"]["path"])
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    path.write_text("\n".join(lines[1:]), encoding="utf-8")
    s = sources["posas_2024_it_province"]
    msg = _reject(parse_posas, s["path"], "posas_2024_it_province", s, codes_by_level(cw))
    assert "missing title line" in msg and "row 1" in msg


def test_wrong_separator(project, sources, cw):
    path = Path(sources["strasa_2022_en_provinces"]["path"])
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join([lines[0]] + [ln.replace(",", ";") for ln in lines[1:]]), encoding="utf-8")
    s = sources["strasa_2022_en_provinces"]
    msg = _reject(parse_strasa, s["path"], "strasa_2022_en_provinces", s, codes_by_level(cw))
    assert "wrong separator" in msg and "row 2" in msg and "separator ','" in msg and "found ';'" in msg


def test_not_utf8(project, sources, cw):
    path = Path(sources["strasa_2022_en_provinces"]["path"])
    path.write_bytes(path.read_bytes().replace(b"Siena", "Sièna".encode("latin-1"), 1))
    s = sources["strasa_2022_en_provinces"]
    msg = _reject(parse_strasa, s["path"], "strasa_2022_en_provinces", s, codes_by_level(cw))
    assert "not a UTF-8 file" in msg and "row 3" in msg


def test_row_with_too_many_fields(project, sources, cw):
    edit(sources, "strasa_2022_en_provinces", '"052","Siena",1,95,85', '"052","Siena",1,95,85,7')
    s = sources["strasa_2022_en_provinces"]
    msg = _reject(parse_strasa, s["path"], "strasa_2022_en_provinces", s, codes_by_level(cw))
    assert "malformed row" in msg and "row 4" in msg


def test_title_date_must_match_registry(project, sources, cw):
    s = dict(sources["posas_2024_it_province"], reference_date="2023-01-01")
    msg = _reject(parse_posas, s["path"], "posas_2024_it_province", s, codes_by_level(cw))
    assert "reference date 2023-01-01 of config/sources.csv" in msg


def _sdmx(sources, cw):
    s = sources["istat_29_316_fjan"]
    codelist = parse_codelist(sources["3_dimension_cl_itter107"]["path"], "3_dimension_cl_itter107")
    return parse_sdmx(s["path"], "istat_29_316_fjan", s, "sdmx_29_316_fjan", letter_codes(cw), level_of_codes(cw),
                      parent_codes(cw), codelist)


def test_comuni_not_adding_up_to_province(project, sources, cw):
    edit(sources, "istat_29_316_fjan", "052022,FJAN,9,2021-01-01,2800.0", "052022,FJAN,9,2021-01-01,2801.0")
    with pytest.raises(InputRejected) as exc:
        _sdmx(sources, cw)
    assert "row 4, column OBS_VALUE: check 'aggregate equals the sum of its parts'" in str(exc.value)
    f = failures(project, "istat_29_316_fjan")
    assert f[["row", "column", "value"]].values.tolist() == [["4", "OBS_VALUE", "8816"]]  # the ITE19 line


def test_non_integer_sdmx_value(project, sources, cw):
    edit(sources, "istat_29_316_fjan", "052032,FJAN,9,2022-01-01,5145.0", "052032,FJAN,9,2022-01-01,5145.5")
    with pytest.raises(InputRejected, match="whole number"):
        _sdmx(sources, cw)


def test_unknown_ref_area(project, sources, cw):
    edit(sources, "istat_29_316_fjan", ",ITCD,FJAN,9,2021", ",ITZZ,FJAN,9,2021")
    with pytest.raises(InputRejected, match="ITZZ") as exc:
        _sdmx(sources, cw)
    assert "an ITTER107 code" in str(exc.value)


def test_comune_missing_from_p3_stops_the_build(project, sources):
    path = Path(sources["p3_2025_it_comuni"]["path"])
    lines = [ln for ln in path.read_text(encoding="utf-8").split("\n") if not ln.startswith('"052022"')]
    path.write_text("\n".join(lines), encoding="utf-8")
    out = project / "out"
    with pytest.raises(InputRejected) as exc:
        build_istat(sources, crosswalk_path=ROOT / "config" / "territory_crosswalk.csv", provinces=["052"],
                    zone_distretto={"052": "zone_distretto_siena"}, territories_out=out / "t.parquet",
                    population_out=out / "p.parquet", balance_out=out / "b.parquet",
                    consistency_out=out / "c.csv")
    assert "every comune of province 052 present at 2025" in str(exc.value) and "052022" in str(exc.value)
    assert not (out / "p.parquet").exists()


def test_build_without_zone_mapping_has_no_zone_level(project, sources):
    del sources["zone_distretto_siena"]
    out = project / "out"
    build_istat(sources, crosswalk_path=ROOT / "config" / "territory_crosswalk.csv", provinces=["052"],
                zone_distretto={}, territories_out=out / "t.parquet", population_out=out / "p.parquet",
                balance_out=out / "b.parquet", consistency_out=out / "c.csv")
    terr = read_parquet(out / "t.parquet")
    assert "zona_distretto" not in set(terr["territory_level"]) and terr["zona_distretto_code"].isna().all()
    assert "zona_distretto" not in set(read_parquet(out / "p.parquet")["territory_level"])
