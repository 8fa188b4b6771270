"""`make check` (python -m insiena check -> Snakemake target check_inputs): every input retrieved and
validated, and a per-source summary whose numbers are checked here against the raw files."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import mirror_dir
from insiena.input_summary import FORMATS, format_table, model_checks

ROOT = Path(__file__).resolve().parents[1]


def test_every_format_names_existing_models_and_their_frame_checks():
    for dataset, (specs, _) in FORMATS.items():
        for spec in specs:
            name, checks = model_checks(spec)
            assert name, dataset
    assert model_checks("istat:P3Raw") == ("P3Raw", ["Maschi + Femmine = Totale", "balance identity"])
    name, checks = model_checks("istat:PosasRaw|PosasMaritalRaw")
    assert name == "PosasRaw or PosasMaritalRaw"
    assert checks == ["Totale maschi + Totale femmine = Totale", "ages 0-100 add up to the 999 total row",
                      "one row per territory and age"]


def test_every_dataset_read_by_an_ingest_has_a_format():
    with open(ROOT / "config" / "sources.csv", encoding="utf-8", newline="") as fh:
        datasets = {r["dataset"] for r in csv.DictReader(fh)}
    assert datasets - set(FORMATS) == {"boundaries"}, "boundaries are retrieved for the maps, not parsed"


def test_format_table_aligns_and_shortens():
    df = pd.DataFrame([
        {"source": "p3_2025_it_comuni", "files": "1", "rows": "7896", "first": "2025", "last": "2025-12-31",
         "dates": "3", "schema": "P3Raw", "totals": "Maschi + Femmine = Totale; balance identity",
         "parser_checks": "a; b", "cross_checks": "8032", "status": "ok"},
        {"source": "boundaries", "files": "114", "rows": "", "first": "", "last": "", "dates": "0", "schema": "",
         "totals": "", "parser_checks": "", "cross_checks": "0",
         "status": "retrieved, sha256 verified (used by the maps of the report)"},
    ])
    lines = format_table(df).split("\n")
    assert lines[0].split() == ["source", "rows", "dates", "checks", "status"]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split("  ")[0] == "p3_2025_it_comuni"
    assert "7 896" in lines[2] and "2025 .. 2025-12-31 (3)" in lines[2]
    assert "schema, 2 totals, 2 parser, 8032 cross-source" in lines[2]
    assert lines[3].startswith("boundaries (114 files)") and "sha256 only" in lines[3]
    # Columns line up: each starts at the same offset on every line.
    offset = lines[0].index("rows")
    assert all(len(ln) > offset for ln in lines)


@pytest.fixture(scope="module")
def checked(built, tmp_path_factory):
    """A copy of the session build (with its Snakemake state, so only check_inputs runs) after
    `python -m insiena check`."""
    project = tmp_path_factory.mktemp("check") / "insiena"
    shutil.copytree(built, project, symlinks=True)
    env = {**os.environ, "INSIENA_MIRROR": str(mirror_dir()), "INSIENA_ROOT": str(project), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "insiena", "check", "--cores", "2"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=900)
    return project, proc


@pytest.mark.integration
def test_check_runs_only_the_summary_on_a_built_project(checked):
    project, proc = checked
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "rule check_inputs:" in proc.stdout + proc.stderr
    for rule in ("ingest_istat", "indicators", "render_report"):
        assert f"rule {rule}:" not in proc.stdout + proc.stderr


@pytest.mark.integration
def test_check_prints_the_summary_table(checked):
    project, proc = checked
    out = proc.stdout
    assert "INSIEna inputs: every file retrieved (sha256 verified) and validated." in out
    table = out[out.index("source "):].split("\n")
    assert table[0].split() == ["source", "rows", "dates", "checks", "status"]
    p3 = next(ln for ln in table if ln.startswith("p3_2025_it_comuni "))
    assert "7 896" in p3 and "2025 .. 2025-12-31 (3)" in p3 and "8032 cross-source" in p3 and p3.endswith("ok")
    assert any(ln.startswith("anac_contracts (132 files)") for ln in table)
    assert any(ln.startswith("boundaries (114 files)") and "retrieved, sha256 verified" in ln for ln in table)


@pytest.mark.integration
def test_summary_values_match_the_raw_files(checked):
    project, _ = checked
    df = pd.read_csv(project / "data/processed/input_summary.csv", dtype=str, keep_default_na=False)
    rows = df.set_index("source")
    registry = pd.read_csv(project / "config/sources.csv", dtype=str, keep_default_na=False)
    # Every registry file is described, alone or with its dataset.
    covered = set(rows.index) | {i for i, d in zip(registry["id"], registry["dataset"]) if d in rows.index}
    assert set(registry["id"]) <= covered

    p3 = rows.loc["p3_2025_it_comuni"]
    # 7,899 lines = title + header + 7,896 comuni + the note (counted by hand in the raw file).
    assert p3["rows"] == "7896" and p3["files"] == "1"
    assert (p3["first"], p3["last"], p3["dates"]) == ("2025", "2025-12-31", "3")
    # 7,896 comuni x 15 items x 3 sexes in the balance; population at 1 January and 31 December.
    assert p3["tables"] == "demographic_balance 361440; population 48192"
    assert p3["schema"] == "P3Raw" and p3["totals"] == "Maschi + Femmine = Totale; balance identity"
    assert "every comune of the configured provinces present" in p3["parser_checks"]
    # Checked against SDMX 29_316 FJAN comune by comune (data/processed/checks/consistency.csv).
    assert (p3["cross_checks"], p3["cross_mismatches"]) == ("8032", "0")
    assert (p3["ingest"], p3["status"]) == ("ingest_istat", "ok")

    posas = rows.loc["posas_2025_it_province"]
    # 107 provinces x (ages 0-100 + the 999 total row).
    assert posas["rows"] == str(107 * 102)
    assert (posas["first"], posas["last"]) == ("2025-01-01", "2025-01-01")
    assert posas["schema"] == "PosasRaw or PosasMaritalRaw"

    fjan = rows.loc["istat_29_316_fjan"]
    assert fjan["ingest"] == "ingest_istat; ingest_themes"
    assert (fjan["first"], fjan["last"], fjan["dates"]) == ("2020-01-01", "2025-01-01", "6")

    anac = rows.loc["anac_contracts"]
    assert anac["files"] == "132" and anac["ingest"] == "ingest_reception_contracts"
    assert rows.loc["boundaries", "files"] == "114"
    assert rows.loc["boundaries", "status"] == "retrieved, sha256 verified (used by the maps of the report)"
    assert rows.loc["reception_figures", "dataset"] == "config"
    # Nothing read by an ingest goes without its raw model.
    read = df[df["ingest"] != ""]
    assert (read["schema"] != "").all(), read.loc[read["schema"] == "", "source"].tolist()
    assert set(df["status"]) <= {"ok", "retrieved, sha256 verified (used by the maps of the report)"}
