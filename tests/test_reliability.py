"""Faults: two clean runs are byte-identical; a run killed with SIGKILL and rerun gives the same bytes."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SNAKEMAKE, copy_project, mirror_dir, run_snakemake

pytestmark = pytest.mark.integration

# Outputs whose bytes must not depend on the run. The PDF is compared separately (see
# docs/report-rendering.md for the fields that may differ).
COMPARED = ("data/processed", "results")


def digests(project: Path) -> dict[str, str]:
    out = {}
    for top in COMPARED:
        for path in sorted((project / top).rglob("*")):
            if path.is_file() and not path.name.startswith(".") and path.suffix != ".pdf":
                out[path.relative_to(project).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def assert_same_outputs(a: Path, b: Path) -> None:
    da, db = digests(a), digests(b)
    assert sorted(da) == sorted(db), f"different file sets: {sorted(set(da) ^ set(db))[:10]}"
    differing = [k for k in da if da[k] != db[k]]
    assert not differing, f"outputs differ between runs: {differing[:10]}"
    assert da, "no outputs compared"


def test_two_clean_runs_give_identical_bytes(built, tmp_path):
    second = copy_project(tmp_path / "second")
    run_snakemake(second)
    assert_same_outputs(built, second)


def test_sigkill_at_a_random_point_then_rerun_gives_identical_bytes(built, tmp_path):
    seed = int(os.environ.get("INSIENA_KILL_SEED", time.time_ns() % 10_000))
    # Anywhere in a cold build (about 90 s on 2 cores): retrieval, an ingest, the indicators, the
    # report's figures or its rendering. A delay past the end leaves nothing to kill: the rerun is a no-op.
    delay = random.Random(seed).uniform(3.0, 90.0)
    project = copy_project(tmp_path / "killed")
    env = {**os.environ, "INSIENA_MIRROR": str(mirror_dir()), "INSIENA_ROOT": str(project), "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([SNAKEMAKE, "--cores", "2"], cwd=project, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole tree, as an OOM killer or a power cut would
        proc.wait()
    # A killed Snakemake leaves its lock behind; removing it is the documented recovery step.
    run_snakemake(project, "--unlock")
    run_snakemake(project)
    try:
        assert_same_outputs(built, project)
    except AssertionError as exc:
        raise AssertionError(f"seed {seed}, killed after {delay:.1f} s: {exc}") from None
