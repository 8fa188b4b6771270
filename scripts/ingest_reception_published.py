"""Snakemake entry point of rule ingest_reception_published (rules/reception.smk)."""

from insiena.ingest.reception import build_published_and_centres
from insiena.smk import step

with step(snakemake) as smk:  # noqa: F821 (injected by Snakemake)
    build_published_and_centres(smk.input.figures, smk.input.centres[0] if smk.input.centres else "",
                                smk.output.published, smk.output.centres, smk.output.centres_comuni,
                                smk.output.centres_status, centres_setting=smk.params.centres_file)
