"""The indicators stage on the real mirror: values checked by hand in the raw files.

Raw values (grep in ../shared/data/raw):
- istat/sdmx/istat_29_316_FJAN.csv: ITE19 FJAN 2025-01-01 = 30,217; comune 052032 = 5,524.
- istat/demo_bilancio/P2_2025_it_Comuni.csv: "Popolazione censita al 1° gennaio - Totale", sum of the
  comuni 052xxx = 259,460; Siena 052032 = 52,990.
- themes/salute/istat_29_316_POPSTRBIL1_provinces.csv: ITE19, SEX 9, 2023: ACQCITIZ 884, FJAN 28,559,
  FDEC_CP 29,585.
- themes/cittadinanza/DCIS_PERMSOGG1_12012025111539693.csv: ITE19 2022 WORLD total 1,172 (males 704,
  females 468).
- istat/sdmx/istat_22_289.csv: ITE19 JAN 2022-01-01 = 261,209, 2023-01-01 = 260,557.
- reception/ondata_cruscotto/accoglienza.csv: Toscana 2024-12-31: centri 8,341, SAI 1,857.
"""

from __future__ import annotations

import pandas as pd
import pytest

import insiena
from insiena.catalogue import read_catalogue
from insiena.config import load_config
from insiena.indicators import KEY, indicators_for_province
from insiena.indicators.core import catalogue_meta, catalogue_level
from insiena.registry import load_registry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def table(built) -> pd.DataFrame:
    return insiena.load("indicators", root=built)


def value(table, indicator_id, code, period, **breakdown):
    want = {"sex": "totale", "age_class": "totale", "category": "totale", **breakdown}
    m = (table["indicator_id"] == indicator_id) & (table["territory_code"] == code) & (table["period"] == period)
    for col, val in want.items():
        m &= table[col] == val
    rows = table[m]
    assert len(rows) == 1, f"{indicator_id} {code} {period}: {len(rows)} rows"
    return rows.iloc[0]


def test_outputs_exist_and_key_is_unique(built, table):
    processed = built / "data" / "processed"
    for name in ("indicators.csv", "indicators_coverage.csv", "benchmark_siena2030.csv", "benchmark_samedi.csv"):
        assert (processed / name).is_file(), name
    assert not table.duplicated(KEY).any()
    assert table["territory_level"].value_counts()["comune"] > 7800 * 4  # every comune of Italy


def test_foreign_share_siena_2025(table):
    r = value(table, "foreign_share", "052", "2025-01-01")
    assert (r["numerator"], r["denominator"]) == (30217, 259460)
    assert r["value"] == pytest.approx(30217 / 259460 * 100)  # 11.646 %
    c = value(table, "foreign_share", "052032", "2025-01-01")
    assert c["value"] == pytest.approx(5524 / 52990 * 100) and c["territory_level"] == "comune"


def test_acquisitions_per_1000_foreigners_siena_2023(table):
    r = value(table, "citizenship_acquisitions_per_1000_foreigners", "052", "2023")
    assert r["numerator"] == 884 and r["denominator"] == pytest.approx((28559 + 29585) / 2)
    assert r["value"] == pytest.approx(884 / ((28559 + 29585) / 2) * 1000)  # 30.41
    series = table[(table["indicator_id"] == "citizenship_acquisitions_per_1000_foreigners")
                   & (table["territory_code"] == "052")]
    assert sorted(series["period"]) == ["2019", "2020", "2021", "2022", "2023", "2025"]  # 2024: no balance
    assert series.set_index("period")["census_break"].to_dict()["2021"]


