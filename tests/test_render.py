"""The report renderer on the sample Quarto project in tests/fixtures/report (no network, no Quarto)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import stat
import sys
import threading
from pathlib import Path

import pytest
import yaml

from insiena.report import RenderError, ShortcodeError, md_escape, render_report
from insiena.report import render as render_mod
from insiena.report.shortcodes import expand

FIXTURE = Path(__file__).parent / "fixtures" / "report"


def leaves(mapping: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.update(leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)
    return out


VARIABLES = leaves(yaml.safe_load((FIXTURE / "_variables.yml").read_text(encoding="utf-8")))


def normalise(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [normalise(page.extract_text()) for page in PdfReader(path).pages]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("report")
    result = render_report(FIXTURE, out, formats=("html", "pdf"), renderer="pandoc")
    return {"result": result, "html": out / "report.html", "pdf": out / "report.pdf", "out": out}


def project_copy(tmp_path: Path, **replace: str) -> Path:
    """The sample project in tmp_path, with `old=new` edits to report.qmd (keys are labels only)."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    qmd = project / "report.qmd"
    text = qmd.read_text(encoding="utf-8")
    for old_new in replace.values():
        old, new = old_new
        assert old in text
        text = text.replace(old, new, 1)
    qmd.write_text(text, encoding="utf-8")
    return project


# --- the fallback renderer: HTML -------------------------------------------------------------------

def test_result_names_renderer_and_outputs(rendered):
    result = rendered["result"]
    assert result.renderer == "pandoc"
    assert [p.name for p in result.outputs] == ["report.html", "report.pdf"]
    assert all(p.stat().st_size > 1000 for p in result.outputs)
    assert sorted(p.name for p in rendered["out"].iterdir()) == ["report.html", "report.pdf"]


def test_html_shows_every_variable_and_no_shortcode(rendered):
    source = rendered["html"].read_text(encoding="utf-8")
    text = normalise(html.unescape(re.sub(r"<[^>]+>", " ", source)))
    for key, value in VARIABLES.items():
        assert value in text, f"{key} = {value!r} missing from the HTML"
    assert "Profilo territoriale della provincia di Siena" in text
    assert "{{<" not in source and ">}}" not in source
    assert 'lang="it"' in source


def test_html_numbers_captions_and_links_cross_references(rendered):
    source = rendered["html"].read_text(encoding="utf-8")
    text = normalise(html.unescape(re.sub(r"<[^>]+>", " ", source)))
    for caption in ("Figura 1: Residenti stranieri", "Figura 2: Quota di residenti",
                    "Tabella 1: Comuni con la quota", "Tabella 2: Elenco completo"):
        assert caption in text
    links = dict(re.findall(r'<a href="#([^"]+)" class="quarto-xref">([^<]+)</a>', source))
    assert normalise(links["fig-trend"]) == "Figura 1"
    assert normalise(links["tbl-comuni"]) == "Tabella 1"
    assert normalise(links["tbl-lungo"]) == "Tabella 2"
    assert normalise(links["sec-metodo"]) == "Sezione 3"
    assert normalise(links["sec-comuni"]) == "Sezione 2.1"
    assert normalise(links["fig-quota"]) == "2"  # [-@fig-quota]: number only
    ids = set(re.findall(r'\sid="([^"]+)"', source))
    for target in re.findall(r'href="#([^"]+)"', source):
        assert target in ids, f"link to #{target} has no target"
    assert "@fig-" not in text and "@tbl-" not in text and "@sec-" not in text
    assert 'class="citation"' not in source


def test_html_figures_have_alt_text_and_embedded_images(rendered):
    source = rendered["html"].read_text(encoding="utf-8")
    images = re.findall(r"<img\b[^>]*>", source)
    assert len(images) == 2
    for img in images:
        assert re.search(r'\salt="[^"]{20,}"', img), img[:200]
        assert 'src="data:image/' in img  # self-contained
    assert 'alt="Grafico a linee dei residenti stranieri' in source
    assert "data-fig-alt" not in source
    assert "<link" not in source and "http://" not in source.replace("http://www.w3.org", "")


