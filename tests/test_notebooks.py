"""The researchers' notebooks (notebooks/*.ipynb).

Fast checks: the notebooks are stored without outputs, with minimal metadata, start with their question and
how to run them, and read data only through `insiena.load`, one call per table.

Integration: each notebook runs top to bottom (nbclient, kernel `python3`) on the processed data of the
session build `built`; any cell error fails the test. The kernel is the project's: jupyter_client launches a
kernelspec whose argv starts with `python` with the interpreter of the process that starts it (here the
venv's), and the kernel inherits INSIENA_ROOT=<built>, which `insiena.paths.project_root()` honours. A cell
appended in memory prints the kernel's sys.prefix and project root, and the test checks both. The printed
numbers are compared with the processed tables, read independently with `insiena.load(..., root=built)`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# Same guard as insiena.config: jsonschema (imported by nbformat) would otherwise compile the IRI grammars
# of rfc3987_syntax at import time, about 3 s; notebook validation uses no IRI format.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import nbformat  # noqa: E402
import pytest  # noqa: E402

import insiena  # noqa: E402
from insiena import fmt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = ["01_popolazione_straniera.ipynb", "02_accoglienza.ipynb", "03_benchmark.ipynb"]
# Reading files directly instead of through insiena.load: refused in code cells.
FORBIDDEN = ("read_parquet", "read_csv", "read_excel", "read_table", "pyarrow", "data/raw", "data/processed",
             "open(")
PROCESSED_TABLES = {"territories", "population", "demographic_balance", "foreign_balance", "protection_permits",
                    "labour_rates", "education_levels", "reception_presences", "reception_contracts",
                    "reception_contracts_summary", "reception_published", "reception_centres",
                    "reception_centres_comuni", "indicators"}
LOAD_CALL = re.compile(r"""insiena\.load\(\s*["'](\w+)["']""")


def read(name: str):
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def code_cells(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


# ------------------------------------------------------------------------------------ fast checks

def test_the_three_notebooks_exist_and_the_readme_lists_them():
    assert sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb")) == NOTEBOOKS
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    for name in NOTEBOOKS:
        assert f"`{name}`" in readme
    assert "make report" in readme and "make notebooks" in readme


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_stored_without_outputs(name):
    nb = read(name)
    nbformat.validate(nb)
    assert set(nb.metadata) <= {"kernelspec", "language_info"}, f"{name}: extra metadata {sorted(nb.metadata)}"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(nb.cells):
        where = f"{name}, cell {i}"
        assert not cell.get("attachments"), f"{where}: attachment"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{where}: has outputs (clear them before committing)"
            assert cell.execution_count is None, f"{where}: has an execution count"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_starts_with_its_question_and_how_to_run_it(name):
    first = read(name).cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), f"{name}: no title first"
    for words in ("**Domanda.**", "## Come eseguirlo", "make report", "make notebooks"):
        assert words in first.source, f"{name}: first cell lacks {words!r}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_reads_data_only_through_insiena_load_once_per_table(name):
    sources = code_cells(read(name))
    for src in sources:
        for word in FORBIDDEN:
            assert word not in src, f"{name}: code cell uses {word!r}:\n{src}"
    tables = [t for src in sources for t in LOAD_CALL.findall(src)]
    assert tables, f"{name}: no insiena.load call"
    repeated = sorted({t for t in tables if tables.count(t) > 1})
    assert not repeated, f"{name}: tables loaded more than once: {repeated}"
    assert set(tables) <= PROCESSED_TABLES, f"{name}: unknown tables {sorted(set(tables) - PROCESSED_TABLES)}"


# ------------------------------------------------------------------------------------ execution

def execute(name: str, built: Path):
    """Run the notebook in a python3 kernel that reads the built project; return the executed notebook."""
    from nbclient import NotebookClient

    nb = read(name)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, insiena.paths\nprint('KERNEL_PREFIX', sys.prefix)\nprint('PROJECT_ROOT', insiena.paths.project_root())"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INSIENA_ROOT", str(built))
        mp.delenv("MPLBACKEND", raising=False)   # let the kernel use the inline backend
        client = NotebookClient(nb, kernel_name="python3", timeout=600,
                                resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
        client.execute()   # raises CellExecutionError, with the cell and the traceback, on any error
    return nb


def printed(nb) -> str:
    """Everything the notebook printed or displayed as text (streams, text/plain, text/html)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                parts.extend(out.data.get(kind, "") for kind in ("text/plain", "text/html"))
    return "\n".join(parts)


def html_tables(nb) -> list[str]:
    return [out.data["text/html"] for cell in nb.cells for out in cell.get("outputs", [])
            if out.output_type in ("execute_result", "display_data") and "<table" in out.data.get("text/html", "")]


def images(nb) -> int:
    return sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))


def check_kernel(nb, built: Path) -> None:
    text = printed(nb)
    assert f"KERNEL_PREFIX {sys.prefix}" in text, "the kernel does not run in the project's environment"
    assert f"PROJECT_ROOT {built.resolve()}" in text, "the kernel does not read the built project"
    assert "Traceback" not in text


@pytest.fixture(scope="module")
def province(built) -> str:
    import insiena.config

    return insiena.config.load_config(root=built)["provinces"][0]


@pytest.mark.integration
def test_01_popolazione_straniera_runs_and_shows_the_processed_numbers(built, province):
    nb = execute("01_popolazione_straniera.ipynb", built)
    check_kernel(nb, built)
    text = printed(nb)

    territories = insiena.load("territories", root=built, province_code=province)
    name = territories.loc[territories["territory_level"] == "provincia", "territory_name"].iloc[0]
    comuni = territories[(territories["territory_level"] == "comune") & territories["current"]]
    if province == "052":
        assert len(comuni) == 35   # the province of Siena, ISTAT list 2025
    assert f"{len(comuni)} comuni nella provincia di {name}" in text
    first_table = html_tables(nb)[0]
    assert f"{len(comuni)} rows × 3 columns" in first_table
    assert all(c in first_table for c in comuni["territory_code"])

    census = insiena.load("population", root=built, territory_code=province, date="2025-01-01",
                          release="census_count", sex="totale")
    census = census[census["age"].isna()].set_index("citizenship")["value"]
    assert (f"{fmt.fmt_int(census['stranieri'])} stranieri su {fmt.fmt_int(census['totale'])} residenti "
            f"({fmt.fmt_pct(census['stranieri'] / census['totale'] * 100)})") in text
    assert "differenza massima tra indicatore e ricalcolo: 0.0" in text

    fjan = insiena.load("population", root=built, territory_code=province, source_id="istat_29_316_fjan",
                        date=["2021-01-01", "2022-01-01"], citizenship="stranieri", sex="totale")
    fjan = fjan.set_index("date")["value"]
    assert f"{fmt.fmt_int(fjan['2021-01-01'])} -> {fmt.fmt_int(fjan['2022-01-01'])}" in text
    if province == "052":
        assert "29.531 -> 28.310" in text   # docs/istat-sources.md, checked in the raw file

    acq = insiena.load("demographic_balance", root=built, territory_code=province, period="2025",
                       measure="citizenship_acquisitions", sex="totale")
    assert f"(provincia: {fmt.fmt_int(acq['value'].iloc[0])})" in text
    assert "POPSTRBIL1 = numeratore dell'indicatore: True" in text
    assert images(nb) >= 5


@pytest.mark.integration
def test_02_accoglienza_runs_and_states_each_source_level(built, province):
    nb = execute("02_accoglienza.ipynb", built)
    check_kernel(nb, built)
    text = printed(nb)

    contracts = insiena.load("reception_contracts", root=built, province_code=province)
    assert f"nella provincia di {contracts['province_name'].iloc[0]}: {len(contracts)}," in text
    assert "Indicatore reception_contracts = conteggio dei lotti: True" in text
    assert "Somma per anno ricalcolata = tabella di sintesi: True" in text
    assert "Livelli nel cruscotto: ['italia', 'regione']" in text
    assert "Righe della provincia nel cruscotto: 0" in text
    assert "Primo report SAI (break_flag): 2021-01-15" in text
    # docs/reception-sources.md: the four report dates missing from the file
    assert ("Date mancanti (non interpolate): 15 ottobre 2020; 15 marzo 2021; 15 luglio 2021; 31 marzo 2024"
            in text)

    rates = insiena.load("indicators", root=built, indicator_id="reception_presences_per_1000_residents",
                         territory_code=["09", "IT"])
    last = rates[rates["period"] == rates["period"].max()].set_index("territory_name")["value"]
    for territory, value in last.items():
        assert f"{territory} {fmt.fmt_num(value, 2)} per 1.000 residenti" in text
    assert images(nb) >= 3


@pytest.mark.integration
def test_03_benchmark_runs_and_leaves_config_untouched(built, province):
    benchmark_files = {p: p.read_bytes() for p in (built / "config" / "benchmarks").iterdir() if p.is_file()}
    nb = execute("03_benchmark.ipynb", built)
    check_kernel(nb, built)
    text = printed(nb)

    assert "retta ricalcolata = retta della pipeline: True" in text
    path = insiena.load("indicators", root=built, indicator_id="share_65_plus_total__siena2030_path",
                        territory_code="052")
    row = path.sort_values("period").iloc[-1]
    assert (f"{fmt.fmt_num(row['value'], 1)}% contro {fmt.fmt_num(row['benchmark_value'], 1)}% della retta SIENA2030 "
            f"(scarto {fmt.fmt_num(row['gap'], 1, signed=True)} p.p.)") in text
    area = re.search(r"area SAMEDI al [^:]+: (\S+) \(tabella\) = (\S+) \(somme delle province\)", text)
    assert area and area.group(1) == area.group(2)
    assert "Righe da aggiungere in fondo a config/benchmarks/siena2030.csv" in text
    assert "multiple_fields_uniqueness" in text   # the broken table is refused
    assert {p: p.read_bytes() for p in benchmark_files} == benchmark_files, "the notebook wrote to config/"
    assert images(nb) >= 2
