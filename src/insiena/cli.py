"""What `make report` prints at the end, and `make check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from insiena.config import load_config
from insiena.paths import project_root


def outputs() -> int:
    root = project_root()
    cfg = load_config(root=root)
    results = root / cfg["results_dir"]
    print("\nINSIEna outputs")
    processed = sorted((root / "data" / "processed").glob("*.parquet"))
    print(f"  processed tables: {root / 'data' / 'processed'} ({len(processed)} national tables)")
    for prov in cfg["provinces"]:
        folder = results / prov
        reports = [p for p in (folder / "report.html", folder / "report.pdf") if p.is_file()]
        if reports:
            for p in reports:
                print(f"  {prov}: {p}")
        else:
            print(f"  {prov}: no report yet in {folder}")
    return 0


def check(snakemake_args: list[str]) -> int:
    """Run only the retrieve and ingest rules, then print the per-source validation summary."""
    root = project_root()
    cmd = [str(Path(sys.executable).with_name("snakemake")), "check_inputs", *snakemake_args]
    code = subprocess.call(cmd, cwd=root)
    summary = root / "data" / "processed" / "input_summary.csv"
    if summary.is_file():
        print(summary.read_text(encoding="utf-8"))
    return code
