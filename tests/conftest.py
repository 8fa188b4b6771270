"""Shared fixtures: the project root, the data mirror, and one real pipeline build per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
# Folders of the working copy that a build in a scratch copy must not inherit.
NOT_COPIED = {".venv", ".git", ".snakemake", "data", "results", "logs", "benchmarks", ".pytest_cache",
              "__pycache__", ".ipynb_checkpoints"}
TOP_LEVEL_ONLY = {"data", "results", "logs", "benchmarks"}


def mirror_dir() -> Path:
    path = Path(os.environ.get("INSIENA_MIRROR") or ROOT / ".." / "shared" / "data" / "raw").resolve()
    if not path.is_dir():
        pytest.fail(f"data mirror not found at {path}: set INSIENA_MIRROR")
    return path


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def mirror() -> Path:
    return mirror_dir()


def copy_project(dest: Path) -> Path:
    """A scratch copy of the project's source (no data, no results), to run Snakemake in."""
    def ignore(folder, names):
        # Run folders (data, results, logs, benchmarks) only at the top: config/benchmarks/ is source.
        top = Path(folder).resolve() == ROOT
        return [n for n in names if (n in NOT_COPIED and (top or n not in TOP_LEVEL_ONLY))
                or n.endswith(".egg-info")]
    shutil.copytree(ROOT, dest, ignore=ignore)
    for sub in ("data/raw", "data/processed"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    return dest


def run_snakemake(project: Path, *args: str, check: bool = True, timeout: int = 1500,
                  env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "INSIENA_MIRROR": str(mirror_dir()), "INSIENA_ROOT": str(project),
                "MPLBACKEND": "Agg", **(env or {})}
    proc = subprocess.run([SNAKEMAKE, "--cores", "2", *args], cwd=project, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The real pipeline, run once on the mirror for the default configuration."""
    project = copy_project(tmp_path_factory.mktemp("build") / "insiena")
    run_snakemake(project)
    return project
