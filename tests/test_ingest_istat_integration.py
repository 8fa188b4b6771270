"""The ISTAT tables built from the mirror: figures checked by hand in the raw files (MANIFEST-istat.md)
and relations that must hold across files."""

from __future__ import annotations

import pandas as pd
import pytest

import insiena
from conftest import copy_project, run_snakemake

pytestmark = pytest.mark.integration
YEARS = ["2020", "2021", "2022", "2023", "2024", "2025"]


@pytest.fixture(scope="module")
def pop(built):
    return insiena.load("population", root=built)


@pytest.fixture(scope="module")
def bal(built):
    return insiena.load("demographic_balance", root=built)


@pytest.fixture(scope="module")
def terr(built):
    return insiena.load("territories", root=built)


@pytest.fixture(scope="module")
def checks(built):
    return pd.read_csv(built / "data/processed/checks/consistency.csv", dtype=str, keep_default_na=False)


def series(pop, source, code, sex="totale", **filters):
    df = pop[(pop["source_id"] == source) & (pop["territory_code"] == code) & (pop["sex"] == sex) & pop["age"].isna()]
    for col, value in filters.items():
        df = df[df[col] == value]
    return df.set_index("date")["value"].astype(int).to_dict()


def test_territories(terr):
    com = terr[terr["territory_level"] == "comune"]
    assert com["current"].sum() == 7896
    current = com[com["current"]]
    assert (current["province_code"] == "052").sum() == 35 and (current["province_code"] == "053").sum() == 28
    assert (current["region_code"] == "09").sum() == 273
    assert (terr["territory_level"] == "provincia").sum() == 107 and (terr["territory_level"] == "regione").sum() == 20
    siena = terr.set_index("territory_code").loc["052032"]
    assert (siena["territory_name"], siena["province_name"], siena["region_name"], siena["ripartizione_name"]) == (
        "Siena", "Siena", "Toscana", "Centro")
    assert terr.set_index("territory_code").loc["052", "itter107"] == "ITE19"
    assert "None" in set(current["territory_name"])  # comune 001168, not a missing value
    zones = current[current["province_code"] == "052"].groupby("zona_distretto_name").size().to_dict()
    assert zones == {"Senese": 15, "Amiata Val d'Orcia - Valdichiana Senese": 15, "Alta Val d'Elsa": 5}
    assert current.loc[current["province_code"] != "052", "zona_distretto_code"].isna().all()
    former = com[~com["current"]].set_index("territory_code")
    assert former.loc["041033", "territory_name"] == "Montecopiolo" and former.loc["041033", "province_code"] == "041"


def test_foreign_residents_sdmx_fjan(pop):
    src = "istat_29_316_fjan"
    assert list(series(pop, src, "052").values()) == [29011, 29531, 28310, 28559, 29585, 30217]
    assert list(series(pop, src, "052032").values()) == [5241, 6016, 5145, 5135, 5236, 5524]
    assert list(series(pop, src, "053").values()) == [22239, 22177, 21820, 22293, 22539, 22986]
    assert list(series(pop, src, "09").values()) == [398111, 425931, 406508, 415190, 424066, 433381]
    assert list(series(pop, src, "IT").values()) == [5039637, 5171894, 5030716, 5141341, 5253658, 5371251]
    fjan = pop[(pop["source_id"] == src) & (pop["territory_level"] == "comune")]
    for year in YEARS:
        at = fjan[(fjan["date"] == f"{year}-01-01") & fjan["territory_code"].str.startswith("052")]
        assert len(at) == 35 and at["value"].sum() == series(pop, src, "052")[f"{year}-01-01"]


def test_population_sdmx_22_289(pop):
    src = "istat_22_289"
    assert series(pop, src, "052") == {"2022-01-01": 261209, "2023-01-01": 260557}
    assert series(pop, src, "053") == {"2022-01-01": 217009, "2023-01-01": 216633}
    assert series(pop, src, "IT") == {"2022-01-01": 59030133, "2023-01-01": 58997201}
    assert series(pop, src, "052032") == {"2022-01-01": 53062, "2023-01-01": 52974}
    assert series(pop, src, "052022") == {"2022-01-01": 28576, "2023-01-01": 28363}


def test_balance_stocks_p2_p3(pop):
    p2, p3 = "p2_2025_it_comuni", "p3_2025_it_comuni"
    for code, start, end in (("052", 259460, 259502), ("053", 215005, 214863), ("09", 3657716, 3659222),
                             ("IT", 58943464, 58942828), ("052032", 52990, 53180), ("052022", 28062, 28048)):
        assert series(pop, p2, code) == {"2025-01-01": start, "2025-12-31": end}, code
    for code, start, end in (("052", 30217, 31560), ("053", 22986, 23740), ("09", 433381, 448484),
                             ("IT", 5371251, 5559527), ("052032", 5524, 5852), ("052022", 2909, 2978)):
        assert series(pop, p3, code) == {"2025-01-01": start, "2025-12-31": end}, code
    rel = pop[(pop["source_id"] == p2) & (pop["territory_code"] == "052")].set_index("date")
    assert rel.loc["2025-01-01", "release"].unique().tolist() == ["census_count"]
    assert rel.loc["2025-01-01", "status"].unique().tolist() == ["final"]
    assert rel.loc["2025-12-31", "status"].unique().tolist() == ["provisional"]


def test_two_figures_for_1_january_2025_are_both_kept_and_labelled(pop):
    at = pop[(pop["territory_code"] == "052") & (pop["date"] == "2025-01-01") & (pop["sex"] == "totale")
             & pop["age"].isna() & (pop["citizenship"] == "totale")]
    labelled = {(r.release, r.status): r.value for r in at.itertuples()}
    assert labelled == {("posas", "provisional"): 259826, ("census_count", "final"): 259460}


