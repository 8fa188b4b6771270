"""Reception parsers on small fixtures in the official layouts (quirks included), and rejections."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from insiena.errors import InputRejected
from insiena.ingest import reception as R
from insiena.io import read_parquet

FIX = Path(__file__).parent / "fixtures" / "reception"
ANAC = sorted((FIX / "anac").glob("accoglienza_*.csv"))
ANAC_IDS = [f"anac_{p.stem}" for p in ANAC]


@pytest.fixture(autouse=True)
def scratch_root(tmp_path, monkeypatch):
    # Failure files go to <root>/logs/validation: keep them out of the working copy.
    monkeypatch.setenv("INSIENA_ROOT", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def territories() -> pd.DataFrame:
    return pd.read_csv(FIX / "territories_sample.csv", dtype=str)


# --- cruscotto -------------------------------------------------------------------------------------

@pytest.fixture
def presences(tmp_path):
    R.build_presences(FIX / "accoglienza_sample.csv", FIX / "anagrafica_sample.csv",
                      tmp_path / "p.parquet", tmp_path / "gaps.csv")
    return read_parquet(tmp_path / "p.parquet"), pd.read_csv(tmp_path / "gaps.csv", dtype=str)


def value(df, code, date, typ):
    row = df[(df["territory_code"] == code) & (df["date"] == date) & (df["type"] == typ)]
    assert len(row) == 1
    return row.iloc[0]


def test_region_codes_stay_zero_padded_text_and_names_keep_accents(presences):
    df, _ = presences
    assert df["territory_code"].dtype == "string"
    assert "09" in set(df["territory_code"]) and "9" not in set(df["territory_code"])
    names = dict(zip(df["territory_code"], df["territory_name"]))
    assert names["04"] == "Trentino-Alto Adige/Südtirol"
    assert names["02"] == "Valle d'Aosta/Vallée d'Aoste"
    assert set(df.loc[df["territory_code"] != "IT", "territory_level"]) == {"regione"}


def test_siproimi_and_sai_are_one_series_with_a_break_flag(presences):
    df, _ = presences
    before = value(df, "09", "2020-12-15", "second_level")
    after = value(df, "09", "2021-01-15", "second_level")
    later = value(df, "09", "2021-01-31", "second_level")
    assert (before["value"], before["system_label"], bool(before["break_flag"])) == (1246, "SIPROIMI", False)
    assert (after["value"], after["system_label"], bool(after["break_flag"])) == (1279, "SAI", True)
    assert (later["system_label"], bool(later["break_flag"])) == ("SAI", False)
    # The break is flagged on the second-level series only.
    assert not df.loc[df["type"] != "second_level", "break_flag"].any()


def test_blank_is_not_reported_never_zero(presences):
    df, _ = presences
    assert pd.isna(value(df, "09", "2021-01-15", "hotspot")["value"])          # Toscana: no hotspot
    assert value(df, "16", "2021-01-15", "hotspot")["value"] == 0               # Puglia reports 0
    assert pd.isna(value(df, "14", "2021-01-31", "centri_accoglienza")["value"])  # blanked in fixture


def test_italia_is_a_sum_only_where_all_twenty_regions_report(presences):
    df, _ = presences
    full = value(df, "IT", "2021-01-15", "centri_accoglienza")
    raw = pd.read_csv(FIX / "accoglienza_sample.csv", dtype=str)
    expected = pd.to_numeric(raw.loc[raw["Data_Report"] == "2021-01-15",
                                     "Migranti presenti nei centri di accoglienza"]).sum()
    assert full["value"] == expected and full["regions_reported"] == 20
    assert full["aggregation"] == "sum_of_regions" and full["territory_level"] == "italia"
    partial = value(df, "IT", "2021-01-31", "centri_accoglienza")
    assert pd.isna(partial["value"]) and partial["regions_reported"] == 19
    assert pd.isna(value(df, "IT", "2021-01-15", "hotspot")["value"])


def test_missing_report_dates_are_listed_not_interpolated(presences):
    df, gaps = presences
    assert list(gaps["date"]) == ["2020-12-31"]
    assert gaps.loc[0, "pdf_url"].endswith("_fixture.pdf")
    assert "2020-12-31" not in set(df["date"])
    assert df.loc[df["date"] == "2021-01-15", "pdf_url"].isna().all()       # no URL for that date
    assert value(df, "09", "2020-12-15", "centri_accoglienza")["pdf_url"].endswith("15-12-2020.pdf")


def test_report_calendar_handles_leap_february():
    assert R.missing_report_dates(["2020-02-15", "2020-03-15"]) == ["2020-02-29"]
    assert R.missing_report_dates(["2021-02-15", "2021-03-15"]) == ["2021-02-28"]


def test_readme_header_spelling_is_accepted(tmp_path):
    text = (FIX / "accoglienza_sample.csv").read_text(encoding="utf-8")
    text = text.replace("Migranti presenti", "Immigrati presenti", 4)
    path = tmp_path / "accoglienza.csv"
    path.write_text(text, encoding="utf-8")
    assert len(R.read_cruscotto(path)) == 60


def test_missing_column_is_rejected_with_file_column_and_check(tmp_path, scratch_root):
    raw = pd.read_csv(FIX / "accoglienza_sample.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "accoglienza.csv"
    raw.drop(columns=["CodiceRegione"]).to_csv(path, index=False)
    with pytest.raises(InputRejected) as exc:
        R.read_cruscotto(path)
    msg = str(exc.value)
    assert "accoglienza.csv" in msg and "CodiceRegione" in msg and "column_present" in msg
    assert (scratch_root / "logs/validation/cruscotto_accoglienza.failures.csv").is_file()


def test_non_numeric_count_is_rejected_with_its_line(tmp_path, scratch_root):
    lines = (FIX / "accoglienza_sample.csv").read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[3], "12a", 1)   # 5th data row = line 6
    path = tmp_path / "accoglienza.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputRejected) as exc:
        R.read_cruscotto(path)
    msg = str(exc.value)
    assert "row 6" in msg and "Migranti presenti nei centri di accoglienza" in msg and "str_matches" in msg
    assert "12a" in msg
    failures = pd.read_csv(scratch_root / "logs/validation/cruscotto_accoglienza.failures.csv", dtype=str)
    assert list(failures.columns) == ["file", "row", "column", "check", "value"]


# --- ANAC contracts --------------------------------------------------------------------------------

@pytest.fixture
def contracts(tmp_path, territories):
    R.build_contracts(ANAC, ANAC_IDS, territories, tmp_path / "c.parquet", tmp_path / "s.parquet")
    return read_parquet(tmp_path / "c.parquet").set_index("cig", drop=False), read_parquet(tmp_path / "s.parquet")


def test_crlf_and_quoted_commas_are_read(contracts):
    c, _ = contracts
    assert c.loc["7812345B02", "object_tender"].endswith("IN CAS, LOTTO 1")
    assert c.loc["7812345B02", "object_lot"] == "CENTRI COLLETTIVI, FINO A 50 POSTI"
    assert not c["object_tender"].str.contains("\r").any()
    assert c.loc["B3333333B8", "object_tender"] == 'SERVIZIO DI ACCOGLIENZA "SUD" PER RICHIEDENTI ASILO'


def test_one_row_per_cig_with_cpv_codes_joined(contracts):
    c, _ = contracts
    assert c["cig"].is_unique and len(c) == 9
    row = c.loc["B0EA2D0951"]
    assert row["cpv_codes"] == "85310000-5;85311000-2" and row["source_rows"] == 2
    assert row["source_id"] == "anac_accoglienza_2024_05"


def test_province_from_code_else_from_buyer_and_say_which(contracts):
    c, _ = contracts
    siena = c.loc["7838112A01"]
    assert (siena["province_code"], siena["comune_code"], siena["province_basis"]) == ("052", "052032", "luogo_istat")
    assert (siena["territory_code"], siena["territory_level"]) == ("052032", "comune")
    ravenna = c.loc["7812345B02"]
    assert (ravenna["province_code"], ravenna["province_basis"], ravenna["province_rule"]) == \
        ("039", "buyer_name", "prefettura_name")
    assert pd.isna(ravenna["comune_code"]) and ravenna["territory_level"] == "provincia"
    poggibonsi = c.loc["7822222C03"]
    assert (poggibonsi["province_code"], poggibonsi["province_rule"]) == ("052", "comune_name")
    unknown = c.loc["7844444E05"]
    assert unknown["province_basis"] == "unknown" and pd.isna(unknown["province_code"])
    assert (unknown["territory_code"], unknown["territory_level"]) == ("IT", "italia")


def test_place_of_execution_is_not_the_buyer(contracts):
    c, _ = contracts
    row = c.loc["B0EA2D0951"]   # SdS Area Pratese places minors in Poggibonsi
    assert row["province_code"] == "052" and row["buyer_province_code"] == "100"
    assert row["province_name"] == "Siena"


def test_suppressed_sardinian_province_maps_to_its_successor(contracts):
    c, _ = contracts
    row = c.loc["B3333333B8"]
    assert (row["comune_code"], row["province_code"], row["province_rule"]) == \
        ("107006", "111", "luogo_istat_suppressed_province")


def test_reggio_calabria_and_reggio_emilia_are_told_apart(contracts):
    c, _ = contracts
    assert c.loc["B1111111F6", "province_code"] == "080"
    assert c.loc["B2222222A7", "province_code"] == "035"


def test_framework_agreements_are_flagged_and_never_summed(contracts):
    c, summary = contracts
    assert c.loc["7833333D04", "cig_framework"] == "7423263E67"   # trailing blank stripped
    assert c.loc["7833333D04", "framework_basis"] == "cig_accordo_quadro;procedure"
    assert c.loc["7812345B02", "framework_basis"] == "object_text"
    assert not c.loc["7838112A01", "framework"]
    ravenna = summary[(summary["territory_code"] == "039") & (summary["year"] == 2019)].iloc[0]
    assert ravenna["contracts_framework"] == 1 and pd.isna(ravenna["amount_lot_non_framework"])
    it = summary[(summary["territory_code"] == "IT") & (summary["year"] == 2019) & (summary["category"] == "CAS")]
    # Siena 69,300 + the unknown-province UTG 150,000; Ravenna's ceiling and Vercelli's call-off excluded.
    assert it.iloc[0]["amount_lot_non_framework"] == 69300.0 + 150000.0
    assert it.iloc[0]["contracts"] == 4 and it.iloc[0]["contracts_unknown_province"] == 1


def test_withheld_object_and_confidence_are_kept(contracts):
    c, _ = contracts
    assert c.loc["B0EA2D0951", "object_withheld"] and c.loc["B0EA2D0951", "category"] == "MSNA"
    assert c.loc["7822222C03", "confidence"] == "probabile"
    assert set(c["confidence"]) == {"certa", "probabile"}


def test_categories_on_fixture(contracts):
    c, _ = contracts
    got = dict(zip(c["cig"], zip(c["category"], c["category_rule"])))
    assert got["7822222C03"] == ("SAI", "sprar")
    assert got["7812345B02"] == ("CAS", "cas")
    assert got["7838112A01"] == ("CAS", "prefettura_reception")
    assert got["B2222222A7"] == ("MSNA", "msna")      # "extra SAI" is not SAI
    assert not c.loc["7838112A01", "category_explicit"] and c.loc["7812345B02", "category_explicit"]


def test_prefettura_contracts_are_listed_by_buyer(contracts):
    c, _ = contracts
    listed = R.prefettura_contracts(c.reset_index(drop=True), "052")
    assert list(listed["cig"]) == ["7838112A01"]


def _anac_copy(tmp_path, edit):
    folder = tmp_path / "anac"
    folder.mkdir()
    for p in ANAC:
        shutil.copyfile(p, folder / p.name)
    target = folder / "accoglienza_2024_05.csv"
    target.write_bytes(edit(target.read_bytes()))
    return sorted(folder.glob("*.csv"))


def test_negative_amount_is_rejected_naming_file_row_column_check(tmp_path, scratch_root, territories):
    paths = _anac_copy(tmp_path, lambda b: b.replace(b",120000.0,120000.0,", b",-120000.0,120000.0,"))
    with pytest.raises(InputRejected) as exc:
        R.build_contracts(paths, ANAC_IDS, territories, tmp_path / "c.parquet", tmp_path / "s.parquet")
    msg = str(exc.value)
    assert "accoglienza_2024_05.csv" in msg and "row 4" in msg and "importo_lotto" in msg
    assert "greater_than_or_equal_to(0)" in msg and "-120000.0" in msg
    failures = pd.read_csv(scratch_root / "logs/validation/anac_contracts.failures.csv", dtype=str)
    assert failures.iloc[0]["file"].endswith("accoglienza_2024_05.csv")
    assert not (tmp_path / "c.parquet").exists()


def test_missing_column_in_one_monthly_file_is_rejected(tmp_path, scratch_root, territories):
    paths = _anac_copy(tmp_path, lambda b: b.replace(b",confidenza\r\n", b",confidence\r\n", 1))
    with pytest.raises(InputRejected) as exc:
        R.build_contracts(paths, ANAC_IDS, territories, tmp_path / "c.parquet", tmp_path / "s.parquet")
    msg = str(exc.value)
    assert "accoglienza_2024_05.csv" in msg and "confidenza" in msg and "column_present" in msg
    assert (scratch_root / "logs/validation/anac_contracts.failures.csv").is_file()


def test_outputs_are_byte_identical_on_rerun(tmp_path, territories):
    for run in ("a", "b"):
        R.build_contracts(ANAC, ANAC_IDS, territories, tmp_path / f"c{run}.parquet", tmp_path / f"s{run}.parquet")
        R.build_presences(FIX / "accoglienza_sample.csv", FIX / "anagrafica_sample.csv",
                          tmp_path / f"p{run}.parquet", tmp_path / f"g{run}.csv")
    for stem in ("c", "s", "p"):
        assert (tmp_path / f"{stem}a.parquet").read_bytes() == (tmp_path / f"{stem}b.parquet").read_bytes()
