"""Territorial hierarchy, zone distretto codes, derived sums and the every-comune-present rule."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from insiena.errors import InputRejected
from insiena.schemas.istat import Territories
from insiena.territories import (aggregate, build_territories, check_comuni_present, comune_parents, crosswalk,
                                 letter_codes, parent_codes, zone_assignments)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def scratch_root(tmp_path, monkeypatch):
    monkeypatch.setenv("INSIENA_ROOT", str(tmp_path))


@pytest.fixture(scope="module")
def cw():
    return crosswalk(ROOT / "config" / "territory_crosswalk.csv")


def comuni_frame(rows):
    return pd.DataFrame(rows, columns=["territory_code", "territory_name", "current", "source_id"]).astype(
        {"territory_code": "string", "territory_name": "string", "current": "boolean", "source_id": "string"})


@pytest.fixture
def territories(cw):
    comuni = comuni_frame([("052032", "Siena", True, "p2"), ("052022", "Poggibonsi", True, "p2"),
                           ("052001", "Abbadia San Salvatore", True, "p2"), ("053011", "Grosseto", True, "p2"),
                           ("041033", "Montecopiolo", False, "itter"), ("099030", "Montecopiolo", True, "p2")])
    mapping = pd.DataFrame({"codice_comune": ["052032", "052022", "052001"],
                            "zona_distretto": ["Senese", "Alta Val d'Elsa", "Amiata Val d'Orcia - Valdichiana Senese"]},
                           dtype="string")
    zones = zone_assignments(mapping, "052", comuni[comuni["current"]], name="zones", source="zones.csv",
                             lines=pd.Series([2, 3, 4]))
    return build_territories(cw, comuni, zones, {"052": "zone_distretto_siena"})


def test_crosswalk_maps_old_nuts_letters_and_nests_levels(cw):
    letters = letter_codes(cw)
    assert letters["ITE19"] == "052" and letters["ITE1A"] == "053" and letters["ITE1"] == "09"
    assert letters["ITE"] == "3" and letters["IT"] == "IT" and letters["IT111"] == "111"
    parents = parent_codes(cw)
    assert parents["052"] == "09" and parents["09"] == "3" and parents["3"] == "IT"
    assert parents["04"] == "2"  # Trentino-Alto Adige ITDA -> Nord-est ITD


def test_comune_parents_follow_the_code_prefix(cw):
    par = comune_parents(pd.Series(["052032", "041033", "099030"], dtype="string"), cw)
    assert par["province_code"].tolist() == ["052", "041", "099"]
    assert par["region_name"].tolist() == ["Toscana", "Marche", "Emilia-Romagna"]
    assert par["ripartizione_code"].tolist() == ["3", "3", "2"]


def test_territories_table_is_valid_and_carries_every_parent(territories):
    Territories.validate(territories)
    t = territories.set_index("territory_code")
    assert t.loc["052032", "zona_distretto_code"] == "052-ZD3" and t.loc["052032", "zona_distretto_name"] == "Senese"
    assert t.loc["052032", "source_id"] == "p2;zone_distretto_siena"
    assert t.loc["052", "itter107"] == "ITE19" and pd.isna(t.loc["052032", "itter107"])
    assert not t.loc["041033", "current"] and t.loc["041033", "province_code"] == "041"
    assert pd.isna(t.loc["053011", "zona_distretto_code"])  # no mapping configured for Grosseto
    assert (territories["territory_level"] == "provincia").sum() == 107
    assert t.loc["3", "territory_name"] == "Centro" and t.loc["IT", "territory_name"] == "Italia"


def test_zone_codes_are_numbered_by_name_not_by_row_order(territories):
    zones = territories[territories["territory_level"] == "zona_distretto"].set_index("territory_code")
    assert zones["territory_name"].to_dict() == {"052-ZD1": "Alta Val d'Elsa",
                                                 "052-ZD2": "Amiata Val d'Orcia - Valdichiana Senese",
                                                 "052-ZD3": "Senese"}
    assert set(zones["province_code"]) == {"052"} and set(zones["region_code"]) == {"09"}


@pytest.mark.parametrize("codes, check", [
    (["052032", "052022"], "every comune of province 052 mapped to a zone"),
    (["052032", "052022", "052001", "053011"], "a current comune of province 052"),
])
def test_zone_mapping_must_cover_the_province_exactly(tmp_path, codes, check):
    current = comuni_frame([("052032", "Siena", True, "p2"), ("052022", "Poggibonsi", True, "p2"),
                            ("052001", "Abbadia San Salvatore", True, "p2"), ("053011", "Grosseto", True, "p2")])
    mapping = pd.DataFrame({"codice_comune": codes, "zona_distretto": ["Senese"] * len(codes)}, dtype="string")
    with pytest.raises(InputRejected) as exc:
        zone_assignments(mapping, "052", current, name="zones", source="zones.csv",
                         lines=pd.Series(range(2, 2 + len(codes))))
    assert check in str(exc.value)
    assert (tmp_path / "logs" / "validation" / "zones.failures.csv").is_file()


def rows(values, date="2025-01-01", status="provisional"):
    return pd.DataFrame({"territory_code": list(values), "territory_level": "comune", "date": date,
                         "value": pd.array(list(values.values()), dtype="Int64"), "status": status}).astype(
        {"territory_code": "string", "date": "string"})


def test_aggregate_sums_comuni_to_every_level(territories):
    df = rows({"052032": 100, "052022": 20, "052001": 3, "053011": 50})
    out = aggregate(df, territories, "comune", ["zona_distretto", "provincia", "regione", "italia"], ["date"])
    got = out.set_index("territory_code")["value"].to_dict()
    assert got == {"052-ZD1": 20, "052-ZD2": 3, "052-ZD3": 100, "052": 123, "053": 50, "09": 173, "IT": 173}
    assert set(out["status"]) == {"provisional"}


def test_aggregate_sum_is_provisional_if_one_part_is(territories):
    df = rows({"052032": 100, "052022": 20})
    df.loc[0, "status"] = "final"
    out = aggregate(df, territories, "comune", ["provincia"], ["date"])
    assert out["status"].tolist() == ["provisional"]


def test_zone_sums_skipped_where_a_former_comune_has_no_zone(cw):
    comuni = comuni_frame([("052032", "Siena", True, "p2"), ("052099", "Former", False, "itter")])
    mapping = pd.DataFrame({"codice_comune": ["052032"], "zona_distretto": ["Senese"]}, dtype="string")
    zones = zone_assignments(mapping, "052", comuni[comuni["current"]], name="z", source="z.csv",
                             lines=pd.Series([2]))
    terr = build_territories(cw, comuni, zones, {"052": "z"})
    df = pd.concat([rows({"052032": 10, "052099": 5}, date="2020-01-01"), rows({"052032": 15}, date="2021-01-01")])
    out = aggregate(df, terr, "comune", ["zona_distretto", "provincia"], ["date"])
    assert out[["territory_code", "date", "value"]].values.tolist() == [
        ["052-ZD1", "2021-01-01", 15], ["052", "2020-01-01", 15], ["052", "2021-01-01", 15]]


def test_missing_comune_accepted_only_when_the_province_total_still_matches(territories):
    # 052001 is absent; so is Grosseto's 053011, which matters only when 053 is configured.
    present = rows({"052032": 100, "052022": 20}, date="2020-01-01")
    total = pd.DataFrame({"territory_code": ["052"], "date": ["2020-01-01"], "value": [120]})
    check_comuni_present(present, territories, ["052"], date_col="date", published=total, name="f", source="f.csv")
    with pytest.raises(InputRejected) as exc:
        check_comuni_present(present, territories, ["052"], date_col="date", published=total.assign(value=123),
                             name="f", source="f.csv")
    assert "every comune of province 052 present at 2020-01-01" in str(exc.value) and "052001" in str(exc.value)
    with pytest.raises(InputRejected):
        check_comuni_present(present, territories, ["052"], date_col="date", published=None, name="f",
                             source="f.csv")
