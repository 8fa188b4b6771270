"""What `make report` prints at the end, `make check`, and the config-file preflight."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from insiena.errors import ConfigError
from insiena.paths import project_root

# Tags of the YAML core schema: anything else (!!python/object, a local !tag) is refused.
SAFE_TAGS = {f"tag:yaml.org,2002:{t}" for t in
             ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary", "merge", "set",
              "omap", "pairs", "value")}


def config_overrides(args: list[str]) -> dict:
    """`--config key=value ...` of Snakemake arguments, parsed by Snakemake's own parser (so that
    `provinces=052`, `provinces=['053']` and `provinces=all` mean here what they meant to the run)."""
    from snakemake.cli import parse_config

    entries, taking = [], False
    for arg in args:
        if arg == "--config":
            taking = True
        elif arg.startswith("-"):
            taking = False
        elif taking:
            entries.append(arg)
    return parse_config(entries) if entries else {}


def outputs(snakemake_args: list[str] | None = None) -> int:
    """The reports of the provinces the run was for: config.yaml, the last --configfile, --config."""
    from insiena.config import load_config

    args = snakemake_args or []
    root = project_root()
    files = config_files(args)
    try:
        cfg = load_config(files[-1] if files else None, overrides=config_overrides(args), root=root)
    except ConfigError as exc:
        print(f"INSIEna: {exc}", file=sys.stderr)
        return 1
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


def config_files(args: list[str]) -> list[str]:
    """The files named by --configfile / --configfiles in Snakemake arguments."""
    out, i = [], 0
    while i < len(args):
        arg = args[i]
        if arg in ("--configfile", "--configfiles"):
            i += 1
            while i < len(args) and not args[i].startswith("-"):
                out.append(args[i])
                i += 1
            continue
        if arg.startswith(("--configfile=", "--configfiles=")):
            out.append(arg.split("=", 1)[1])
        i += 1
    return out


def _unsafe_node(node, path: str):
    """The first node (depth first) whose tag is outside the YAML core schema, with its key path."""
    import yaml

    if node.tag not in SAFE_TAGS:
        return node, path
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found = _unsafe_node(key, path) or _unsafe_node(value, f"{path}.{key.value}" if path else str(key.value))
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found = _unsafe_node(item, f"{path}[{i}]")
            if found:
                return found
    return None


def check_config_file(path: str | Path) -> None:
    """Refuse a YAML file with tags outside the core schema, naming the file, line, column and key.

    Snakemake loads --configfile itself (safely), but its message says only that the file "is not
    valid JSON or YAML"; an analyst needs to know which line to fix. `yaml.compose` builds the node
    tree without constructing any object, so nothing in the file runs here either.
    """
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            root = yaml.compose(fh, Loader=yaml.SafeLoader)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "line ?"
        raise ConfigError(f"{path}: {where}: check 'valid YAML' failed: {getattr(exc, 'problem', exc)}") from None
    found = _unsafe_node(root, "") if root is not None else None
    if found:
        node, key = found
        mark = node.start_mark
        raise ConfigError(f"{path}: line {mark.line + 1}, column {mark.column + 1}, key '{key or '(top level)'}': "
                          f"check 'standard YAML tags only' failed: tag {node.tag!r} refused (it would "
                          f"construct a Python object or an unknown type); nothing was run")


def preflight(snakemake_args: list[str]) -> int:
    """Check the project's config file and any --configfile before Snakemake reads them."""
    try:
        for path in [project_root() / "config" / "config.yaml", *config_files(snakemake_args)]:
            check_config_file(path)
    except ConfigError as exc:
        print(f"INSIEna: {exc}", file=sys.stderr)
        return 1
    return 0


def check(snakemake_args: list[str]) -> int:
    """Run only the retrieve and ingest rules, then print the per-source validation summary."""
    from insiena.input_summary import format_table

    if preflight(snakemake_args):
        return 1
    root = project_root()
    cmd = [str(Path(sys.executable).with_name("snakemake")), "check_inputs", *snakemake_args]
    code = subprocess.call(cmd, cwd=root)
    if code != 0:
        # The summary on disk is from the last accepted inputs: printing it now would suggest the
        # new file passed.
        print(f"\nINSIEna check: an input was rejected (exit {code}); the message above names the file, "
              f"row, column and check, and logs/validation/ holds the failure cases.", file=sys.stderr)
        return code
    import pandas as pd

    summary = root / "data" / "processed" / "input_summary.csv"
    print(f"\nINSIEna inputs: every file retrieved (sha256 verified) and validated. Details: {summary}\n")
    print(format_table(pd.read_csv(summary, dtype=str, keep_default_na=False)))
    return 0
