"""Snakemake entry point of rule `indicators_csv` (rules/indicators.smk)."""

from insiena.indicators.build import export_csv
from insiena.smk import step

with step(snakemake) as smk:  # noqa: F821 (injected by Snakemake)
    export_csv(smk.input.table, smk.output.csv)
