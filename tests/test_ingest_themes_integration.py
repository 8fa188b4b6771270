"""Theme tables built by the real pipeline on the mirror: values checked by hand in the raw files
(MANIFEST-themes.md)."""

from __future__ import annotations

import pandas as pd
import pytest

import insiena

pytestmark = pytest.mark.integration


def _series(df: pd.DataFrame, column: str = "year") -> list:
    return df.sort_values(column)["value"].tolist()


def test_foreign_balance_siena_pinned_values(built):
    df = insiena.load("foreign_balance", root=built, territory_code="052", sex="totale")
    assert set(df["territory_name"]) == {"Siena"} and set(df["territory_level"]) == {"provincia"}
    assert _series(df[df["data_type"].eq("FLBIRTH")]) == [331, 259, 315, 267, 257]
    assert _series(df[df["measure"].eq("citizenship_acquisitions")]) == [1228, 1594, 777, 1655, 884]
    assert _series(df[df["measure"].eq("population_start")]) == [29115, 29011, 29531, 28310, 28559]
    assert _series(df[df["measure"].eq("deaths")]) == [55, 60, 59, 66, 62]
    assert _series(df[df["measure"].eq("foreign_in")]) == [2029, 1474, 1762, 2510, 2969]
    scheme = dict(zip(df["year"], df["scheme"]))
    assert scheme == {2019: "2019-2021", 2020: "2019-2021", 2021: "2019-2021",
                      2022: "2022-2023 census-based", 2023: "2022-2023 census-based"}


def test_foreign_balance_levels_and_national_births(built):
    df = insiena.load("foreign_balance", root=built)
    levels = df.drop_duplicates("territory_code")["territory_level"].value_counts().to_dict()
    # 107 provinces; 19 regions (the file gives Trentino-Alto Adige only as its two autonomous
    # provinces); 5 ripartizioni; Italy.
    assert levels == {"provincia": 107, "regione": 19, "ripartizione": 5, "italia": 1}
    it = df[df["territory_code"].eq("IT") & df["sex"].eq("totale") & df["measure"].eq("births")]
    assert it.set_index("year")["value"][[2019, 2023]].tolist() == [62918, 51447]
    grosseto = df[df["territory_code"].eq("053") & df["sex"].eq("totale") & df["measure"].eq("births")]
    assert _series(grosseto) == [239, 260, 209, 219, 187]


def test_fjan_check_is_all_equal(built):
    check = pd.read_csv(built / "data/processed/checks/foreign_balance_vs_fjan.csv", dtype={"territory_code": str})
    assert list(check.columns) == ["check", "territory_code", "date", "source_a", "value_a", "source_b", "value_b",
                                   "difference", "status"]
    assert set(check["status"]) == {"ok"} and (check["difference"] == 0).all()
    assert sorted(check["date"].unique()) == ["2020-01-01", "2021-01-01", "2022-01-01", "2023-01-01"]
    siena = check[check["territory_code"].eq("052")].sort_values("date")
    assert siena["value_b"].tolist() == [29011, 29531, 28310, 28559]
    assert len(check) == 132 * 4


def test_protection_permits_pinned_values(built):
    df = insiena.load("protection_permits", root=built)
    siena = df[df["territory_code"].eq("052")]
    world = siena[siena["country_code"].eq("WORLD")]
    assert _series(world[world["sex"].eq("totale")]) == [98, 186, 361, 1172, 615]
    assert _series(world[world["sex"].eq("maschi")]) == [64, 170, 310, 704, 450]
    assert _series(world[world["sex"].eq("femmine")]) == [34, 16, 51, 468, 165]
    pk = siena[siena["country_code"].eq("PK") & siena["sex"].eq("totale")]
    assert _series(pk) == [38, 156, 237, 436, 198] and set(pk["country_name"]) == {"Pakistan"}
    ua = siena[siena["country_code"].eq("UA") & siena["sex"].eq("totale")].set_index("year")["value"]
    assert (ua[2022], ua[2023]) == (499, 193)
    total = df[df["country_code"].eq("WORLD") & df["sex"].eq("totale")].set_index(["territory_code", "year"])["value"]
    assert total[("09", 2019)] == 2432 and total[("09", 2023)] == 6312
    assert total[("IT", 2019)] == 27566 and total[("IT", 2022)] == 202570 and total[("IT", 2023)] == 106237
    # Totals come from WORLD: the listed countries of Siena 2019 add up to 57 only.
    listed = siena[~siena["is_total"] & siena["sex"].eq("totale") & siena["year"].eq(2019)]["value"].sum()
    assert listed == 57


