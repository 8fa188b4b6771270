"""Snakemake entry point of rule report_shared (rules/report.smk)."""

from pathlib import Path

from insiena.report.shared import build_shared
from insiena.smk import step

with step(snakemake) as smk:  # noqa: F821 (injected by Snakemake)
    build_shared(Path(smk.output[0]).parent, checks=list(smk.input.checks), population=smk.input.population)
