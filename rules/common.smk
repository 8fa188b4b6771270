# Shared configuration, registry and path helpers for every rule file.
import sys
from pathlib import Path

from insiena.config import validate_config, comparators_for
from insiena.errors import InsienaError
from insiena.registry import registry_rows

try:
    CFG = validate_config(config)
    # {source id: row}, file order; pandas is not imported at start-up (insiena.registry).
    REGISTRY = registry_rows()
except InsienaError as exc:
    # One line, no traceback: the message names the key or the registry row to fix.
    sys.exit(f"INSIEna: {exc}")

PROVINCES = CFG["provinces"]
RAW = "data/raw"
PROCESSED = "data/processed"
RESULTS = CFG["results_dir"]
MIRROR = CFG["mirror_dir"]
# The interpreter running Snakemake, so that shell jobs use the project's environment.
PYTHON = sys.executable

# Final targets registered by each rule file; `rule all` asks for all of them.
TARGETS = []


def all_targets():
    return sorted(set(TARGETS))


def raw(source_id):
    """Path under data/raw/ of one registry source."""
    return f"{RAW}/{REGISTRY[source_id]['path']}"


def raw_dataset(dataset):
    """Paths of every file of a registry dataset, in registry order."""
    ids = ids_of(dataset)
    if not ids:
        sys.exit(f"INSIEna: dataset '{dataset}' has no file in config/sources.csv")
    return [raw(i) for i in ids]


def ids_of(*datasets):
    """Source ids of the given registry datasets, in registry order."""
    return [i for i, row in REGISTRY.items() if row["dataset"] in datasets]


def reg(source_id, column):
    """One registry value of a source."""
    return REGISTRY[source_id][column]


def keep(path):
    """Declare an output that an earlier good run must not lose: Snakemake neither deletes it before
    the job nor leaves a failed job's version (it restores the previous file). Jobs still write
    atomically, so a killed run leaves the old or the new file, never half of one."""
    return update(path)


def log_of(rule_name, stem="{province}"):
    return f"logs/{rule_name}/{stem}.log"


def bench_of(rule_name, stem="{province}"):
    return f"benchmarks/{rule_name}/{stem}.tsv"