def test_posas(pop):
    assert series(pop, "posas_2024_it_province", "052") == {"2024-01-01": 259992}
    assert series(pop, "posas_2024_it_province", "053") == {"2024-01-01": 215802}
    assert series(pop, "posas_2025_it_province", "053") == {"2025-01-01": 215328}
    toscana = {y: series(pop, f"posas_{y}_it_regioni", "09")[f"{y}-01-01"] for y in range(2019, 2026)}
    assert toscana == {2019: 3701343, 2020: 3692555, 2021: 3692865, 2022: 3663191, 2023: 3661981,
                       2024: 3660530, 2025: 3660834}
    italy = {y: series(pop, f"popolazione_residente_{y}", "IT")[f"{y}-01-01"] for y in range(2019, 2025)}
    assert italy == {2019: 59816673, 2020: 59641488, 2021: 59236213, 2022: 59030133, 2023: 58997201,
                     2024: 58971230}
    # No Italia file for 2025: the sum of the regions, marked derived.
    it25 = pop[(pop["source_id"] == "posas_2025_it_regioni") & (pop["territory_code"] == "IT") & pop["age"].isna()
               & (pop["sex"] == "totale")]
    assert it25["value"].tolist() == [58934177] and it25["derived"].all()
    siena = pop[(pop["source_id"] == "posas_2024_it_province") & (pop["territory_code"] == "052")
                & (pop["sex"] == "totale")]
    assert siena["age"].notna().sum() == 101 and siena.loc[siena["age"].notna(), "value"].sum() == 259992


def test_strasa(pop):
    src = "strasa_2022_en_provinces"
    assert series(pop, src, "052", "maschi") == {"2022-01-01": 13151}
    assert series(pop, src, "052", "femmine") == {"2022-01-01": 15159}
    assert series(pop, src, "053", "maschi") == {"2022-01-01": 10669}
    assert series(pop, src, "IT") == {"2022-01-01": 5030716}


def test_census_break_flag(pop):
    assert pop.loc[pop["date"] == "2022-01-01", "census_break"].all()
    assert not pop.loc[pop["date"] != "2022-01-01", "census_break"].any()


def test_monthly_balance_and_p3_flows(bal):
    siena = bal[(bal["source_id"] == "bilancio_demografico_mensile") & (bal["territory_code"] == "052")
                & (bal["sex"] == "totale")].set_index("measure")["value"].astype(int).to_dict()
    assert siena == {"population_start": 261209, "births": 143, "deaths": 353, "natural_balance": -210,
                     "internal_immigration": 660, "internal_emigration": 597, "internal_net_migration": 63,
                     "foreign_immigration": 215, "foreign_emigration": 78, "foreign_net_migration": 137,
                     "territorial_changes": 0, "population_end": 261199}
    monthly = bal[bal["source_id"] == "bilancio_demografico_mensile"]
    assert monthly["period_inferred"].all() and set(monthly["period"]) == {"2022-01"}
    p3 = bal[(bal["source_id"] == "p3_2025_it_comuni") & (bal["sex"] == "totale") & (bal["period"] == "2025")]
    acq = p3[p3["measure"] == "citizenship_acquisitions"].set_index("territory_code")["value"]
    com = p3[(p3["measure"] == "citizenship_acquisitions") & (p3["territory_level"] == "comune")]
    assert acq["052"] == com.loc[com["territory_code"].str.startswith("052"), "value"].sum()
    assert not p3["period_inferred"].any()


def test_consistency_report(checks):
    assert set(checks["status"]) <= {"ok", "different_basis", "census_break"}  # no mismatch
    base = checks["check"].str.split("[").str[0]
    for name in ("foreign_residents_fjan_vs_p3_census", "population_22_289_vs_posas",
                 "foreign_residents_strasa_vs_fjan", "italy_by_age_vs_sum_of_posas_regions",
                 "population_22_289_vs_monthly_balance_start", "fjan_sum_of_comune_vs_provincia",
                 "posas_sum_of_provincia_vs_regione"):
        assert (base == name).any(), name
    row = checks[(checks["check"] == "population_posas_provisional_vs_p2_census[sex=totale]")
                 & (checks["territory_code"] == "052")].iloc[0]
    assert (row["value_a"], row["value_b"], row["difference"], row["status"]) == (
        "259826", "259460", "366", "different_basis")
    brk = checks[(checks["check"] == "census_break_fjan") & (checks["territory_code"] == "052")].iloc[0]
    assert (brk["value_a"], brk["value_b"], brk["date"]) == ("29531", "28310", "2022-01-01")
    fjan_p3 = checks[checks["check"] == "foreign_residents_fjan_vs_p3_census"]
    assert len(fjan_p3[fjan_p3["territory_code"].str.fullmatch(r"\d{6}")]) == 7896


def test_other_provinces_need_no_code_change(tmp_path):
    """The same ingest for Grosseto, Milano and Napoli (one scratch copy, rerun per config)."""
    project = copy_project(tmp_path / "p")
    for province in ("053", "015", "063"):
        run_snakemake(project, "data/processed/population.parquet", "--config", f"provinces=['{province}']")
        terr = insiena.load("territories", root=project)
        pop = insiena.load("population", root=project, source_id="istat_29_316_fjan", territory_level="comune")
        expected = set(terr.loc[terr["current"] & (terr["province_code"] == province)
                                & (terr["territory_level"] == "comune"), "territory_code"])
        assert expected
        for date, group in pop.groupby("date"):
            assert expected <= set(group["territory_code"]), (province, date)
        log = (project / "logs/ingest_istat/ingest_istat.log").read_text()
        assert "ERROR" not in log
