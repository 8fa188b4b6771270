"""Snakemake entry point of rule report_data (rules/report.smk): one province's report data."""

from pathlib import Path

from insiena.report.build import build_province
from insiena.smk import step

INPUTS = ("indicators", "coverage", "territories", "contracts", "published", "centres", "centres_comuni",
          "centres_status")

with step(snakemake) as smk:  # noqa: F821 (injected by Snakemake)
    paths = {k: smk.input[k] for k in INPUTS}
    paths["shared"] = str(Path(smk.input.shared[0]).parent)
    paths["boundaries"] = smk.input.boundaries[0] if len(smk.input.boundaries) else None
    paths["boundaries_source"] = smk.params.boundaries_source
    build_province(smk.wildcards.province, paths, {k: smk.output[k] for k in smk.output.keys()},
                   dict(smk.params.cfg))
