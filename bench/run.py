"""Measure the pipeline: cold build, no-op rerun, rerun after one raw file changes, all provinces.

    .venv/bin/python bench/run.py [--skip-all] [--label TEXT]

Each scenario runs Snakemake in a scratch copy of the project (no data, no results) against the
data mirror, with 2 cores, and records wall time, CPU time (user + system of every process) and peak
memory (largest resident set of any single process). Results are appended to bench/results.csv, so
earlier measurements stay for comparison, and docs/performance.md is regenerated from it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
RESULTS = ROOT / "bench" / "results.csv"
REPORT = ROOT / "docs" / "performance.md"
NOT_COPIED = {".venv", ".git", ".snakemake", "data", "results", "logs", "benchmarks", ".pytest_cache",
              "__pycache__", ".ipynb_checkpoints"}
TARGETS = {"cold_siena": 60.0, "noop_siena": 3.0, "all_provinces": 600.0}
MEMORY_TARGET_MB = {"all_provinces": 2048.0}
FIELDS = ["timestamp", "label", "commit", "scenario", "wall_s", "cpu_s", "peak_rss_mb", "jobs", "target_s",
          "status", "note"]


def scratch_copy(dest: Path) -> Path:
    def ignore(folder, names):
        # Run folders only at the top: config/benchmarks/ is source, not a Snakemake benchmark folder.
        top = Path(folder).resolve() == ROOT
        return [n for n in names if (n in NOT_COPIED and (top or n not in {"data", "results", "logs", "benchmarks"}))
                or n.endswith(".egg-info")]
    shutil.copytree(ROOT, dest, ignore=ignore)
    (dest / "data" / "raw").mkdir(parents=True, exist_ok=True)
    (dest / "data" / "processed").mkdir(parents=True, exist_ok=True)
    return dest


def measure(cmd: list[str], cwd: Path, env: dict) -> dict:
    """Run cmd; wall clock, CPU and peak RSS of the whole process tree (wait4 rusage)."""
    start = time.perf_counter()
    with open(cwd / "bench.stdout", "w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = (cwd / "bench.stdout").read_text(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{text[-3000:]}")
    jobs = re.findall(r"^(?:local)?rule (\w+):", text, re.M)
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "jobs": len(jobs), "rules": jobs}


def git_commit() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except OSError:
        mem = "unknown memory"
    snakemake_version = subprocess.run([SNAKEMAKE, "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores ({cpu}), {mem}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, Snakemake {snakemake_version}")


def run(args) -> list[dict]:
    mirror = Path(os.environ.get("INSIENA_MIRROR") or ROOT / ".." / "shared" / "data" / "raw").resolve()
    rows = []
    with tempfile.TemporaryDirectory(prefix="insiena-bench-") as tmp:
        tmp = Path(tmp)
        # A private mirror copy, so that scenario (c) can change one file's timestamp.
        private_mirror = tmp / "mirror"
        shutil.copytree(mirror, private_mirror)
        env = {**os.environ, "INSIENA_MIRROR": str(private_mirror), "MPLBACKEND": "Agg"}

        project = scratch_copy(tmp / "siena")
        base = [SNAKEMAKE, "--cores", "2"]
        m = measure(base, project, env)
        rows.append({"scenario": "cold_siena", **m, "note": "empty data/ and results/, environment installed"})
        m = measure(base, project, env)
        rows.append({"scenario": "noop_siena", **m, "note": "second run right after the cold build"})
        changed = private_mirror / "istat" / "demo_bilancio" / "P3_2025_it_Comuni.csv"
        os.utime(changed)  # same bytes, newer file: Snakemake re-retrieves and re-verifies it
        m = measure(base, project, env)
        rows.append({"scenario": "one_raw_file_changed", **m,
                     "note": "P3_2025 mirror file touched; reran: " + ", ".join(sorted(set(m["rules"])))})
        if not args.skip_all:
            project_all = scratch_copy(tmp / "all")
            m = measure(base + ["--config", "provinces=all"], project_all, env)
            rows.append({"scenario": "all_provinces", **m, "note": "107 provinces, cold"})
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = []
    for r in rows:
        target = TARGETS.get(r["scenario"])
        ok = target is None or r["wall_s"] <= target
        mem_target = MEMORY_TARGET_MB.get(r["scenario"])
        ok = ok and (mem_target is None or r["peak_rss_mb"] <= mem_target)
        out.append({"timestamp": stamp, "label": args.label, "commit": git_commit(), "scenario": r["scenario"],
                    "wall_s": r["wall_s"], "cpu_s": r["cpu_s"], "peak_rss_mb": r["peak_rss_mb"],
                    "jobs": r["jobs"], "target_s": target if target is not None else "",
                    "status": ("met" if ok else "missed") if target is not None else "",
                    "note": r["note"]})
    return out


def write_report(machine_desc: str) -> None:
    with open(RESULTS, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    lines = ["# Performance", "",
             "Measured by `bench/run.py` (`make bench`); every run appends to `bench/results.csv`, and this",
             "page is regenerated from it. Targets on a 2-core machine: cold build for one province <= 60 s,",
             "no-op rerun <= 3 s, all 107 provinces <= 10 minutes with peak memory <= 2 GB.", "",
             f"Last run on: {machine_desc}.", "",
             "| when (UTC) | label | commit | scenario | wall (s) | CPU (s) | peak RSS (MB) | jobs | target (s) | status | note |",
             "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in rows:
        lines.append("| " + " | ".join(r[f] for f in FIELDS) + " |")
    notes = ROOT / "bench" / "notes.md"
    if notes.is_file():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--skip-all", action="store_true", help="skip the all-provinces scenario")
    p.add_argument("--label", default="", help="free text stored with the results (e.g. 'before fix')")
    args = p.parse_args()
    rows = run(args)
    new = not RESULTS.is_file()
    with open(RESULTS, "a", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        if new:
            w.writeheader()
        w.writerows(rows)
    write_report(machine())
    for r in rows:
        print(f"{r['scenario']:>22}: {r['wall_s']:>8} s wall, {r['cpu_s']:>8} s CPU, "
              f"{r['peak_rss_mb']:>7} MB peak, {r['jobs']} jobs {r['status']}")
    print(f"written {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
