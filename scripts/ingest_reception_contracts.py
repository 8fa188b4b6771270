"""Snakemake entry point of rule ingest_reception_contracts (rules/reception.smk)."""

from insiena.ingest.reception import build_contracts
from insiena.smk import step

with step(snakemake) as smk:  # noqa: F821 (injected by Snakemake)
    build_contracts(list(smk.input.files), list(smk.params.source_ids), smk.input.territories,
                    smk.output.table, smk.output.summary, status=smk.params.status)
