"""The report's builders on a small fixture: key numbers, partials, downloads, escaping, conditional parts.

Fixture: tests/fixtures/report_content/ (the province of Siena cut to three real comuni plus an invented
one named "<script>alert(1)</script>", see make_fixture.py). The shared inputs (catalogue, initiatives,
benchmarks, registry) are the real config/ files, validated by build_shared as in the pipeline.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from insiena import fmt
from insiena.maps import load_municipalities
from insiena.report import md_escape
from insiena.report.build import ProvinceInputs, province_slice, table_partial, write_report, xlsx_bytes
from insiena.report.content import Indicators, assemble, at_date, period_words
from insiena.report.shared import build_shared, load_shared

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures" / "report_content"
SCRIPT = "<script>alert(1)</script>"
CFG = {"comparators": {"052": ["051", "053", "SAMEDI"]},
       "areas": {"SAMEDI": {"name": "Area SAMEDI (Arezzo, Siena, Grosseto)", "provinces": ["051", "052", "053"]}},
       "zone_distretto": {"052": "zone_distretto_siena"}}
FLOATS = ("value", "numerator", "denominator", "benchmark_value", "gap", "amount_lot", "places", "presences")
INTS = ("year", "age", "n_lots", "duration_days", "source_rows", "reference_year")
BOOLS = ("census_break", "current", "framework", "minors", "category_explicit", "object_withheld", "derived",
         "partial_coverage")


def read_fixture(name: str) -> pd.DataFrame:
    """A fixture CSV with the dtypes of the processed Parquet tables (string, Float64, Int64, boolean)."""
    df = pd.read_csv(FIX / name, dtype=str, keep_default_na=False).replace({"": pd.NA})
    for col in df.columns:
        if col in FLOATS:
            df[col] = pd.to_numeric(df[col]).astype("Float64")
        elif col in INTS:
            df[col] = pd.to_numeric(df[col]).astype("Int64")
        elif col in BOOLS:
            df[col] = df[col].map({"True": True, "False": False}).astype("boolean")
        else:
            df[col] = df[col].astype("string")
    return df


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("shared")
    pop = read_fixture("population_ages.csv")
    pop.to_parquet(out / "population.parquet", index=False)
    build_shared(out / "report", checks=[FIX / "checks.csv"], population=out / "population.parquet", root=ROOT)
    return load_shared(out / "report")


def inputs_for(shared: dict, /, **changes) -> ProvinceInputs:
    territories = read_fixture("territories.csv")
    base = dict(
        province="052", cfg=CFG, territories=territories, indicators=read_fixture("indicators.csv"),
        shared={**shared, "pyramids": shared["pyramids"][shared["pyramids"]["territory_code"].isin(["052", "09", "IT"])]},
        contracts=read_fixture("contracts.csv"), published=read_fixture("published.csv"),
        coverage=pd.read_csv(FIX / "coverage.csv", dtype=str, keep_default_na=False),
        centres_status={"present": False, "message": "Dati per centro assenti (nessun file indicato in centres_file)."},
        features=load_municipalities(FIX / "limits_P_52_municipalities.topo.json"),
        boundaries_source="limits_p_52_municipalities")
    base.update(changes)
    return ProvinceInputs(**base)


@pytest.fixture(scope="module")
def built(shared, tmp_path_factory):
    """The report of the fixture province, assembled and written like the pipeline does."""
    report = assemble(inputs_for(shared))
    out = tmp_path_factory.mktemp("results")
    folders = {"report_src": out / "report_src", "tables": out / "tables", "figures": out / "figures"}
    write_report(report, folders, ROOT / "report")
    return report, out


def indicator(iid: str, code: str, period: str | None = None, **dims) -> dict:
    return Indicators(read_fixture("indicators.csv")).get(iid, code, period, **dims)


# ------------------------------------------------------------------------------------------ numbers

def test_key_numbers_come_from_the_indicators_formatted_in_italian(built):
    report, _ = built
    v = report.variables
    latest = Indicators(read_fixture("indicators.csv")).latest("foreign_share", "052")
    share = indicator("foreign_share", "052", latest)
    residents = indicator("foreign_residents", "052", latest)
    assert v["pop"]["date"] == period_words(latest) == "31 dicembre 2025"
    assert v["pop"]["foreign"] == fmt.fmt_num(residents["value"]) and "." in v["pop"]["foreign"]
    assert v["pop"]["share"] == fmt.fmt_pct(share["value"]) and re.fullmatch(r"\d+,\d%", v["pop"]["share"])
    assert v["pop"]["total"] == fmt.fmt_num(share["denominator"])
    assert v["pop"]["region_share"] == fmt.fmt_pct(indicator("foreign_share", "09", latest)["value"])
    acq = indicator("citizenship_acquisitions_per_1000_foreigners", "052")
    assert v["acq"]["year"] == acq["period"] and v["acq"]["rate"] == fmt.fmt_num(acq["value"], 1)
    assert v["acq"]["count"] == fmt.fmt_num(acq["numerator"])
    permits = indicator("protection_permits", "052")
    assert v["perm"]["year"] == permits["period"] and v["perm"]["count"] == fmt.fmt_num(permits["value"])
    sai_date = v["rec"]["date"]
    sai = Indicators(read_fixture("indicators.csv")).get("reception_presences", "09", category="second_level")
    assert sai_date == period_words(sai["period"]) and v["rec"]["region_sai"] == fmt.fmt_num(sai["value"])
    assert v["region"]["of"] == "della Toscana" and v["region"]["in"] == "in Toscana"


def test_no_variable_is_empty_or_english(built):
    report, _ = built

    def leaves(d, prefix=""):
        for k, val in d.items():
            yield from (leaves(val, f"{prefix}{k}.") if isinstance(val, dict) else [(prefix + k, val)])

    for key, value in leaves(report.variables):
        assert value not in ("", "None", "nan", "<NA>", "NaN") or key in ("pop.provisional", "bal.comment"), key
        assert not re.search(r"\d\.\d{1,2}(?!\d)", value) or key.endswith(("name", "record")), (key, value)


def test_every_var_used_by_the_source_exists(built):
    report, out = built
    text = "\n".join(p.read_text(encoding="utf-8") for p in (out / "report_src").rglob("*.*")
                     if p.suffix in (".qmd", ".md"))
    used = set(re.findall(r"\{\{<\s*var\s+([\w.]+)\s*>\}\}", text))
    variables = yaml.safe_load((out / "report_src" / "_variables.yml").read_text(encoding="utf-8"))
    for key in sorted(used):
        node = variables
        for part in key.split("."):
            assert isinstance(node, dict) and part in node, f"{key} used in the report but not computed"
            node = node[part]


def test_italian_prepositions_and_dates():
    assert at_date("2025-01-01") == "al 1° gennaio 2025"
    assert at_date("2024-03-08") == "all'8 marzo 2024"
    assert at_date("2023") == "nel 2023"
    assert period_words("2025-09") == "settembre 2025"


# ---------------------------------------------------------------------------------- tables, figures

def test_every_table_has_caption_source_date_and_downloads(built):
    report, out = built
    names = {t.name for t in report.tables}
    assert {"sintesi", "zone", "comuni", "bilancio", "acquisizioni", "eta", "accoglienza", "pubblicati",
            "contratti", "committenti", "permessi", "salute", "lavoro", "educazione", "matrice", "lacune",
            "iniziative", "siena2030", "samedi", "fonti", "definizioni", "validazione", "copertura"} <= names
    for table in report.tables:
        md = (out / "report_src" / "tables" / f"{table.name}.md").read_text(encoding="utf-8")
        assert re.search(rf"^: .+ \{{#tbl-{table.name}\}}$", md, re.M), table.name
        source = re.search(r"::: \{\.source\}\n(.*?)\n:::", md, re.S).group(1)
        assert source.startswith("Fonte:") and table.date.rstrip(".") in source, table.name
        assert f"[CSV](tables/{table.name}.csv)" in md and f"[XLSX](tables/{table.name}.xlsx)" in md
        assert (out / "tables" / f"{table.name}.csv").stat().st_size > 0
        assert (out / "tables" / f"{table.name}.xlsx").read_bytes()[:2] == b"PK"


def test_every_figure_has_caption_alt_text_and_source(built):
    report, out = built
    assert {f.name for f in report.figures} >= {"mappa", "andamento", "incidenza", "bilancio", "acquisizioni",
                                                 "piramide", "accoglienza", "contratti", "salute", "lavoro",
                                                 "educazione", "siena2030"}
    for fig in report.figures:
        md = (out / "report_src" / "figures" / f"{fig.name}.md").read_text(encoding="utf-8")
        m = re.search(rf'!\[(.+)\]\(figures/{fig.name}\.png\)\{{#fig-{fig.name} fig-alt="([^"]+)"', md)
        assert m and len(m.group(1)) > 20 and len(m.group(2)) > 30, fig.name
        assert re.search(r"::: \{\.source\}\nFonte: .+\n:::", md), fig.name
        png = (out / "figures" / f"{fig.name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == (out / "report_src" / "figures" / f"{fig.name}.png").read_bytes()


def test_downloads_keep_raw_numbers(built):
    report, out = built
    comuni = pd.read_csv(out / "tables" / "comuni.csv", dtype={"Codice": str})
    siena = comuni[comuni["Codice"] == "052032"].iloc[0]
    latest = Indicators(read_fixture("indicators.csv")).latest("foreign_share", "052032")
    assert siena["Stranieri (%)"] == pytest.approx(indicator("foreign_share", "052032", latest)["value"])
    md = (out / "report_src" / "tables" / "comuni.md").read_text(encoding="utf-8")
    assert fmt.fmt_pct(siena["Stranieri (%)"]) in md  # the partial shows it the Italian way


def test_two_builds_are_byte_identical(shared, built, tmp_path):
    _, first = built
    report = assemble(inputs_for(shared))
    folders = {"report_src": tmp_path / "report_src", "tables": tmp_path / "tables", "figures": tmp_path / "figures"}
    write_report(report, folders, ROOT / "report")
    for folder in folders.values():
        files = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(first / folder.name) for p in (first / folder.name).rglob("*")
                               if p.is_file())
        for rel in files:
            assert (folder / rel).read_bytes() == (first / folder.name / rel).read_bytes(), rel


def test_xlsx_is_deterministic_and_readable():
    frame = pd.DataFrame({"Comune": ["Siena", SCRIPT], "Quota (%)": [11.64, None], "N": [1234, 5]})
    a = xlsx_bytes(frame, "comuni", "Titolo", "Fonte: prova")
    assert a == xlsx_bytes(frame, "comuni", "Titolo", "Fonte: prova")
    import io

    import openpyxl

    ws = openpyxl.load_workbook(io.BytesIO(a)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "Titolo" and rows[1] == ("Comune", "Quota (%)", "N")
    assert rows[2] == ("Siena", 11.64, 1234) and rows[3][0] == SCRIPT and rows[3][1] is None


# ------------------------------------------------------------------------------------------ escaping

def test_data_text_is_escaped_in_partials(built):
    _, out = built
    comuni = (out / "report_src" / "tables" / "comuni.md").read_text(encoding="utf-8")
    assert md_escape(SCRIPT) in comuni and SCRIPT not in comuni
    buyers = (out / "report_src" / "tables" / "committenti.md").read_text(encoding="utf-8")
    assert md_escape("COMUNE DI *PROVA* | [x](javascript:alert(1))") in buyers
    assert "](javascript" not in buyers
    published = (out / "report_src" / "tables" / "pubblicati.md").read_text(encoding="utf-8")
    assert md_escape("Comune di <b>Prova</b> | _sottolineato_") in published and "<b>" not in published
    caption = (out / "report_src" / "figures" / "mappa.md").read_text(encoding="utf-8")
    assert "senza confine" in caption and md_escape(SCRIPT) in caption


def test_rendered_html_shows_the_script_as_text(built, tmp_path):
    from insiena.report import render_report

    _, out = built
    render_report(out / "report_src", tmp_path, formats=("html",), renderer="pandoc")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html and 'href="javascript' not in html
    assert 'href="tables/comuni.csv"' in html and 'href="tables/comuni.xlsx"' in html
    assert html.count('class="quarto-xref"') > 20  # numbered cross-references resolved


# ------------------------------------------------------------------------------- conditional parts

def test_province_without_zone_mapping_says_so(shared):
    report = assemble(inputs_for(shared, cfg={**CFG, "zone_distretto": {}},
                                 territories=read_fixture("territories.csv").query("territory_level != 'zona_distretto'")))
    assert "zone" not in {t.name for t in report.tables}
    assert "zona-distretto (Società della Salute) non è disponibile" in report.texts["zone"]
    matrix = next(t for t in report.tables if t.name == "matrice")
    assert "zona-distretto*" in matrix.display.columns


def test_centres_absent_and_present(shared):
    absent = assemble(inputs_for(shared))
    assert "non sono disponibili" in absent.texts["centri"] and "centri" not in {t.name for t in absent.tables}
    comuni = pd.DataFrame({
        "territory_code": ["052032", "052022"], "territory_name": ["Siena", SCRIPT], "territory_level": "comune",
        "province_code": "052", "date": "2024-06-30", "centre_type": ["CAS", "SAI"],
        "centres": pd.array([2, 1], dtype="Int64"), "places": pd.array([40, 12], dtype="Int64"),
        "centres_without_places": pd.array([0, 0], dtype="Int64"), "presences": pd.array([35, pd.NA], dtype="Int64"),
        "centres_without_presences": pd.array([0, 1], dtype="Int64"), "source_id": "centres_file"})
    present = assemble(inputs_for(shared, centres_status={"present": True, "rows": 3}, centres_comuni=comuni))
    table = next(t for t in present.tables if t.name == "centri")
    assert md_escape(SCRIPT) in table.display["Comune"].tolist()
    assert "centri" in {f.name for f in present.figures}


def test_no_published_figures_and_no_benchmark_for_another_province(shared):
    report = assemble(inputs_for(shared, published=read_fixture("published.csv").iloc[0:0]))
    assert "non è registrata alcuna cifra pubblicata" in report.texts["pubblicati"]
    bm = shared["siena2030"].assign(territory_code_assumed="999")
    other = assemble(inputs_for(shared, shared={**inputs_for(shared).shared, "siena2030": bm}))
    assert "siena2030" not in {t.name for t in other.tables}
    assert "non c'è un valore di partenza" in other.texts["siena2030"]


def test_labour_rates_are_labelled_with_their_macro_area(built):
    report, _ = built
    assert report.variables["labour"]["area"] == "Italia centrale"
    table = next(t for t in report.tables if t.name == "lavoro")
    assert all("Toscana" not in c and "Siena" not in c for c in table.data.columns)


def test_ambiguous_breakdown_is_refused():
    ind = Indicators(read_fixture("indicators.csv"))
    with pytest.raises(ValueError, match="pass the breakdown"):
        ind.get("education_tertiary_foreigners", "IT", "2023")
    assert ind.get("education_tertiary_foreigners", "IT", "2023", age_class="15-64")["value"] > 0


def test_province_slice_keeps_true_levels():
    table = read_fixture("indicators.csv")
    own = province_slice(table, "052", CFG, read_fixture("territories.csv"))
    levels = own.groupby("territory_code")["territory_level"].first().to_dict()
    assert levels["052"] == "provincia" and levels["09"] == "regione" and levels["IT"] == "italia"
    assert levels["3"] == "ripartizione" and set(own.loc[own["territory_code"] == "3", "theme"]) == {"lavoro"}
    assert levels["052-ZD1"] == "zona_distretto" and levels["SAMEDI"] == "area"


def test_partial_layout():
    from insiena.report.build import Table

    t = Table(name="x", caption="Didascalia", data=pd.DataFrame({"A": [1]}), display=pd.DataFrame({"A": ["1"]}),
              source="Fonte: prova.", date="Dati al 1° gennaio 2025")
    md = table_partial(t)
    assert md.splitlines()[0] == "| A |" and re.fullmatch(r"\|-+:\|", md.splitlines()[1])
    assert ": Didascalia {#tbl-x}" in md
    assert "::: {.source}\nFonte: prova. Dati al 1° gennaio 2025. Scarica: [CSV](tables/x.csv)" in md
    assert json.dumps(md)  # plain text, serialisable


def test_column_widths_follow_content_and_fit_words():
    from insiena.report.build import column_weights

    display = pd.DataFrame({"Tema": ["Educazione"], **{f"c{i}": ["calcolato (5, solo contesto)"] for i in range(8)}})
    weights = column_weights(display)
    # The longest word of the first column ("Educazione" + margin) gets at least its share of a line.
    assert weights[0] / sum(weights) >= 12 / 105 - 0.01
    wide = column_weights(pd.DataFrame({"N": ["12"], "Testo": ["una definizione lunga " * 5]}))
    assert wide[1] > 3 * wide[0]