def test_html_callouts_sources_and_sections(rendered):
    source = rendered["html"].read_text(encoding="utf-8")
    assert source.count('class="source"') == 4
    assert 'class="callout callout-note"' in source and 'class="callout callout-warning"' in source
    assert "Come leggere i numeri" in source and "Dati provvisori" in source
    toc = source[source.index('<nav id="TOC"'):source.index("</nav>")]
    assert "Come leggere i numeri" not in toc  # a callout's title is no section
    assert re.search(r'header-section-number">2\.1</span>\s*Comuni', source)


def test_data_text_is_escaped_in_html(rendered):
    source = rendered["html"].read_text(encoding="utf-8")
    assert "<script" not in source
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    assert "Comune | con barra &amp; simboli *strani*" in normalise(source)


# --- the fallback renderer: PDF --------------------------------------------------------------------

def test_pdf_shows_variables_numbers_and_references(rendered):
    pages = pdf_pages(rendered["pdf"])
    text = " ".join(pages)
    for key, value in VARIABLES.items():
        assert value in text, f"{key} = {value!r} missing from the PDF"
    for phrase in ("Figura 1: Residenti stranieri", "Figura 2: Quota", "Tabella 1: Comuni con la quota",
                   "Tabella 2: Elenco completo", "in Figura 1", "in Tabella 1", "nella Sezione 3",
                   "la Sezione 2.1", "la figura 2 usa", "Come leggere i numeri", "Dati provvisori",
                   "<script>alert(1)</script>", "Comune | con barra & simboli *strani*"):
        assert phrase in text, phrase
    assert text.count("Fonte:") == 4
    assert "{{<" not in text and "@fig" not in text and "??" not in text


def test_pdf_long_table_breaks_across_pages_with_header(rendered):
    pages = pdf_pages(rendered["pdf"])
    first = next(i for i, p in enumerate(pages) if "Comune di prova 1 " in p)
    last = next(i for i, p in enumerate(pages) if "Comune di prova 90 " in p)
    assert last > first, "the long table did not continue on the next page"
    for page in pages[first:last + 1]:
        assert "Codice Comune Residenti Stranieri Quota (%)" in page  # header repeated
    rows = [n for n in range(1, 91) if any(f"Comune di prova {n} " in p for p in pages)]
    assert len(rows) == 90, "rows lost between pages"


def test_pdf_metadata_has_no_clock(rendered):
    from pypdf import PdfReader

    reader = PdfReader(rendered["pdf"])
    info = reader.metadata
    assert info.title == "Profilo territoriale della provincia di Siena"
    assert "/CreationDate" not in info and "/ModDate" not in info
    assert b"CreateDate" not in rendered["pdf"].read_bytes()


# --- determinism, atomicity, parallel renders, speed -----------------------------------------------

def test_two_renders_are_byte_identical(rendered, tmp_path):
    # From another copy of the project, into another folder: paths must not leak into the outputs.
    project = project_copy(tmp_path)
    result = render_report(project, tmp_path / "again", renderer="pandoc")
    assert (tmp_path / "again" / "report.html").read_bytes() == rendered["html"].read_bytes()
    assert (tmp_path / "again" / "report.pdf").read_bytes() == rendered["pdf"].read_bytes()
    assert result.seconds < 20


def test_parallel_renders_do_not_collide(rendered, tmp_path):
    errors = []

    def run(n):
        try:
            render_report(FIXTURE, tmp_path / f"p{n}", renderer="pandoc")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for n in range(2):
        assert (tmp_path / f"p{n}" / "report.html").read_bytes() == rendered["html"].read_bytes()
        assert (tmp_path / f"p{n}" / "report.pdf").read_bytes() == rendered["pdf"].read_bytes()


