"""The real Snakemake workflow on the mirror: retrieval, no-op rerun, checksum failure."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from conftest import copy_project, run_snakemake

pytestmark = pytest.mark.integration
TARGET = "data/raw/istat/demo_bilancio/P3_2025_it_Comuni.csv"


def test_full_run_retrieves_every_file_and_a_second_run_does_nothing(built, mirror):
    for rel in ("istat/sdmx/istat_29_316_FJAN.csv", "reception/ondata_cruscotto/accoglienza.csv"):
        assert (built / "data/raw" / rel).read_bytes() == (mirror / rel).read_bytes()
    assert (built / "logs/retrieve/sdmx_29_316_fjan.log").is_file()
    assert (built / "benchmarks/retrieve/sdmx_29_316_fjan.tsv").is_file()
    dry = run_snakemake(built, "-n")
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_corrupted_mirror_byte_fails_with_checksum_message_and_keeps_good_copy(tmp_path, mirror):
    project = copy_project(tmp_path / "p")
    scratch = tmp_path / "mirror"
    (scratch / "istat/demo_bilancio").mkdir(parents=True)
    src = mirror / "istat/demo_bilancio/P3_2025_it_Comuni.csv"
    shutil.copyfile(src, scratch / "istat/demo_bilancio/P3_2025_it_Comuni.csv")
    env = {"INSIENA_MIRROR": str(scratch)}
    run_snakemake(project, TARGET, "--config", "download=never", env=env)
    good = (project / TARGET).read_bytes()

    data = bytearray(good)
    data[5000] ^= 0xFF
    (scratch / "istat/demo_bilancio/P3_2025_it_Comuni.csv").write_bytes(bytes(data))
    proc = run_snakemake(project, TARGET, "--config", "download=never", env=env, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "checksum mismatch" in out
    assert "89cc70a26cac52e963f87a6cc2326e0448af2a002b23456c02d1f72e29fd8dfa" in out
    assert hashlib.sha256(bytes(data)).hexdigest() in out
    assert (project / TARGET).read_bytes() == good


def test_wrong_province_in_config_is_one_line(tmp_path):
    project = copy_project(tmp_path / "p")
    proc = run_snakemake(project, "-n", "--config", "provinces=['999']", check=False)
    assert proc.returncode != 0
    line = [l for l in (proc.stdout + proc.stderr).splitlines() if "INSIEna:" in l]
    assert line == ["INSIEna: config: key 'provinces': '999' is not an ISTAT province code (see config/territory_crosswalk.csv)"]
