"""Indicator formulas on small hand-computed inputs (tests/fixtures/indicators/, see its README).

Every expected value is worked out in the comment beside it, from the fixture numbers.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from insiena.catalogue import load_catalogue, load_samedi, load_siena2030, read_catalogue
from insiena.errors import InputRejected
from insiena.indicators import KEY, indicators_for_province
from insiena.indicators.benchmarks import path_benchmark_id, straight_path
from insiena.indicators.build import build_all, csv_ready, export_csv
from insiena.indicators.core import catalogue_meta
from insiena.io import write_csv, write_parquet
from insiena.registry import load_registry
from insiena.schemas.indicators import BenchmarkSamedi, BenchmarkSiena2030, CoverageTable, Indicators
from insiena.validation import validate

FIXTURES = Path(__file__).parent / "fixtures" / "indicators"
AREAS = {"SAMEDI": {"name": "Area SAMEDI (Arezzo, Siena, Grosseto)", "provinces": ["051", "052", "053"]}}
ZONES = {"052": "zone_distretto_siena"}
CFG = {"comparators": {"052": ["051", "053", "SAMEDI"]}, "areas": AREAS, "zone_distretto": ZONES}
INTS = {"value", "age", "year", "contracts", "contracts_buyer_name", "contracts_unknown_province"}
FLOATS = {"labour_rates": {"value"}, "education_levels": {"value"}}
BOOLS = {"derived", "is_total", "comparable_to_current_province", "break_flag"}


def read_fixture(name: str) -> pd.DataFrame:
    raw = pd.read_csv(FIXTURES / f"{name}.csv", dtype=str, keep_default_na=False).replace({"": None})
    out = pd.DataFrame(index=raw.index)
    for col in raw.columns:
        if col in FLOATS.get(name, set()):
            out[col] = pd.array(pd.to_numeric(raw[col]), dtype="Float64")
        elif col in INTS:
            out[col] = pd.array(pd.to_numeric(raw[col]), dtype="Int64")
        elif col in BOOLS:
            out[col] = raw[col].map({"true": True, "false": False}).astype("boolean")
        else:
            out[col] = raw[col].astype("string[pyarrow]")
    return out


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    names = ["territories", "population", "demographic_balance", "foreign_balance", "protection_permits",
             "labour_rates", "education_levels", "reception_presences", "reception_contracts_summary"]
    return {n: read_fixture(n) for n in names}


@pytest.fixture(scope="module")
def config_inputs(root):
    catalogue = load_catalogue(root=root)
    return {"doc": read_catalogue(root=root), "registry": load_registry(root=root).reset_index(drop=True),
            "siena2030": load_siena2030(root=root, catalogue=catalogue),
            "samedi": load_samedi(root=root, catalogue=catalogue, areas=AREAS)}


@pytest.fixture(scope="module")
def outputs(tables, config_inputs):
    return build_all(tables, areas=AREAS, zone_distretto=ZONES, **config_inputs)


@pytest.fixture(scope="module")
def table(outputs) -> pd.DataFrame:
    return outputs["indicators"]


def row(table, indicator_id, code, period, **breakdown):
    want = {"sex": "totale", "age_class": "totale", "category": "totale", **breakdown}
    m = (table["indicator_id"] == indicator_id) & (table["territory_code"] == code) & (table["period"] == period)
    for col, val in want.items():
        m &= table[col] == val
    rows = table[m]
    assert len(rows) == 1, f"{indicator_id} {code} {period} {want}: {len(rows)} rows"
    return rows.iloc[0]


def has(table, indicator_id, code, period=None) -> bool:
    m = (table["indicator_id"] == indicator_id) & (table["territory_code"] == code)
    if period is not None:
        m &= table["period"] == period
    return bool(m.any())


# --- the table as a whole -----------------------------------------------------------------------

def test_table_validates_and_key_is_unique(table, root):
    validated = validate(table, Indicators, name="indicators_test", source="fixture", root=root)
    assert not validated.duplicated(KEY).any()
    assert list(validated.columns)[:5] == ["indicator_id", "theme", "territory_code", "territory_name",
                                           "territory_level"]


def test_side_tables_validate(outputs, root):
    validate(outputs["coverage"], CoverageTable, name="cov_test", source="fixture", root=root)
    validate(outputs["siena2030"], BenchmarkSiena2030, name="s2030_test", source="fixture", root=root)
    validate(outputs["samedi"], BenchmarkSamedi, name="samedi_test", source="fixture", root=root)


def test_schema_rejects_a_duplicate_key_and_a_wrong_gap(table, root):
    dup = pd.concat([table, table.iloc[[0]]], ignore_index=True)
    with pytest.raises(InputRejected):
        validate(dup, Indicators, name="indicators_dup", source="fixture", root=root)
    bad = table.copy()
    i = bad.index[bad["gap"].notna()][0]
    bad.loc[i, "gap"] = bad.loc[i, "gap"] + 1
    with pytest.raises(InputRejected, match="gap = value - benchmark_value"):
        validate(bad, Indicators, name="indicators_gap", source="fixture", root=root)


def test_build_is_deterministic(tables, config_inputs, table):
    again = build_all(tables, areas=AREAS, zone_distretto=ZONES, **config_inputs)["indicators"]
    pd.testing.assert_frame_equal(table.sort_values(KEY).reset_index(drop=True),
                                  again.sort_values(KEY).reset_index(drop=True))


def test_csv_ready_writes_the_same_bytes(table, tmp_path):
    write_csv(tmp_path / "a.csv", table, sort_by=KEY)
    write_csv(tmp_path / "b.csv", csv_ready(table), sort_by=KEY)
    assert filecmp.cmp(tmp_path / "a.csv", tmp_path / "b.csv", shallow=False)


def test_csv_job_writes_the_csv_of_the_parquet_table(table, tmp_path):
    # Rule indicators_csv rebuilds the CSV from the Parquet file alone: the same bytes as from the table.
    write_parquet(tmp_path / "t.parquet", table, sort_by=KEY)
    export_csv(tmp_path / "t.parquet", tmp_path / "from_parquet.csv")
    write_csv(tmp_path / "direct.csv", table, sort_by=KEY)
    assert filecmp.cmp(tmp_path / "from_parquet.csv", tmp_path / "direct.csv", shallow=False)
    assert (tmp_path / "direct.csv").read_text().count("\n") == len(table) + 1


# --- demography ---------------------------------------------------------------------------------

def test_foreign_share_uses_the_census_count_not_provisional_posas(table):
    r = row(table, "foreign_share", "052", "2025-01-01")
    assert r["value"] == pytest.approx(12.0)  # 30,000 / 250,000 (POSAS 2025 says 251,000: not used)
    assert (r["numerator"], r["denominator"]) == (30000, 250000)
    assert r["source_ids"] == "istat_29_316_fjan;p2_2025_it_comuni"
    assert r["unit"] == "%" and r["citizenship"] == "stranieri" and r["status"] == "final"
    assert row(table, "foreign_share", "052032", "2025-01-01")["value"] == pytest.approx(10.0)  # 5,000 / 50,000
    # 22_289 at 1 January 2022: 28,000 / 260,000, on the census basis (flagged like the population table)
    r22 = row(table, "foreign_share", "052", "2022-01-01")
    assert r22["value"] == pytest.approx(28000 / 260000 * 100) and r22["census_break"]


def test_foreign_share_at_31_december_2025_is_provisional_and_missing_without_a_total(table):
    assert not has(table, "foreign_share", "052", "2025-12-31")  # no P2 31 December in the fixture
    assert not has(table, "foreign_share", "052032", "2024-01-01")  # no comune total in 2024
    assert row(table, "foreign_residents", "052", "2025-12-31")["status"] == "provisional"


def test_foreign_residents_2019_come_from_the_popstrbil1_balance(table):
    r = row(table, "foreign_residents", "052", "2019-01-01")
    assert r["value"] == 30000 and r["source_ids"] == "istat_29_316_popstrbil1_provinces"
    assert "POPSTRBIL1" in r["note"]


def test_change_flags_the_census_recount(table):
    r = row(table, "foreign_residents_change", "052", "2022-01-01")
    assert r["value"] == pytest.approx((28000 - 29000) / 29000 * 100)
    assert r["census_break"] and "2021-01-01" in r["note"]
    assert not row(table, "foreign_residents_change", "052", "2023-01-01")["census_break"]
    # 31 December 2025 against 1 January 2025: (31,500 - 30,000) / 30,000
    assert row(table, "foreign_residents_change", "052", "2025-12-31")["value"] == pytest.approx(5.0)
    # 2021 has no 2020 stock in the fixture: no change is computed from an older date
    assert not has(table, "foreign_residents_change", "052", "2021-01-01")


def test_flow_rates_use_the_mean_population_of_the_year(table):
    r = row(table, "citizenship_acquisitions_per_1000_foreigners", "052", "2023")
    assert r["value"] == pytest.approx(30.0)  # 900 / ((28,000 + 32,000) / 2) x 1,000
    assert (r["numerator"], r["denominator"]) == (900, 30000)
    assert row(table, "births_per_1000_foreigners", "052", "2023")["value"] == pytest.approx(10.0)  # 300/30,000
    assert row(table, "deaths_per_1000_foreigners", "052", "2023")["value"] == pytest.approx(2.0)
    assert row(table, "natural_balance_rate_foreigners", "052", "2023")["value"] == pytest.approx(8.0)
    # internal + abroad only: (-100 + 2,500) / 30,000 x 1,000
    assert row(table, "migratory_balance_rate_foreigners", "052", "2023")["value"] == pytest.approx(80.0)
    assert not row(table, "citizenship_acquisitions_per_1000_foreigners", "052", "2023")["census_break"]


def test_2021_rates_span_the_census_recount(table):
    r = row(table, "citizenship_acquisitions_per_1000_foreigners", "052", "2021")
    assert r["value"] == pytest.approx(780 / 28500 * 1000)  # mean of 29,000 and 28,000
    assert r["census_break"] and "ricostruzione censuaria" in r["note"]


def test_2025_rates_from_p3_and_p2(table):
    r = row(table, "citizenship_acquisitions_per_1000_foreigners", "052", "2025")
    assert r["value"] == pytest.approx(700 / 30750 * 1000)  # mean of 30,000 and 31,500
    assert r["status"] == "provisional" and r["source_ids"] == "p3_2025_it_comuni"
    assert row(table, "migratory_balance_rate_foreigners", "052", "2025")["value"] == pytest.approx(2000 / 30750 * 1000)
    assert row(table, "birth_rate_total", "052", "2025")["value"] == pytest.approx(1500 / 250250 * 1000)
    assert row(table, "migratory_balance_rate_total", "052", "2025")["value"] == pytest.approx(2000 / 250250 * 1000)
    share = row(table, "foreign_births_share", "052", "2025")
    assert share["value"] == pytest.approx(250 / 1500 * 100)
    assert share["source_ids"] == "p2_2025_it_comuni;p3_2025_it_comuni"
    assert not has(table, "birth_rate_total", "052", "2025-01")  # monthly balance is not an annual rate


def test_a_region_missing_from_popstrbil1_is_summed_from_its_provinces(table):
    r = row(table, "citizenship_acquisitions_per_1000_foreigners", "09", "2023")
    assert r["value"] == pytest.approx((900 + 200 + 50) / (30000 + 20000 + 10000) * 1000)
    assert "regione assente in POPSTRBIL1" in r["note"]


# --- ageing -------------------------------------------------------------------------------------

def test_age_shares_dependency_and_mean_age_with_open_class(table):
    p = "2024-01-01"
    assert row(table, "share_0_14_total", "052", p)["value"] == pytest.approx(10.0)
    assert row(table, "share_15_64_total", "052", p)["value"] == pytest.approx(60.0)
    assert row(table, "share_65_plus_total", "052", p)["value"] == pytest.approx(30.0)
    assert row(table, "old_age_dependency_total", "052", p)["value"] == pytest.approx(50.0)  # 78,000 / 156,000
    # (5.5x26,000 + 30.5x130,000 + 64.5x26,000 + 65.5x52,000 + 100.5x26,000) / 260,000 = 45.4 (45.35 if 100+ = 100)
    assert row(table, "mean_age_total", "052", p)["value"] == pytest.approx(45.4)
    assert row(table, "mean_age_total", "IT", "2019-01-01")["value"] == pytest.approx(35.5)  # (0.5x50 + 70.5x50) / 100


def test_pyramid_shares_are_over_both_sexes(table):
    p = "2024-01-01"
    assert row(table, "age_structure_total", "052", p, age_class="30-34")["value"] == pytest.approx(50.0)
    males = row(table, "age_structure_total", "052", p, age_class="30-34", sex="maschi")
    assert males["value"] == pytest.approx(70000 / 260000 * 100) and males["denominator"] == 260000
    assert row(table, "age_structure_total", "052", p, age_class="100 e oltre")["value"] == pytest.approx(10.0)
    classes = table[(table["indicator_id"] == "age_structure_total") & (table["territory_code"] == "052")
                    & (table["sex"] == "totale")]
    assert classes["value"].sum() == pytest.approx(100.0)


def test_foreign_age_indicators_and_area_sums(table):
    assert row(table, "mean_age_foreigners", "052", "2022-01-01")["value"] == pytest.approx(40.5)
    # area = sums of age sums and persons: (100x40.5... ) -> (40,500 + 20,250 + 35,250) / 2,000 = 48.0, not 50.5
    assert row(table, "mean_age_foreigners", "SAMEDI", "2022-01-01")["value"] == pytest.approx(48.0)
    assert row(table, "share_65_plus_foreigners", "SAMEDI", "2022-01-01")["value"] == pytest.approx(30.0)  # 600/2,000


# --- areas and zones ----------------------------------------------------------------------------

def test_area_rates_sum_numerators_and_denominators_never_average_rates(table):
    r = row(table, "protection_permits_per_1000_residents", "SAMEDI", "2022")
    assert r["value"] == pytest.approx(1450 / 410000 * 1000)  # 3.5366; the mean of the 3 rates is 2.333
    assert r["territory_level"] == "area" and r["territory_name"] == "Area SAMEDI (Arezzo, Siena, Grosseto)"
    assert "051, 052, 053" in r["note"]
    acq = row(table, "citizenship_acquisitions_per_1000_foreigners", "SAMEDI", "2023")
    assert acq["value"] == pytest.approx(1150 / 60000 * 1000)  # 19.17, not (30 + 10 + 5) / 3 = 15
    share = row(table, "foreign_share", "SAMEDI", "2025-01-01")
    assert share["value"] == pytest.approx(60000 / 800000 * 100)


def test_an_area_with_a_missing_province_is_not_computed(table):
    # 051 and 053 have no POPSTRBIL1 row for 2021, so the area has no 2021 rate
    assert has(table, "citizenship_acquisitions_per_1000_foreigners", "052", "2021")
    assert not has(table, "citizenship_acquisitions_per_1000_foreigners", "SAMEDI", "2021")


def test_zona_distretto_rows_cite_the_mapping(table):
    r = row(table, "foreign_share", "052-ZD3", "2025-01-01")
    assert r["value"] == pytest.approx(14000 / 130000 * 100)
    assert "zone_distretto_siena" in r["source_ids"].split(";")
    assert r["territory_level"] == "zona_distretto" and r["territory_name"] == "Senese"


# --- reception and protection -------------------------------------------------------------------

def test_presences_totals_and_rates_per_1000(table):
    tos = row(table, "reception_presences", "09", "2024-12-31")
    assert tos["value"] == 9000 and "hotspot: cella vuota" in tos["note"]  # 8,000 + 1,000, hotspot blank
    assert row(table, "reception_presences", "09", "2024-12-31", category="second_level")["value"] == 1000
    assert not has(table, "reception_presences", "052")  # the cruscotto is regional
    rate = row(table, "reception_presences_per_1000_residents", "09", "2024-12-31")
    assert rate["value"] == pytest.approx(2.5)  # 9,000 / 3,600,000 x 1,000
    assert "presenze al 2024-12-31" in rate["note"] and "residenti al 2024-01-01" in rate["note"]
    italy = row(table, "reception_presences_per_1000_residents", "IT", "2024-12-31")
    assert italy["value"] == pytest.approx((9000 + 6100) / 9300000 * 1000)  # sums, not the mean of 2.5 and 1.07
    assert "hotspot" not in italy["note"]  # Lazio reports its hotspot: the note is not true of Italy
    assert row(table, "reception_presences", "IT", "2024-12-31", category="centri_accoglienza")["value"] == 12000
    # Toscana's blank hotspot cell: no Italy hotspot sum
    assert not ((table["indicator_id"] == "reception_presences") & (table["territory_code"] == "IT")
                & (table["category"] == "hotspot")).any()


def test_presences_use_the_nearest_preceding_1_january(table):
    # no POSAS 2025 in the fixture: the 2025-01-15 report is divided by the 1 January 2024 population
    r = row(table, "reception_presences_per_1000_residents", "09", "2025-01-15")
    assert r["value"] == pytest.approx(9000 / 3600000 * 1000)
    assert "residenti al 2024-01-01" in r["note"] and "presenze al 2025-01-15" in r["note"]


def test_sai_share(table):
    assert row(table, "sai_share_of_reception_presences", "09", "2024-12-31")["value"] == pytest.approx(1000 / 9000 * 100)
    assert row(table, "sai_share_of_reception_presences", "3", "2024-12-31")["value"] == pytest.approx(3000 / 15100 * 100)


def test_contracts_counts_zero_years_and_sums(table):
    assert row(table, "reception_contracts", "052", "2023", category="CAS")["value"] == 15
    zero = row(table, "reception_contracts", "052", "2022")
    assert zero["value"] == 0 and zero["note"] == "nessun lotto nel dataset per l'anno"
    assert row(table, "reception_contracts", "SAMEDI", "2023")["value"] == 27  # 15 + 12 + 0
    area = row(table, "reception_contracts", "SAMEDI", "2023", category="CAS")
    assert area["value"] == 25 and "nessun lotto" not in area["note"]
    assert row(table, "reception_contracts", "3", "2023")["value"] == 27  # 09 (27) + 12 (0)
    it = row(table, "reception_contracts", "IT", "2023")
    assert it["value"] == 32 and "4 senza provincia" in it["note"]
    assert it["unit"] == "lotti" and it["source_ids"].split(";")[0] == "anac_accoglienza_2023_01"
    assert len(it["source_ids"].split(";")) == 12


def test_protection_permits_counts_rates_and_countries(table):
    assert row(table, "protection_permits", "052", "2022")["value"] == 1300
    assert row(table, "protection_permits", "052", "2022", sex="maschi")["value"] == 800
    rate = row(table, "protection_permits_per_1000_residents", "052", "2022")
    assert rate["value"] == pytest.approx(5.0)  # 1,300 / ((260,000 + 260,000) / 2) x 1,000
    assert "1° gennaio 2022 + 1° gennaio 2023" in rate["note"]
    pk = row(table, "protection_permits_by_country", "052", "2022", category="PK")
    assert pk["value"] == pytest.approx(600 / 1300 * 100) and pk["note"] == "Pakistan"
    assert row(table, "protection_permits_by_country", "052", "2022", category="US")["value"] == 0


def test_old_scheme_province_is_counted_but_never_rated_or_summed(table):
    r = row(table, "protection_permits", "058", "2022")
    assert r["value"] == 2000 and "confini diversi" in r["note"]
    assert not has(table, "protection_permits_per_1000_residents", "058")
    assert not has(table, "protection_permits", "12")  # its region is not rebuilt from it


# --- labour and education -----------------------------------------------------------------------

def test_labour_keeps_its_true_level_and_label(table):
    r = row(table, "activity_rate_foreigners", "3", "2022", age_class="15-64")
    assert r["value"] == pytest.approx(69.9) and r["territory_name"] == "Italia centrale"
    assert r["territory_level"] == "ripartizione" and pd.isna(r["numerator"])
    assert "non è la Toscana" in r["note"]
    labour = table[table["theme"] == "lavoro"]
    assert not labour["territory_name"].isin(["Toscana", "Siena"]).any()
    assert set(labour["age_class"]) == {"15-64"}  # the catalogue defines 15-64
    assert row(table, "unemployment_rate_foreigners", "3", "2022", age_class="15-64", sex="femmine",
               category="laurea")["value"] == pytest.approx(9.5)


def test_education_is_italy_only(table):
    r = row(table, "education_tertiary_foreigners", "IT", "2022", age_class="15-64")
    assert r["value"] == pytest.approx(12.3) and r["citizenship"] == "stranieri"
    assert row(table, "education_lower_secondary_or_less_italians", "IT", "2022", age_class="15-64")["citizenship"] == "italiani"
    assert set(table.loc[table["theme"] == "educazione", "territory_level"]) == {"italia"}


# --- benchmarks ---------------------------------------------------------------------------------

def test_straight_path_formula():
    # base + (proj - base) x (y - 2019) / (2030 - 2019)
    assert straight_path(25.9, 28.5, 2019, 2030, 2019) == pytest.approx(25.9)
    assert straight_path(25.9, 28.5, 2019, 2030, 2030) == pytest.approx(28.5)
    assert straight_path(25.9, 28.5, 2019, 2030, 2024) == pytest.approx(25.9 + 2.6 * 5 / 11)
    assert straight_path(47.1, 48.7, 2019, 2030, np.array([2024, 2025])) == pytest.approx(
        [47.1 + 1.6 * 5 / 11, 47.1 + 1.6 * 6 / 11])
    assert path_benchmark_id("siena2030_share_65_plus_siena_2019", 2019, 2030) == \
        "siena2030_share_65_plus_siena_path_2019_2030"


def test_siena2030_baseline_join(table):
    r = row(table, "share_65_plus_total", "052", "2024-01-01")
    assert r["benchmark_id"] == "siena2030_share_65_plus_siena_2019"
    assert r["benchmark_value"] == pytest.approx(25.9) and r["gap"] == pytest.approx(30.0 - 25.9)
    assert "«Siena» assunto come provincia 052" in r["note"]
    dep = row(table, "old_age_dependency_total", "052", "2024-01-01")
    assert dep["benchmark_value"] == pytest.approx(43.0) and dep["gap"] == pytest.approx(7.0)
    it = row(table, "mean_age_total", "IT", "2019-01-01")
    assert it["benchmark_id"] == "siena2030_mean_age_italia_2019" and it["gap"] == pytest.approx(35.5 - 45.2)


def test_siena2030_path_rows(table):
    r = row(table, "share_65_plus_total__siena2030_path", "052", "2024-01-01")
    path = 25.9 + (28.5 - 25.9) * (2024 - 2019) / (2030 - 2019)
    assert r["value"] == pytest.approx(30.0) and r["benchmark_value"] == pytest.approx(path)
    assert r["gap"] == pytest.approx(30.0 - path)
    assert r["benchmark_id"] == "siena2030_share_65_plus_siena_path_2019_2030"
    mean = row(table, "mean_age_total__siena2030_path", "052", "2024-01-01")
    assert mean["benchmark_value"] == pytest.approx(47.1 + 1.6 * 5 / 11)
    assert not has(table, "mean_age_total__siena2030_path", "IT")  # no projection for Italy


def test_siena2030_readable_table(outputs):
    b = outputs["siena2030"]
    base = b[(b["benchmark_id"] == "siena2030_share_65_plus_siena_2019") & (b["period"] == "2024-01-01")]
    assert len(base) == 1 and base["gap"].iloc[0] == pytest.approx(4.1)
    assert base["territory_as_stated"].iloc[0] == "Siena" and base["source_url"].iloc[0].startswith("http")
    assert set(b["kind"]) >= {"baseline", "path", "projection"}
    proj = b[b["kind"] == "projection"]
    assert proj["period"].isna().all() and proj["source_url"].notna().all()


def test_samedi_side_by_side(table, outputs):
    r = row(table, "protection_permits_per_1000_residents", "052", "2022")
    assert r["benchmark_id"] == "samedi"
    assert r["benchmark_value"] == pytest.approx(1450 / 410000 * 1000)
    assert r["gap"] == pytest.approx(5.0 - 1450 / 410000 * 1000)
    count = row(table, "protection_permits", "052", "2022")
    assert count["benchmark_value"] == 1450 and pd.isna(count["gap"])  # no gap between two counts
    s = outputs["samedi"]
    line = s[(s["indicator_id"] == "protection_permits_per_1000_residents") & (s["period"] == "2022")]
    assert line[["value_SAMEDI", "value_051", "value_052", "value_053"]].iloc[0].tolist() == pytest.approx(
        [1450 / 410000 * 1000, 1.0, 5.0, 1.0])
    gaps = s[s["catalogue_status"] == "gap"]
    assert set(gaps["indicator_id"]) == {"mental_health_addiction_users_foreigners", "health_service_use_foreigners",
                                         "births_mother_foreign_share"}


# --- selection for one province, coverage -------------------------------------------------------

def test_rows_for_a_province_keep_their_levels(table, root):
    sel = indicators_for_province(table, "052", CFG, root=root, with_role=True)
    roles = sel.groupby("role")["territory_code"].agg(set).to_dict()
    assert roles["territorio"] == {"052"}
    assert roles["comune"] <= {"052001", "052032"} and "052032" in roles["comune"]
    assert roles["zona_distretto"] == {"052-ZD3"}
    assert {"051", "053", "SAMEDI", "09", "IT"} <= roles["confronto"]
    ctx = sel[sel["role"] == "contesto"]
    assert set(ctx["territory_code"]) == {"3"} and set(ctx["theme"]) == {"lavoro"}
    assert set(ctx["territory_name"]) == {"Italia centrale"}
    assert "ITCD" not in set(sel["territory_code"])  # the North is not Siena's context
    assert "058" not in set(sel["territory_code"])
    # Italy's labour and education rows come in as comparators, at level italia
    assert {"lavoro", "educazione"} <= set(sel.loc[sel["territory_code"] == "IT", "theme"])


def test_rows_for_a_province_without_zone_mapping(table, root):
    cfg = {**CFG, "comparators": {}}
    sel = indicators_for_province(table, "053", cfg, root=root)
    assert not (sel["territory_level"] == "zona_distretto").any()
    assert set(sel["territory_code"]) >= {"053", "09", "IT"}


def test_coverage_lists_missing_periods_with_reasons(outputs):
    cov = outputs["coverage"]
    share = cov[(cov["indicator_id"] == "foreign_share") & (cov["territory_level"] == "comune")].iloc[0]
    assert "2024-01-01" in share["periods_missing"] and "POSAS_2024_it_Comuni" in share["missing_reason"]
    zona = cov[(cov["indicator_id"] == "foreign_residents") & (cov["territory_level"] == "zona_distretto")].iloc[0]
    assert "052" in zona["note"] and "non esiste" in zona["note"]
    gap = cov[(cov["indicator_id"] == "households_rented_foreigners_share")]
    assert (gap["status"] == "gap").all() and gap["would_need"].notna().all()
    assert set(cov["indicator_id"]) == set(catalogue_meta(read_catalogue(), load_registry().reset_index(drop=True)))


def test_missing_periods_public_helper(table, root):
    from insiena.indicators import missing_periods

    miss = missing_periods(table, zone_distretto=ZONES, root=root)
    flows = miss[(miss["indicator_id"] == "births_per_1000_foreigners") & (miss["territory_level"] == "provincia")]
    # the catalogue's own gap first, then what the fixture lacks (it has 2019, 2021, 2023 only)
    assert flows["periods_missing"].iloc[0] == "2024;2020;2022"
    assert "2020: atteso dal catalogo ma non calcolato" in flows["missing_reason"].iloc[0]
    assert (miss["periods_missing"].notna() | (miss["status"] == "gap")).all()
