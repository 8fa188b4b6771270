"""Reception tables from the real pipeline run on the mirror: values read by hand in the raw files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import insiena
from insiena.ingest.reception import prefettura_contracts

pytestmark = pytest.mark.integration

# Manifest (MANIFEST-reception.md): raw rows per publication year.
SIENA_ROWS_BY_YEAR = {2015: 5, 2016: 9, 2017: 6, 2018: 4, 2019: 15, 2020: 5, 2021: 7, 2022: 19, 2023: 15,
                      2024: 6, 2025: 14}
GROSSETO_ROWS_BY_YEAR = {2015: 6, 2016: 16, 2017: 1, 2018: 22, 2019: 13, 2021: 1, 2022: 2, 2023: 4, 2024: 1}
# PREFETTURA DI SIENA rows per year, counted by hand in the monthly files (92 in all).
PREFETTURA_SIENA_BY_YEAR = {2015: 5, 2016: 8, 2017: 6, 2019: 15, 2020: 4, 2021: 7, 2022: 19, 2023: 15,
                            2024: 2, 2025: 11}


@pytest.fixture(scope="module")
def presences(built):
    return insiena.load("reception_presences", root=built)


@pytest.fixture(scope="module")
def contracts(built):
    return insiena.load("reception_contracts", root=built)


def at(df, code, date, typ):
    row = df[(df["territory_code"] == code) & (df["date"] == date) & (df["type"] == typ)]
    assert len(row) == 1
    return row.iloc[0]


@pytest.mark.parametrize("date,centri,second,system", [
    ("2019-09-30", 5742, 1283, "SIPROIMI"),
    ("2021-12-31", 3709, 1381, "SAI"),
    ("2024-12-31", 8341, 1857, "SAI"),
    ("2025-09-15", 8535, 1934, "SAI"),
])
def test_toscana_series_reproduces_hand_read_values(presences, date, centri, second, system):
    assert at(presences, "09", date, "centri_accoglienza")["value"] == centri
    row = at(presences, "09", date, "second_level")
    assert (row["value"], row["system_label"]) == (second, system)
    assert row["territory_level"] == "regione" and row["territory_name"] == "Toscana"
    assert pd.isna(at(presences, "09", date, "hotspot")["value"])


def test_presences_are_regional_and_break_is_at_the_sai_switch(presences):
    assert set(presences["territory_level"]) == {"regione", "italia"}
    assert presences["date"].nunique() == 140
    regional = presences[presences["territory_level"] == "regione"]
    assert regional.groupby("date")["territory_code"].nunique().eq(20).all()
    breaks = presences[presences["break_flag"].astype(bool)]
    assert set(breaks["date"]) == {"2021-01-15"} and set(breaks["type"]) == {"second_level"}


def test_missing_report_dates_are_listed(built):
    gaps = pd.read_csv(built / "data/processed/reception_presences_gaps.csv", dtype=str)
    assert list(gaps["date"]) == ["2020-10-15", "2021-03-15", "2021-07-15", "2024-03-31"]
    assert gaps.set_index("date")["pdf_url"].notna().to_dict() == {
        "2020-10-15": True, "2021-03-15": False, "2021-07-15": False, "2024-03-31": True}


def test_italia_sum_only_where_every_region_reports(presences):
    italia = presences[presences["territory_level"] == "italia"]
    assert italia.loc[italia["type"] == "hotspot", "value"].isna().all()   # most regions have no hotspot
    centri = italia[italia["type"] == "centri_accoglienza"].set_index("date")["value"]
    regions = presences[(presences["territory_level"] == "regione")
                                   & (presences["type"] == "centri_accoglienza")].groupby("date")["value"].sum()
    assert (centri == regions).all()


def test_contracts_one_row_per_cig(contracts):
    assert len(contracts) == 18028 and contracts["cig"].is_unique
    assert contracts["source_rows"].sum() == 18104


def test_siena_and_grosseto_rows_per_year_match_the_manifest(contracts):
    by_code = contracts[contracts["comune_code"].notna()]
    siena = by_code[by_code["comune_code"].str.startswith("052")]
    assert siena.groupby("year")["source_rows"].sum().to_dict() == SIENA_ROWS_BY_YEAR
    assert len(siena) == 104                    # one CIG appears on two CPV rows
    grosseto = by_code[by_code["comune_code"].str.startswith("053")]
    assert grosseto.groupby("year")["source_rows"].sum().to_dict() == GROSSETO_ROWS_BY_YEAR


def test_prefettura_di_siena_contracts_per_year(contracts):
    listed = prefettura_contracts(contracts, "052")
    assert len(listed) == 92 and set(listed["buyer_name"]) == {"PREFETTURA DI SIENA"}
    assert listed.groupby("year").size().to_dict() == PREFETTURA_SIENA_BY_YEAR
    assert (listed["province_code"] == "052").all()
    # Framework call-offs of 2025 (cig_accordo_quadro) and the 2025 framework tenders are flagged.
    assert listed.loc[listed["year"] == 2025, "framework"].sum() == 9


def test_summary_never_sums_framework_ceilings(built, contracts):
    summary = insiena.load("reception_contracts_summary", root=built)
    siena = summary[(summary["territory_code"] == "052") & (summary["year"] == 2025) & (summary["category"] == "CAS")]
    row = siena.iloc[0]
    expected = contracts[(contracts["province_code"] == "052") & (contracts["year"] == 2025)
                         & (contracts["category"] == "CAS") & ~contracts["framework"].astype(bool)]["amount_lot"].sum()
    assert row["contracts"] == 11 and row["contracts_framework"] == 9
    assert row["amount_lot_non_framework"] == pytest.approx(expected)
    assert summary["amount_label"].str.contains("esclusi accordi quadro").all()
    assert set(summary["territory_level"]) == {"provincia", "italia"}


def test_published_and_centres_outputs(built):
    published = insiena.load("reception_published", root=built)
    assert len(published) == len(pd.read_csv(built / "config/published/reception_figures.csv"))
    status = json.loads((built / "data/processed/reception_centres_status.json").read_text(encoding="utf-8"))
    assert status["present"] is False
    assert insiena.load("reception_centres", root=built).empty


def test_centres_file_from_config_feeds_the_comune_table(tmp_path):
    from conftest import copy_project, run_snakemake

    project = copy_project(tmp_path / "p")
    target = "data/processed/reception_centres_comuni.parquet"
    run_snakemake(project, target)
    assert insiena.load("reception_centres_comuni", root=project).empty
    run_snakemake(project, target, "--config", "centres_file=tests/fixtures/reception/centres_example.csv")
    comuni = insiena.load("reception_centres_comuni", root=project)
    assert set(comuni["territory_code"]) == {"052011", "052022", "052032"}
    status = json.loads((project / "data/processed/reception_centres_status.json").read_text(encoding="utf-8"))
    assert status["present"] is True and status["centres_file"] == "tests/fixtures/reception/centres_example.csv"
