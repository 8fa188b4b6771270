"""Snakemake entry point of rule check_inputs (rules/check.smk)."""

from insiena.input_summary import build_input_summary
from insiena.smk import step

with step(snakemake) as smk:  # noqa: F821 (injected by Snakemake)
    build_input_summary(smk.input.registry, smk.params.raw_dir, smk.params.processed, list(smk.params.checks),
                        dict(smk.params.ingested), smk.output.summary)
