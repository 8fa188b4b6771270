"""The indicator catalogue, the SIENA2030 and SAMEDI benchmarks and the initiatives catalogue."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from insiena.catalogue import (
    DATASET_PREFIX, availability_matrix, gaps, load_catalogue, load_initiatives, load_samedi,
    load_siena2030, read_catalogue, validate_catalogue,
)
from insiena.config import load_config
from insiena.errors import ConfigError
from insiena.registry import load_registry
from insiena.schemas.catalogue import FOUR_THEMES, THEMES
from insiena.schemas.registry import LEVELS


@pytest.fixture(scope="module")
def registry(root):
    return load_registry(root=root)


@pytest.fixture(scope="module")
def doc(root):
    return read_catalogue(root=root)


@pytest.fixture(scope="module")
def catalogue(root):
    return load_catalogue(root=root)


def fresh(doc):
    """A deep copy without the objects that YAML anchors share between entries."""
    return json.loads(json.dumps(doc))


def entry(doc, indicator_id):
    return next(ind for ind in doc["indicators"] if ind["id"] == indicator_id)


# --- the real files ------------------------------------------------------------------------------

def test_catalogue_covers_every_theme_and_is_flat_per_level(catalogue):
    assert set(catalogue["theme"]) == set(THEMES)
    assert not catalogue.duplicated(["indicator_id", "level"]).any()
    assert set(catalogue["level"]) <= set(LEVELS)


def test_every_source_reference_is_in_the_registry(doc, registry):
    ids, datasets = set(registry["id"]), set(registry["dataset"])

    def known(ref):
        return ref[len(DATASET_PREFIX):] in datasets if ref.startswith(DATASET_PREFIX) else ref in ids

    refs = [r for q in doc["quantities"].values() for r in q.get("sources", [])]
    for ind in doc["indicators"]:
        refs += ind["sources"]
        refs += [r for lvl in ind["levels"].values() for r in lvl.get("sources", [])]
    assert refs and [r for r in refs if not known(r)] == []


def test_indicators_the_issues_ask_for_are_there_with_their_true_levels(catalogue):
    computed = catalogue[catalogue["status"] == "computed"].groupby("indicator_id")["level"].agg(set)
    status = catalogue.drop_duplicates("indicator_id").set_index("indicator_id")["indicator_status"]
    everywhere = {"comune", "zona_distretto", "provincia", "area", "regione", "ripartizione", "italia"}
    assert computed["foreign_share"] == everywhere
    assert computed["citizenship_acquisitions_per_1000_foreigners"] == everywhere  # comune only via P3 2025
    # Ages: no comune file in the mirror; foreigners by age only from STRASA provinces.
    assert computed["share_65_plus_total"] == {"provincia", "area", "regione", "ripartizione", "italia"}
    assert computed["mean_age_foreigners"] == {"provincia", "area", "regione", "ripartizione", "italia"}
    # Reception presences exist only per region (cruscotto); contracts per province (ANAC).
    assert computed["reception_presences_per_1000_residents"] == {"regione", "ripartizione", "italia"}
    assert "provincia" in computed["reception_contracts"]
    # Labour only for macro-areas (and Italy where the file has it); education only for Italy.
    assert computed["activity_rate_foreigners"] == {"macroarea"}
    assert computed["unemployment_rate_foreigners"] == {"macroarea", "italia"}
    assert computed["education_tertiary_foreigners"] == {"italia"}
    for gap in ("employment_rate_italians", "households_rented_foreigners_share", "rent_level_omi",
                "mental_health_addiction_users_foreigners", "health_service_use_foreigners", "sai_places",
                "cas_centres_and_presences", "foreign_pupils_share", "foreign_employees_inps"):
        assert status[gap] == "gap", gap


def test_periods_are_the_dates_the_mirror_covers(doc):
    permits_rate = entry(doc, "protection_permits_per_1000_residents")["levels"]
    # No total population per province for 2019-2021 in the mirror: the rate starts in 2022.
    assert permits_rate["provincia"]["periods"] == ["2022", "2023"]
    assert set(permits_rate["provincia"]["missing"]) == {"2019", "2020", "2021"}
    assert permits_rate["regione"]["periods"] == ["2019", "2020", "2021", "2022", "2023"]
    births = entry(doc, "births_per_1000_foreigners")["levels"]
    assert births["provincia"]["periods"] == ["2019", "2020", "2021", "2022", "2023", "2025"]
    assert entry(doc, "share_65_plus_foreigners")["levels"]["provincia"]["periods"] == ["2022-01-01"]
    assert "2021-01-01/2022-01-01" in entry(doc, "foreign_residents_change")["series_breaks"]


def test_labour_levels_say_italia_centrale_not_toscana(doc):
    note = entry(doc, "activity_rate_foreigners")["levels"]["macroarea"]["note"]
    assert "Italia centrale" in note and "mai Toscana" in note


def test_gap_agenda_names_what_would_fill_housing(catalogue):
    agenda = gaps(catalogue)
    housing = agenda[agenda["theme"] == "alloggio"]
    assert {"comune", "provincia", "italia"} <= set(housing["level"])
    text = " ".join(housing["would_need"])
    assert "Censimento 2021" in text and "OMI" in text
    assert agenda["holder"].str.len().gt(1).all()
    short = gaps(catalogue, by_indicator=True)
    assert len(short) < len(agenda)
    assert short.loc[short["indicator_id"] == "sai_places", "levels"].item() == "comune;zona_distretto;provincia"


def test_real_availability_matrix_of_the_four_themes(catalogue):
    matrix = availability_matrix(catalogue, wide=True)
    assert list(matrix.index) == FOUR_THEMES and list(matrix.columns) == LEVELS
    assert (matrix.loc["alloggio"] == "non disponibile").all()
    assert matrix.loc["lavoro", "macroarea"] == "calcolato"
    assert matrix.loc["lavoro", "provincia"] == "non disponibile"
    assert matrix.loc["educazione", "italia"] == "calcolato"
    assert matrix.loc["educazione", "regione"] == "non disponibile"
    assert matrix.loc["salute", "provincia"] == "calcolato"  # births and deaths of foreigners
    # ... which are demographic context only: the report must not read them as health-service data.
    cell = availability_matrix(catalogue).set_index(["theme", "level"]).loc[("salute", "provincia")]
    assert cell["n_computed"] == cell["n_context"] > 0


# --- invalid catalogue variants: one line naming the indicator and the key ------------------------

def _set(path, value):
    def mutate(d):
        target = entry(d, path[0])
        for key in path[1:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _delete(path):
    def mutate(d):
        target = entry(d, path[0])
        for key in path[1:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


def _duplicate_first(d):
    d["indicators"].append(dict(d["indicators"][0]))


@pytest.mark.parametrize("mutate, indicator, key", [
    (_set(["foreign_share", "colour"], "red"), "foreign_share", "colour"),
    (_set(["foreign_share", "theme"], "salut"), "foreign_share", "theme"),
    (_set(["foreign_share", "levels", "provincie"], {"status": "gap"}), "foreign_share", "levels.provincie"),
    (_set(["foreign_share", "levels", "comune", "sources"], ["istat_29_316_fjan", "no_such_file"]),
     "foreign_share", "levels.comune.sources"),
    (_set(["rent_level_omi", "sources"], ["no_such_file"]), "rent_level_omi", "sources"),
    (_set(["reception_contracts", "sources"], ["dataset:no_such_dataset"]), "reception_contracts", "sources"),
    (_delete(["foreign_share", "levels", "comune", "periods"]), "foreign_share", "levels.comune.periods"),
    (_set(["births_per_1000_foreigners", "levels", "provincia", "periods"], ["2019-01-01"]),
     "births_per_1000_foreigners", "levels.provincia.periods"),
    (_set(["rent_level_omi", "status"], "computed"), "rent_level_omi", "status"),
    (_set(["foreign_share", "formula", "numerator"], "pop_aliens"), "foreign_share", "formula.numerator"),
    (_delete(["rent_level_omi", "levels", "comune", "would_need"]), "rent_level_omi", "levels.comune.would_need"),
    (_set(["rent_level_omi", "levels", "comune", "foo"], "bar"), "rent_level_omi", "levels.comune.foo"),
    (_set(["foreign_share", "zaragoza"], "wellbeing"), "foreign_share", "zaragoza"),
    (_set(["foreign_share", "compare_with"], "no_such_indicator"), "foreign_share", "compare_with"),
    (_set(["foreign_share", "levels", "comune", "sources"], ["istat_29_316_fjan", "posas_2025_it_province"]),
     "foreign_share", "levels.comune.sources"),
    (_duplicate_first, "foreign_residents", "id"),
])
def test_invalid_catalogue_is_rejected_naming_indicator_and_key(doc, registry, mutate, indicator, key):
    bad = fresh(doc)
    mutate(bad)
    with pytest.raises(ConfigError) as exc:
        validate_catalogue(bad, set(registry["id"]), set(registry["dataset"]))
    message = str(exc.value)
    assert "\n" not in message
    assert f"indicator '{indicator}'" in message and f"key '{key}'" in message, message


def test_unknown_top_level_key_and_quantity_source_are_rejected(doc, registry):
    ids, datasets = set(registry["id"]), set(registry["dataset"])
    bad = fresh(doc)
    bad["indicatori"] = []
    with pytest.raises(ConfigError, match="key 'indicatori': unknown key"):
        validate_catalogue(bad, ids, datasets)
    bad = fresh(doc)
    bad["quantities"]["pop_total"]["sources"].append("no_such_file")
    with pytest.raises(ConfigError, match=r"key 'quantities.pop_total.sources': unknown source id 'no_such_file'"):
        validate_catalogue(bad, ids, datasets)


# --- availability matrix on a tiny hand-made catalogue --------------------------------------------

def _tiny():
    def ind(id_, theme, levels):
        computed = any(v["status"] == "computed" for v in levels.values())
        return {"id": id_, "theme": theme, "name": f"Nome {id_}", "definition": "Definizione di prova.",
                "unit": "%", "period_type": "flow",
                "formula": {"words": "a / b x 100", "numerator": "a", "denominator": "b", "scale": 100},
                "sources": ["src_a"] if computed else [], "status": "computed" if computed else "gap",
                "levels": levels}

    ok = {"status": "computed", "periods": ["2022"], "sources": ["src_a"]}
    gap = {"status": "gap", "gap_kind": "not_found", "would_need": "Un archivio che non c'è.", "holder": "ASL"}
    return {
        "version": 1,
        "quantities": {"a": {"name": "Quantità a", "sources": ["src_a"]}, "b": {"name": "Quantità b", "sources": ["src_a"]}},
        "indicators": [
            ind("health_one", "salute", {"provincia": ok, "comune": gap}),
            ind("health_two", "salute", {"provincia": gap, "regione": ok}),
            ind("housing_one", "alloggio", {"comune": gap}),
            ind("labour_one", "lavoro", {"macroarea": ok}),
        ],
    }


def test_availability_matrix_on_a_tiny_catalogue():
    doc = validate_catalogue(_tiny(), {"src_a"}, set())
    long = availability_matrix(doc, levels=("comune", "provincia", "regione", "macroarea"))
    cell = long.set_index(["theme", "level"])
    assert cell.loc[("salute", "provincia"), "value"] == "calcolato"
    assert cell.loc[("salute", "provincia"), ["n_computed", "n_context", "n_gap", "n_indicators"]].tolist() == [1, 0, 1, 2]
    assert cell.loc[("salute", "comune"), "value"] == "non disponibile"
    assert cell.loc[("salute", "comune"), ["n_computed", "n_gap"]].tolist() == [0, 1]
    assert cell.loc[("salute", "regione"), "value"] == "calcolato"
    assert cell.loc[("alloggio", "regione"), ["value", "n_gap"]].tolist() == ["non disponibile", 0]
    assert cell.loc[("educazione", "comune"), "n_indicators"] == 0
    assert cell.loc[("lavoro", "macroarea"), "value"] == "calcolato"
    wide = availability_matrix(doc, themes=("salute", "alloggio"), levels=("comune", "provincia"), wide=True)
    assert wide.to_dict("index") == {
        "salute": {"comune": "non disponibile", "provincia": "calcolato"},
        "alloggio": {"comune": "non disponibile", "provincia": "non disponibile"},
    }
    agenda = gaps(doc)
    assert list(zip(agenda["indicator_id"], agenda["level"])) == [
        ("health_one", "comune"), ("health_two", "provincia"), ("housing_one", "comune")]


def test_availability_matrix_refuses_an_unknown_theme():
    doc = validate_catalogue(_tiny(), {"src_a"}, set())
    with pytest.raises(ConfigError, match="unknown theme 'salut'"):
        availability_matrix(doc, themes=("salut",))


# --- SIENA2030 ------------------------------------------------------------------------------------

def test_siena2030_rows_cite_a_source_and_match_the_catalogue(root, catalogue):
    rows = load_siena2030(root=root, catalogue=catalogue)
    assert len(rows) == 7
    assert rows["source_url"].str.match(r"^https?://").all()
    values = rows.set_index("benchmark_id")["value"]
    assert values["siena2030_share_65_plus_siena_2019"] == 25.9
    assert values["siena2030_share_65_plus_italia_2019"] == 22.6
    assert values["siena2030_share_65_plus_siena_2030"] == 28.5
    assert values["siena2030_mean_age_siena_2019"] == 47.1
    assert values["siena2030_mean_age_italia_2019"] == 45.2
    assert values["siena2030_mean_age_siena_2030"] == 48.7
    assert values["siena2030_old_age_dependency_siena_2019"] == 43
    siena = rows[rows["territory_as_stated"] == "Siena"]
    assert set(siena["territory_code_assumed"]) == {"052"} and set(siena["territory_level_assumed"]) == {"provincia"}
    assert set(rows.loc[rows["kind"] == "projection", "reference_year"]) == {2030}
    assert rows["published_wording"].str.len().le(120).all()


def _siena_rows(root):
    with open(root / "config" / "benchmarks" / "siena2030.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_siena2030_new_version_is_a_new_row_set(root, catalogue, tmp_path):
    rows = _siena_rows(root)
    newer = [{**r, "version": "2", "retrieved": "2030-01-01"} for r in rows[:2]]
    newer[0]["value"] = "26.0"
    path = _write(tmp_path / "siena2030.csv", rows + newer)
    assert len(load_siena2030(path, root=tmp_path, catalogue=catalogue)) == 2
    first = load_siena2030(path, root=tmp_path, catalogue=catalogue, version=1)
    assert first.set_index("benchmark_id").loc["siena2030_share_65_plus_siena_2019", "value"] == 25.9
    assert len(load_siena2030(path, root=tmp_path, catalogue=catalogue, version="all")) == len(rows) + 2


@pytest.mark.parametrize("column, value, expected", [
    ("source_url", "", "column 'source_url'"),
    ("source_url", "sienanews.it/article", "column 'source_url'"),
    ("kind", "forecast", "column 'kind'"),
    ("territory_level_assumed", "city", "column 'territory_level_assumed'"),
    ("indicator_id", "share_over_65", "column 'indicator_id'"),
    ("unit", "per 1.000", "column 'unit'"),
    ("reference_year_basis", "publication_year", "(row check)"),
])
def test_invalid_siena2030_row_is_rejected_naming_benchmark_and_column(root, catalogue, tmp_path, column, value, expected):
    rows = _siena_rows(root)
    target = 2 if column == "reference_year_basis" else 0  # row 2 is a projection
    rows[target][column] = value
    path = _write(tmp_path / "siena2030.csv", rows)
    with pytest.raises(ConfigError) as exc:
        load_siena2030(path, root=tmp_path, catalogue=catalogue)
    message = str(exc.value)
    assert "\n" not in message
    assert f"benchmark '{rows[target]['benchmark_id']}'" in message and expected in message, message


def test_siena2030_refuses_an_unknown_column(root, catalogue, tmp_path):
    rows = [{**r, "comment": "x"} for r in _siena_rows(root)]
    with pytest.raises(ConfigError, match="unknown column 'comment'"):
        load_siena2030(_write(tmp_path / "s.csv", rows), root=tmp_path, catalogue=catalogue)


# --- SAMEDI ---------------------------------------------------------------------------------------

def test_samedi_metadata_and_side_by_side_indicators(root, catalogue):
    samedi = load_samedi(root=root, catalogue=catalogue)
    assert samedi["territory"]["provinces"] == load_config(root=root)["areas"]["SAMEDI"]["provinces"]
    assert (samedi["period"]["start"], samedi["period"]["end"]) == ("2020-01-13", "2022-06-30")
    assert samedi["funding"]["amount_eur"] == 592142.28
    assert samedi["theme"] == "salute" and samedi["published_numbers"] == []
    assert samedi["evaluation"]["outcome"] == "Vantaggio incerto"
    computed = catalogue[catalogue["status"] == "computed"]
    for ind in samedi["side_by_side"]["indicators"]:
        levels = set(computed.loc[computed["indicator_id"] == ind, "level"])
        assert {"provincia", "area"} <= levels, ind


def test_samedi_refuses_an_indicator_not_computed_for_its_area(root, catalogue, tmp_path):
    import yaml

    doc = yaml.safe_load((root / "config" / "benchmarks" / "samedi.yaml").read_text(encoding="utf-8"))
    doc["side_by_side"]["indicators"].append("activity_rate_foreigners")
    path = tmp_path / "samedi.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    areas = {"SAMEDI": {"name": "x", "provinces": ["051", "052", "053"]}}
    with pytest.raises(ConfigError, match=r"key 'side_by_side.indicators': 'activity_rate_foreigners'"):
        load_samedi(path, root=tmp_path, catalogue=catalogue, areas=areas)
    doc["side_by_side"]["indicators"].pop()
    doc["lead_partner"] = "x"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"benchmark 'samedi', key 'lead_partner': unknown key"):
        load_samedi(path, root=tmp_path, catalogue=catalogue, areas=areas)


# --- initiatives ----------------------------------------------------------------------------------

def test_initiatives_are_valid_and_sourced(root):
    table = load_initiatives(root=root)
    assert {"samedi", "siena2030", "intese", "insiena_mimetis", "sai_alta_valdelsa", "sai_msna_sds_senese",
            "softcas", "we_ita", "reticulate", "ismu_monitoraggio_pni", "sprar_diffuso_coeso",
            "la_rugginosa", "giornata_economia_cciaa"} <= set(table["initiative_id"])
    themes = {t for cell in table["themes"] for t in cell.split(";")}
    assert themes <= set(THEMES)
    assert table["source_url"].str.match(r"^https?://").all()
    samedi = table.set_index("initiative_id").loc["samedi"]
    assert (samedi["period_start"], samedi["period_end"]) == ("2020-01-13", "2022-06-30")
    assert samedi["territory_code"] == "SAMEDI" and samedi["amount_eur"] == 592142.28


@pytest.mark.parametrize("column, value", [
    ("themes", "salute;sanita"), ("themes", ""), ("source_url", ""), ("territory_level", "citta"),
    ("period_start", "primi mesi 2019"), ("kind", "iniziativa"),
])
def test_invalid_initiative_is_rejected_naming_entry_and_column(root, tmp_path, column, value):
    with open(root / "config" / "initiatives.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[1][column] = value
    with pytest.raises(ConfigError) as exc:
        load_initiatives(_write(tmp_path / "initiatives.csv", rows), root=tmp_path)
    message = str(exc.value)
    assert "\n" not in message
    assert f"initiative '{rows[1]['initiative_id']}'" in message and f"column '{column}'" in message, message


def test_initiative_ids_are_unique(root, tmp_path):
    with open(root / "config" / "initiatives.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows.append(dict(rows[0]))
    with pytest.raises(ConfigError, match="column 'initiative_id'"):
        load_initiatives(_write(tmp_path / "initiatives.csv", rows), root=tmp_path)


def test_catalogue_frame_round_trips_to_csv(catalogue, tmp_path):
    path = tmp_path / "catalogue.csv"
    catalogue.to_csv(path, index=False)
    again = pd.read_csv(path, dtype=str)
    assert len(again) == len(catalogue)


def test_reviewers_guide_lists_every_indicator(root, catalogue):
    text = (root / "docs" / "indicators.md").read_text(encoding="utf-8")
    assert [i for i in catalogue["indicator_id"].unique() if f"`{i}`" not in text] == []