def test_failed_render_keeps_the_earlier_report(tmp_path):
    out = tmp_path / "out"
    good = project_copy(tmp_path / "a")
    render_report(good, out, renderer="pandoc")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # The HTML part would succeed; the PDF fails in Typst: neither file may change.
    (good / "report.qmd").write_text((good / "report.qmd").read_text(encoding="utf-8")
                                     + "\n```{=typst}\n#undefined-function()\n```\n", encoding="utf-8")
    with pytest.raises(RenderError, match="typst"):
        render_report(good, out, renderer="pandoc")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temporary files either


def test_html_only(tmp_path):
    result = render_report(FIXTURE, tmp_path, formats=["html"], renderer="pandoc")
    assert [p.name for p in result.outputs] == ["report.html"]


# --- shortcodes and escaping -----------------------------------------------------------------------

def test_missing_variable_is_named(tmp_path):
    project = project_copy(tmp_path, edit=("{{< var population.total >}}", "{{< var population.totale >}}"))
    with pytest.raises(ShortcodeError, match=r"population\.totale.*'totale' missing under population"):
        render_report(project, tmp_path / "out", renderer="pandoc")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_variable_lookup_errors(tmp_path):
    doc = tmp_path / "doc.qmd"
    with pytest.raises(ShortcodeError, match=r"doc\.qmd:2: .*'nope' is not in _variables\.yml"):
        expand("a\n{{< var nope >}}", doc, tmp_path, {"a": 1})
    with pytest.raises(ShortcodeError, match="is a dict"):
        expand("{{< var a >}}", doc, tmp_path, {"a": {"b": 1}})
    assert expand("{{< var a.b >}} e {{<var c>}}", doc, tmp_path, {"a": {"b": "1.234,5"}, "c": 7}) == "1.234,5 e 7"


def test_include_escaping_the_project_is_refused(tmp_path):
    (tmp_path / "secret.md").write_text("password", encoding="utf-8")
    project = project_copy(tmp_path, edit=("{{< include tables/comuni.md >}}",
                                           "{{< include ../secret.md >}}"))
    with pytest.raises(ShortcodeError, match="outside the project"):
        render_report(project, tmp_path / "out", renderer="pandoc")
    (project / "tables" / "evil.md").symlink_to(tmp_path / "secret.md")
    with pytest.raises(ShortcodeError, match="outside the project"):
        expand("{{< include tables/evil.md >}}", project / "report.qmd", project, {})


def test_includes_are_relative_recursive_and_acyclic(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "a.md").write_text("A {{< include b.md >}} {{< var x >}}", encoding="utf-8")
    (tmp_path / "parts" / "b.md").write_text("B {{< include /c.md >}}", encoding="utf-8")
    (tmp_path / "c.md").write_text("C\n", encoding="utf-8")
    doc = tmp_path / "doc.qmd"
    assert expand("{{< include parts/a.md >}}", doc, tmp_path, {"x": "{{< var y >}}"}) \
        == "A B C {{< var y >}}"  # a value is inserted as it is, never expanded again
    (tmp_path / "c.md").write_text("{{< include parts/a.md >}}", encoding="utf-8")
    with pytest.raises(ShortcodeError, match="cycle"):
        expand("{{< include parts/a.md >}}", doc, tmp_path, {"x": 1})
    with pytest.raises(ShortcodeError, match="no such file"):
        expand("{{< include parts/zz.md >}}", doc, tmp_path, {})


def test_unknown_and_unterminated_shortcodes_are_errors(tmp_path):
    doc = tmp_path / "doc.qmd"
    with pytest.raises(ShortcodeError, match="unsupported shortcode 'video'"):
        expand("{{< video x.mp4 >}}", doc, tmp_path, {})
    with pytest.raises(ShortcodeError, match="unterminated"):
        expand("{{< var a\n>}}", doc, tmp_path, {"a": 1})


def test_md_escape():
    assert md_escape("<script>alert(1)</script>") == r"\<script\>alert\(1\)\</script\>"
    assert md_escape("a | b\nc") == r"a \| b c"
    assert md_escape("@fig-x {{< var a >}}") == r"\@fig\-x \{\{\< var a \>\}\}"
    assert md_escape("Colle di Val d'Elsa, 1.234,5 %") == r"Colle di Val d'Elsa, 1\.234,5 %"
    assert md_escape(None) == "" and md_escape(float("nan")) == ""


