"""Snakemake entry point of rule ingest_reception_presences (rules/reception.smk)."""

from insiena.ingest.reception import build_presences
from insiena.smk import step

with step(snakemake) as smk:  # noqa: F821 (injected by Snakemake)
    build_presences(smk.input.accoglienza, smk.input.reports, smk.output.table, smk.output.gaps,
                    status=smk.params.status)
