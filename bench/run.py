"""Measure the pipeline: cold build, no-op rerun, rerun after one raw file changes, all provinces.

    .venv/bin/python bench/run.py [--skip-all] [--label TEXT]

Each scenario runs Snakemake in a scratch copy of the project (no data, no results) against the
data mirror, with 2 cores, and records wall time, CPU time (user + system of every process, from
wait4), peak memory of the largest single process (wait4) and of the whole process tree at once
(sampled every 0.1 s), and the per-rule totals of Snakemake's own benchmark files. Results are
appended to bench/results.csv and bench/rules.csv, so earlier measurements stay for comparison, and
docs/performance.md is regenerated from them.
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
import threading
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
RULES = ROOT / "bench" / "rules.csv"
FIELDS = ["timestamp", "label", "commit", "scenario", "wall_s", "cpu_s", "peak_rss_mb", "peak_tree_rss_mb", "jobs",
          "target_s", "status", "machine", "note"]
RULE_FIELDS = ["timestamp", "scenario", "rule", "jobs", "wall_s", "cpu_s", "max_rss_mb"]


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


def _tree_rss(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (0 once it is gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def measure(cmd: list[str], cwd: Path, env: dict) -> dict:
    """Run cmd; wall clock, CPU and peak RSS of the whole process tree (wait4 rusage), and the peak
    of the tree's summed RSS (two jobs at once weigh on the machine together)."""
    started = time.time()
    start = time.perf_counter()
    with open(cwd / "bench.stdout", "w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        peak = [0.0]
        done = threading.Event()

        def sample():
            while not done.wait(0.1):
                peak[0] = max(peak[0], _tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        sampler.join()
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = (cwd / "bench.stdout").read_text(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{text[-3000:]}")
    jobs = re.findall(r"^(?:local)?rule (\w+):", text, re.M)
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "peak_tree_rss_mb": round(peak[0], 1),
            "jobs": len([j for j in jobs if j != "all"]), "rules": jobs, "per_rule": per_rule(cwd, started)}


def per_rule(project: Path, since: float) -> list[dict]:
    """Totals by rule of the benchmark files this run wrote (benchmarks/<rule>/..., newer than
    `since`: earlier runs' files stay, as Snakemake counts them among a job's outputs)."""
    totals: dict[str, dict] = {}
    for tsv in sorted((project / "benchmarks").rglob("*.tsv")):
        if tsv.stat().st_mtime < since:
            continue
        rule = tsv.relative_to(project / "benchmarks").parts[0]
        with open(tsv, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        if not rows:
            continue
        row = rows[-1]
        t = totals.setdefault(rule, {"rule": rule, "jobs": 0, "wall_s": 0.0, "cpu_s": 0.0, "max_rss_mb": 0.0})
        t["jobs"] += 1
        t["wall_s"] += float(row["s"])
        t["cpu_s"] += float(row.get("cpu_time") or 0)
        rss = row.get("max_rss") or "0"
        t["max_rss_mb"] = max(t["max_rss_mb"], float(rss) if rss not in ("", "-") else 0.0)
    return [{**t, "wall_s": round(t["wall_s"], 2), "cpu_s": round(t["cpu_s"], 2), "max_rss_mb": round(t["max_rss_mb"], 1)}
            for t in sorted(totals.values(), key=lambda t: -t["wall_s"])]


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


def run(args) -> tuple[list[dict], list[dict]]:
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
    where = machine()
    out, rules = [], []
    for r in rows:
        target = TARGETS.get(r["scenario"])
        ok = target is None or r["wall_s"] <= target
        mem_target = MEMORY_TARGET_MB.get(r["scenario"])
        # The memory target applies to the machine as a whole: the summed RSS of the jobs running at once.
        ok = ok and (mem_target is None or r["peak_tree_rss_mb"] <= mem_target)
        out.append({"timestamp": stamp, "label": args.label, "commit": git_commit(), "scenario": r["scenario"],
                    "wall_s": r["wall_s"], "cpu_s": r["cpu_s"], "peak_rss_mb": r["peak_rss_mb"],
                    "peak_tree_rss_mb": r["peak_tree_rss_mb"], "jobs": r["jobs"],
                    "target_s": target if target is not None else "",
                    "status": ("met" if ok else "missed") if target is not None else "",
                    "machine": where, "note": r["note"]})
        rules += [{"timestamp": stamp, "scenario": r["scenario"], **t} for t in r["per_rule"]]
    return out, rules


def _read(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _append(path: Path, fields: list[str], rows: list[dict]) -> None:
    new = not path.is_file()
    with open(path, "a", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        if new:
            w.writeheader()
        w.writerows(rows)


def write_report() -> None:
    rows = _read(RESULTS)
    machines = sorted({r["machine"] for r in rows if r.get("machine")})
    lines = ["# Performance", "",
             "Measured by `bench/run.py` (`make bench`); every run appends to `bench/results.csv` and",
             "`bench/rules.csv`, and this page is regenerated from them, so earlier measurements stay for",
             "comparison. Targets on a 2-core machine: (a) cold build for one province <= 60 s, (b) no-op",
             "rerun <= 3 s, (d) all 107 provinces <= 10 minutes with peak memory <= 2 GB.", "",
             "Columns: *wall* is the elapsed time of the `snakemake --cores 2` command; *CPU* the user +",
             "system time of it and every process it started; *peak RSS* the largest single process;",
             "*peak tree* the largest sum of the resident memory of all its processes at one time (sampled",
             "every 0.1 s), which is what the 2 GB target is checked against.", "",
             "Machines measured:", ""]
    lines += [f"- {m}" for m in machines] + [""]
    lines += ["| when (UTC) | label | commit | scenario | wall (s) | CPU (s) | peak RSS (MB) | peak tree (MB) "
              "| jobs | target (s) | status | note |",
              "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    shown = [f for f in FIELDS if f != "machine"]
    for r in rows:
        lines.append("| " + " | ".join((r.get(f) or "").replace("|", "/") for f in shown) + " |")
    rules = _read(RULES)
    if rules:
        last = max(r["timestamp"] for r in rules)
        lines += ["", f"## Where the time goes (run of {last})", "",
                  "Totals by rule of Snakemake's benchmark files (`benchmarks/<rule>/`); jobs run two at a time,",
                  "so wall times add up to more than the scenario's wall time. Snakemake samples the CPU time",
                  "of short jobs coarsely: the scenario's own CPU figure above is the exact one.", ""]
        for scenario in dict.fromkeys(r["scenario"] for r in rules if r["timestamp"] == last):
            lines += [f"### {scenario}", "", "| rule | jobs | wall (s) | CPU (s) | max RSS (MB) |",
                      "| --- | ---: | ---: | ---: | ---: |"]
            for r in rules:
                if r["timestamp"] == last and r["scenario"] == scenario:
                    lines.append(f"| {r['rule']} | {r['jobs']} | {r['wall_s']} | {r['cpu_s']} | {r['max_rss_mb']} |")
            lines.append("")
    notes = ROOT / "bench" / "notes.md"
    if notes.is_file():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--skip-all", action="store_true", help="skip the all-provinces scenario")
    p.add_argument("--label", default="", help="free text stored with the results (e.g. 'before fix')")
    p.add_argument("--report-only", action="store_true", help="only regenerate docs/performance.md")
    args = p.parse_args()
    if not args.report_only:
        rows, rules = run(args)
        _append(RESULTS, FIELDS, rows)
        _append(RULES, RULE_FIELDS, rules)
        for r in rows:
            print(f"{r['scenario']:>22}: {r['wall_s']:>8} s wall, {r['cpu_s']:>8} s CPU, "
                  f"{r['peak_tree_rss_mb']:>7} MB peak (tree), {r['jobs']} jobs {r['status']}")
    write_report()
    print(f"written {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
