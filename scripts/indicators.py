"""Snakemake entry point of rule `indicators` (rules/indicators.smk)."""

from insiena.indicators import run
from insiena.smk import step

with step(snakemake) as smk:  # noqa: F821 (injected by Snakemake)
    run({name: smk.input[name] for name in smk.params.tables},
        {"table": smk.output.table, "coverage": smk.output.coverage,
         "siena2030": smk.output.siena2030, "samedi": smk.output.samedi},
        areas=smk.params.areas, zone_distretto=smk.params.zone_distretto)