def test_protection_permits_vintage_sparse_zeros_and_old_provinces(built):
    df = insiena.load("protection_permits", root=built)
    assert set(df["territory_vintage"]) == {"103 province, vecchia delimitazione"}
    provinces = set(df.loc[df["territory_level"].eq("provincia"), "territory_code"])
    assert len(provinces) == 103 and not provinces & {"108", "109", "110", "111"}
    flagged = set(df.loc[~df["comparable_to_current_province"], "territory_code"])
    assert flagged == {"015", "044", "071", "072", "090", "091", "092", "095"}
    assert df.loc[df["territory_code"].eq("052"), "comparable_to_current_province"].all()
    # Siena 2019, Pakistan, females: absent from the file, so 0 made explicit.
    row = df[df["territory_code"].eq("052") & df["year"].eq(2019) & df["country_code"].eq("PK")
             & df["sex"].eq("femmine")]
    assert row["value"].tolist() == [0] and row["zero_filled"].tolist() == [True]
    # Forli-Cesena has no row at all for 2019 (not even WORLD): left absent.
    assert sorted(df.loc[df["territory_code"].eq("040"), "year"].unique()) == [2020, 2021, 2022, 2023]
    assert len(df) == 129 * 5 * 20 * 3 - 20 * 3


def test_labour_rates_pinned_values_and_central_italy(built):
    df = insiena.load("labour_rates", root=built)
    assert set(df["territory_level"]) == {"italia", "ripartizione", "macroarea"}
    assert "Toscana" not in set(df["territory_name"]) and "Siena" not in set(df["territory_name"])
    assert set(df.loc[df["territory_code"].eq("3"), "territory_name"]) == {"Italia centrale"}
    base = df[df["age_class"].eq("15-64") & df["sex"].eq("totale") & df["education"].eq("totale")]
    v = base.set_index(["territory_code", "year", "indicator", "citizenship"])["value"]
    assert v[("3", 2022, "activity_rate", "italiani")] == pytest.approx(69.64, abs=0.005)
    assert v[("3", 2022, "activity_rate", "stranieri")] == pytest.approx(69.93, abs=0.005)
    assert v[("3", 2022, "unemployment_rate", "stranieri")] == pytest.approx(13.06, abs=0.005)
    assert v[("IT", 2022, "unemployment_rate", "stranieri")] == pytest.approx(12.04, abs=0.005)
    assert v[("IT", 2022, "unemployment_rate", "italiani")] == pytest.approx(7.76, abs=0.005)
    assert v[("3", 2023, "unemployment_rate", "stranieri")] == pytest.approx(11.95, abs=0.005)
    assert v[("3", 2022, "employment_rate", "stranieri")] == pytest.approx(60.79, abs=0.005)
    assert v[("IT", 2023, "employment_rate", "stranieri")] == pytest.approx(61.58, abs=0.005)
    assert sorted(df["year"].unique()) == [2018, 2019, 2020, 2021, 2022, 2023]


def test_education_levels_pinned_values(built):
    df = insiena.load("education_levels", root=built, year=2023, age_class="15-64")
    v = df.set_index(["education_level", "citizenship"])["value"]
    assert v[("licenza_media", "stranieri")] == pytest.approx(48.9)
    assert v[("licenza_media", "italiani")] == pytest.approx(35.6)
    assert v[("diploma", "stranieri")] == pytest.approx(40.1)
    assert v[("laurea", "stranieri")] == pytest.approx(11.1)
    assert v[("laurea", "italiani")] == pytest.approx(20.1)
    full = insiena.load("education_levels", root=built)
    assert sorted(full["year"].unique()) == [2018, 2019, 2020, 2021, 2022, 2023]
    assert len(full) == 6 * 3 * 6 * 2


def test_theme_rule_has_log_and_benchmark(built):
    assert (built / "logs/ingest_themes/themes.log").is_file()
    assert (built / "benchmarks/ingest_themes/themes.tsv").is_file()
