"""Snakemake entry point of rule ingest_themes (rules/themes.smk)."""

from insiena.ingest.themes import build_themes
from insiena.smk import step

with step(snakemake) as smk:  # noqa: F821 (injected by Snakemake)
    build_themes({k: smk.input[k] for k in smk.input.keys()},
                 {k: smk.output[k] for k in smk.output.keys()},
                 dict(smk.params.status))
