"""The curated table of published reception figures, and the optional per-centre input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from insiena.errors import InputRejected
from insiena.ingest import reception as R
from insiena.io import read_parquet

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "config" / "published" / "reception_figures.csv"
SOURCE_PAGE = ROOT.parent / "shared" / "docs" / "published-reception-figures.md"
CENTRES = Path(__file__).parent / "fixtures" / "reception" / "centres_example.csv"


@pytest.fixture(autouse=True)
def scratch_root(tmp_path, monkeypatch):
    monkeypatch.setenv("INSIENA_ROOT", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return R.tidy_published(R.read_published(FIGURES))


def figure(df, code, measure, date=None):
    rows = df[(df["territory_code"] == code) & (df["measure"] == measure)]
    if date is not None:
        rows = rows[rows["reference_date"] == date]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_every_section_is_transcribed_with_levels(published):
    assert set(published["section"]) == set("ABCDE")
    assert set(published["territory_level"]) == {"comune", "provincia", "regione", "italia"}
    assert published["kind"].eq("published_statement").all()


def test_hand_checked_figures(published):
    assert figure(published, "052", "cas_count", "2021-10-25")["value"] == 53
    assert figure(published, "052", "cas_guests", "2021-10-25")["value"] == 577
    assert figure(published, "052", "sai_places", "2021-10-25")["unit"] == "posti"
    assert figure(published, "052", "sai_msna_places", "2021-10-25")["value"] == 12
    assert figure(published, "052", "migrants_assigned")["value"] == 1025
    assert figure(published, "052", "reception_places_available")["value"] == 603
    siena_2015 = published[(published["reference_date"] == "2015-06-21") & (published["territory_level"] == "comune")]
    assert siena_2015["value"].sum() == 327                      # the 11 comuni add up to the province
    assert figure(published, "052032", "asylum_seekers_hosted", "2024-11")["value"] == 121
    assert figure(published, "053", "cas_guests")["value"] == 445
    assert figure(published, "09", "sai_places")["value"] == 1887
    assert figure(published, "IT", "msna_present")["value"] == 21710


def test_undated_statements_keep_the_text_and_no_iso_date(published):
    undated = published[published["reference_date"].isna()]
    assert len(undated) > 0
    assert undated["reference_date_text"].str.contains("non indicata").all()


def test_partial_areas_are_flagged(published):
    sds = published[published["scope"].str.contains("Senese")]
    assert sds["partial_coverage"].all() and (sds["territory_level"] == "provincia").all()
    assert figure(published, "052032", "cas_places")["partial_coverage"]


def test_cruscotto_table_is_not_transcribed(published):
    # Section E's cruscotto rows are computed from the file: they must not reappear as statements.
    cruscotto = {5742, 1283, 4840, 1301, 3840, 1246, 3709, 1381, 5378, 1737, 7989, 1799, 8341, 1857, 8535, 1934}
    toscana = published[published["territory_code"] == "09"]
    assert not toscana["value"].isin(cruscotto).any()


def test_figures_and_urls_only_no_quotations():
    raw = pd.read_csv(FIGURES, dtype=str, keep_default_na=False)
    assert not raw.apply(lambda s: s.str.contains('"')).any().any()
    if not SOURCE_PAGE.is_file():
        pytest.skip(f"{SOURCE_PAGE} not present")
    page = SOURCE_PAGE.read_text(encoding="utf-8")
    for url in raw["source_url"].str.split(" ; ").explode():
        assert url in page, url
    quotes = re.findall(r'"([^"]{40,})"', page)
    words = lambda t: re.findall(r"\w+", t.lower())  # noqa: E731
    grams = {tuple(w[i:i + 7]) for q in quotes for w in [words(q)] for i in range(len(w) - 6)}
    for note in raw["definition_note"]:
        w = words(note)
        assert not any(tuple(w[i:i + 7]) in grams for i in range(len(w) - 6)), note


def _edited_copy(tmp_path, old, new):
    text = FIGURES.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "reception_figures.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_bad_unit_is_rejected_naming_row_column_check(tmp_path, scratch_root):
    path = _edited_copy(tmp_path, ",577,esatto,persone,", ",577,esatto,ospiti,")
    line = next(i for i, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if ",577,esatto," in l)
    with pytest.raises(InputRejected) as exc:
        R.read_published(path)
    msg = str(exc.value)
    assert "reception_figures.csv" in msg and f"row {line}" in msg and "unit" in msg and "isin" in msg
    assert (scratch_root / "logs/validation/reception_figures.failures.csv").is_file()


def test_negative_or_text_value_is_rejected(tmp_path):
    with pytest.raises(InputRejected, match="value"):
        R.read_published(_edited_copy(tmp_path, ",577,esatto,", ",-577,esatto,"))
    with pytest.raises(InputRejected, match="str_matches"):
        R.read_published(_edited_copy(tmp_path, ",577,esatto,", ",circa 577,esatto,"))


def test_code_must_match_level(tmp_path):
    path = _edited_copy(tmp_path, ",052,Siena,provincia,Provincia di Siena,false,cas_count,53,",
                        ",09,Siena,provincia,Provincia di Siena,false,cas_count,53,")
    with pytest.raises(InputRejected, match="code_matches_level"):
        R.read_published(path)


# --- per-centre data ------------------------------------------------------------------------------

def build(tmp_path, centres_file):
    out = {k: tmp_path / f"{k}.{'json' if k == 'status' else 'parquet'}"
           for k in ("published", "centres", "comuni", "status")}
    R.build_published_and_centres(FIGURES, centres_file, out["published"], out["centres"], out["comuni"],
                                  out["status"], centres_setting=str(centres_file))
    return out


def test_centres_absent_writes_empty_tables_and_says_so(tmp_path):
    out = build(tmp_path, "")
    centres, comuni = read_parquet(out["centres"]), read_parquet(out["comuni"])
    assert centres.empty and comuni.empty
    assert list(centres.columns)[:3] == ["centre_id", "centre_type", "centre_name"]
    assert centres["places"].dtype == "Int64"
    status = json.loads(out["status"].read_text(encoding="utf-8"))
    assert status["present"] is False and "assenti" in status["message"] and "stimata" in status["message"]
    assert len(read_parquet(out["published"])) == len(pd.read_csv(FIGURES))


def test_centres_present_builds_comune_table(tmp_path):
    out = build(tmp_path, CENTRES)
    centres = read_parquet(out["centres"])
    assert len(centres) == 5 and set(centres["centre_type"]) == {"CAS", "SAI"}     # "cas" normalised
    # Leading zeros restored for a spreadsheet-mangled code (52022 -> 052022).
    assert "052022" in set(centres["territory_code"])
    comuni = read_parquet(out["comuni"]).set_index(["territory_code", "date", "centre_type"])
    siena = comuni.loc[("052032", "2023-12-31", "CAS")]
    assert (siena["centres"], siena["places"], siena["presences"]) == (2, 32, 26)
    chiusi = comuni.loc[("052011", "2023-12-31", "CAS")]
    assert chiusi["places"] == 12 and pd.isna(chiusi["presences"]) and chiusi["centres_without_presences"] == 1
    status = json.loads(out["status"].read_text(encoding="utf-8"))
    assert status["present"] is True and status["centres"] == 4 and status["dates"] == ["2022-12-31", "2023-12-31"]


def test_centres_bad_type_is_rejected(tmp_path, scratch_root):
    text = CENTRES.read_text(encoding="utf-8").replace(",CAS,uomini adulti", ",ALBERGO,uomini adulti", 1)
    path = tmp_path / "centres.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputRejected) as exc:
        build(tmp_path, path)
    assert "row 2" in str(exc.value) and "tipologia_centro" in str(exc.value)
    assert (scratch_root / "logs/validation/reception_centres_input.failures.csv").is_file()


def test_centres_missing_required_column_is_rejected(tmp_path):
    raw = pd.read_csv(CENTRES, dtype=str)
    path = tmp_path / "centres.csv"
    raw.drop(columns=["comune_codice_istat"]).to_csv(path, index=False)
    with pytest.raises(InputRejected, match="comune_codice_istat"):
        build(tmp_path, path)