def test_protection_permits_siena_2022(table):
    assert value(table, "protection_permits", "052", "2022")["value"] == 1172
    assert value(table, "protection_permits", "052", "2022", sex="maschi")["value"] == 704
    rate = value(table, "protection_permits_per_1000_residents", "052", "2022")
    # mean population of 2022 (catalogue rule): (261,209 + 260,557) / 2 = 260,883 -> 4.492 per 1,000
    assert rate["denominator"] == pytest.approx((261209 + 260557) / 2)
    assert rate["value"] == pytest.approx(1172 / 260883 * 1000)
    ua = value(table, "protection_permits_by_country", "052", "2022", category="UA")
    assert ua["numerator"] == 499 and ua["value"] == pytest.approx(499 / 1172 * 100)


def test_toscana_sai_presences(table):
    assert value(table, "reception_presences", "09", "2024-12-31", category="second_level")["value"] == 1857
    assert value(table, "reception_presences", "09", "2024-12-31", category="centri_accoglienza")["value"] == 8341
    assert value(table, "reception_presences", "09", "2024-12-31")["value"] == 8341 + 1857
    assert not ((table["indicator_id"] == "reception_presences") & (table["territory_level"] == "provincia")).any()


def test_italy_ageing_matches_the_catalogue_check(table):
    assert value(table, "mean_age_total", "IT", "2019-01-01")["value"] == pytest.approx(45.45, abs=0.005)
    share = value(table, "share_65_plus_total", "IT", "2019-01-01")
    assert share["value"] == pytest.approx(22.89, abs=0.005) and share["benchmark_value"] == pytest.approx(22.6)


def test_siena2030_path_for_the_province(table):
    r = value(table, "share_65_plus_total__siena2030_path", "052", "2024-01-01")
    assert r["benchmark_value"] == pytest.approx(25.9 + 2.6 * 5 / 11)
    assert r["gap"] == pytest.approx(r["value"] - r["benchmark_value"])


def test_samedi_area_is_the_sum_of_its_provinces(table):
    for period in ("2019-01-01", "2025-01-01"):
        parts = sum(value(table, "foreign_residents", p, period)["value"] for p in ("051", "052", "053"))
        assert value(table, "foreign_residents", "SAMEDI", period)["value"] == parts


def test_coverage_matches_the_catalogue(built):
    cov = pd.read_csv(built / "data" / "processed" / "indicators_coverage.csv", dtype=str)
    computed = cov[cov["status"] == "computed"]
    assert computed["periods_not_in_catalogue"].isna().all()
    assert not computed["missing_reason"].fillna("").str.contains("atteso dal catalogo").any()
    assert (computed["n_rows"].astype(int) > 0).all()


def test_every_row_cites_only_sources_the_catalogue_allows(table, built):
    meta = catalogue_meta(read_catalogue(root=built), load_registry(root=built).reset_index(drop=True))
    pairs = table[~table["indicator_id"].str.endswith("__siena2030_path")][
        ["indicator_id", "territory_level", "source_ids"]].drop_duplicates()
    for r in pairs.itertuples(index=False):
        level = catalogue_level(meta, r.indicator_id, r.territory_level)
        allowed = meta[r.indicator_id]["levels"][level]["sources"]
        assert set(r.source_ids.split(";")) <= allowed, (r.indicator_id, r.territory_level, r.source_ids)


def test_true_levels_for_labour_and_zones(table, built):
    labour = table[table["theme"] == "lavoro"]
    assert not labour["territory_name"].isin(["Toscana", "Siena"]).any()
    assert set(labour.loc[labour["territory_code"] == "3", "territory_name"]) == {"Italia centrale"}
    zones = table.loc[table["territory_level"] == "zona_distretto", "territory_code"]
    assert zones.str.startswith("052-ZD").all() and zones.nunique() == 3
    cfg = load_config(root=built)
    siena = indicators_for_province(table, "052", cfg, root=built, with_role=True)
    assert set(siena.loc[siena["role"] == "contesto", "territory_name"]) == {"Italia centrale"}
    grosseto = indicators_for_province(table, "053", {**cfg, "comparators": {}}, root=built)
    assert not (grosseto["territory_level"] == "zona_distretto").any()
    assert (grosseto.loc[grosseto["territory_level"] == "comune", "territory_code"].str[:3] == "053").all()