def test_md_escape_round_trips_through_pandoc(tmp_path):
    import subprocess

    nasty = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a | b", "**bold** _it_",
             "[link](http://x)", "&amp; &lt;", "`code`", "@fig-x", "1. elenco", "# titolo", "$x$",
             "~sub~ ^sup^", "<!-- c -->", "\\", "{=html}", "x: y"]
    table = "| a |\n|---|\n" + "".join(f"| {md_escape(s)} |\n" for s in nasty)
    proc = subprocess.run([render_mod.pandoc_path(), "--from=markdown", "--to=plain"],
                          input=table.encode(), capture_output=True, check=True)
    out = proc.stdout.decode()
    for s in nasty:
        assert s in out, s
    proc = subprocess.run([render_mod.pandoc_path(), "--from=markdown", "--to=html5"],
                          input=table.encode(), capture_output=True, check=True)
    assert "<script" not in proc.stdout.decode() and "<img" not in proc.stdout.decode()


def test_unreproducible_date_is_refused(tmp_path):
    project = project_copy(tmp_path, edit=('date: "Dati al {{< var reference_date >}}"', "date: today"))
    with pytest.raises(RenderError, match="date: today"):
        render_report(project, tmp_path / "out", renderer="pandoc")


def test_unresolved_cross_reference_is_an_error(tmp_path):
    project = project_copy(tmp_path, edit=("in @fig-trend", "in @fig-nonexistent"))
    with pytest.raises(RenderError, match="fig-nonexistent"):
        render_report(project, tmp_path / "out", renderer="pandoc")


# --- renderer choice and the Quarto path (fake quarto on PATH) -------------------------------------

FAKE_QUARTO = """#!{python}
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
log = Path({log!r})
if args == ["--version"]:
    print({version!r})
    sys.exit(0)
with log.open("a") as fh:
    fh.write(json.dumps({{"argv": args, "cwd": os.getcwd(),
                          "epoch": os.environ.get("SOURCE_DATE_EPOCH")}}) + "\\n")
if {fail!r}:
    print("ERROR: something broke", file=sys.stderr)
    sys.exit(1)
project = Path(args[1])
to = args[args.index("--to") + 1]
out = project / args[args.index("--output-dir") + 1]
out.mkdir(exist_ok=True)
(log.parent / "quarto.yml").write_text((project / "_quarto.yml").read_text())
suffix = {{"html": ".html", "typst": ".pdf"}}[to]
(out / ("report" + suffix)).write_text("fake " + to)
"""


def fake_quarto(tmp_path: Path, monkeypatch, version: str = "1.6.40", fail: bool = False) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "quarto.log"
    script = bin_dir / "quarto"
    script.write_text(FAKE_QUARTO.format(python=sys.executable, log=str(log), version=version,
                                         fail=fail), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_auto_uses_quarto_when_recent(tmp_path, monkeypatch, caplog):
    log = fake_quarto(tmp_path, monkeypatch)
    caplog.set_level("INFO", logger="insiena.report")
    result = render_report(FIXTURE, tmp_path / "out", timestamp=1234)
    assert result.renderer == "quarto"
    assert "rendered by quarto" in caplog.text
    assert (tmp_path / "out" / "report.html").read_text() == "fake html"
    assert (tmp_path / "out" / "report.pdf").read_text() == "fake typst"
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c["argv"][c["argv"].index("--to") + 1] for c in calls] == ["html", "typst"]
    for call in calls:
        argv = call["argv"]
        assert argv[0] == "render" and "--no-execute" in argv and "--no-cache" in argv
        assert Path(argv[1]).resolve() != FIXTURE.resolve()  # a per-call copy, never the source
        assert call["epoch"] == "1234"
    config = yaml.safe_load((tmp_path / "quarto.yml").read_text())
    assert config["format"]["html"]["embed-resources"] is True
    assert config["format"]["typst"]["include-in-header"] == ["_insiena/typst_header.typ"]
    assert config["format"]["html"]["css"] == ["_insiena/quarto.css"]
    assert config["filters"][0] == "_insiena/crossref.lua"
    assert config["execute"]["enabled"] is False and config["freeze"] is False
    assert config["format"]["typst"]["papersize"] == "a4"  # the project's own options survive
    assert not (FIXTURE / "_insiena_output").exists()


