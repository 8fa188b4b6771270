"""Snakemake entry point of rule ingest_istat (see rules/istat.smk)."""

from insiena.ingest.istat import build_istat
from insiena.smk import step

with step(snakemake) as smk:  # noqa: F821 (injected by Snakemake)
    build_istat(
        smk.params.sources,
        crosswalk_path=smk.input.crosswalk,
        provinces=list(smk.params.provinces),
        zone_distretto=dict(smk.params.zone_distretto),
        territories_out=smk.output.territories,
        population_out=smk.output.population,
        balance_out=smk.output.balance,
        consistency_out=smk.output.consistency,
    )