def test_quarto_command(tmp_path):
    assert render_mod.quarto_command("/opt/quarto", tmp_path, "typst") == [
        "/opt/quarto", "render", str(tmp_path), "--to", "typst", "--no-execute", "--no-cache",
        "--output-dir", "_insiena_output"]


def test_quarto_config_accepts_short_forms():
    config = render_mod.quarto_config({"format": "html", "filters": "mine.lua", "lang": "it"})
    assert config["format"]["html"] == {"embed-resources": True, "css": ["_insiena/quarto.css"]}
    assert config["filters"] == ["_insiena/crossref.lua", "mine.lua"] and config["lang"] == "it"


def test_old_quarto_falls_back_to_pandoc(tmp_path, monkeypatch):
    fake_quarto(tmp_path, monkeypatch, version="1.3.450")
    assert render_mod.quarto_version() == (1, 3, 450)
    assert render_mod.choose_renderer("auto") == ("pandoc", None)
    with pytest.raises(RenderError, match="older than 1.4"):
        render_mod.choose_renderer("quarto")


def test_no_quarto_falls_back_to_pandoc(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert render_mod.choose_renderer("auto") == ("pandoc", None)
    with pytest.raises(RenderError, match="no usable quarto"):
        render_mod.choose_renderer("quarto")
    with pytest.raises(RenderError, match="renderer must be"):
        render_mod.choose_renderer("latex")


def test_failing_quarto_keeps_the_earlier_report(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("earlier")
    fake_quarto(tmp_path, monkeypatch, fail=True)
    with pytest.raises(RenderError, match="something broke"):
        render_report(FIXTURE, out)
    assert [p.name for p in out.iterdir()] == ["report.html"]
    assert (out / "report.html").read_text() == "earlier"


def test_several_documents_unlabelled_floats_and_unnumbered_sections(tmp_path):
    project = tmp_path / "multi"
    (project / "figures").mkdir(parents=True)
    shutil.copyfile(FIXTURE / "figures" / "trend.png", project / "figures" / "trend.png")
    (project / "_quarto.yml").write_text("lang: it\n", encoding="utf-8")
    (project / "_partial.qmd").write_text("not a document\n", encoding="utf-8")
    (project / "a.qmd").write_text(
        "---\ntitle: A\n---\n\n## Primo {#sec-primo}\n\n"
        "![Senza etichetta](figures/trend.png)\n\n| x |\n|---|\n| 1 |\n\n: Senza etichetta\n\n"
        "![Con etichetta](figures/trend.png){#fig-b}\n\n| y |\n|---|\n| 2 |\n\n: Con etichetta {#tbl-b}\n\n"
        "Vedi @fig-b, @tbl-b e @sec-primo.\n", encoding="utf-8")
    (project / "b.qmd").write_text("---\ntitle: B\noutput-file: bravo.html\n---\n\nTesto.\n",
                                   encoding="utf-8")
    result = render_report(project, tmp_path / "out", renderer="pandoc")
    assert sorted(p.name for p in result.outputs) == ["a.html", "a.pdf", "bravo.html", "bravo.pdf"]
    page = normalise(html.unescape(re.sub(r"<[^>]+>", "", (tmp_path / "out" / "a.html").read_text())))
    pdf = " ".join(pdf_pages(tmp_path / "out" / "a.pdf"))
    for text in (page, pdf):
        # Only labelled floats are numbered (Quarto's rule), in both outputs alike.
        assert "Figura 1: Con etichetta" in text and "Tabella 1: Con etichetta" in text
        assert "Figura 2" not in text and "Tabella 2" not in text
        assert "Vedi Figura 1, Tabella 1 e Primo." in text  # sections unnumbered: the title
