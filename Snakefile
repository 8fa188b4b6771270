# INSIEna pipeline: retrieve -> ingest -> indicators -> figures and tables -> report.
# Rules live in rules/*.smk; the logic lives in the insiena package (src/insiena).
# `snakemake -n` shows the plan; `make report` runs it with profiles/default.

configfile: "config/config.yaml"


include: "rules/common.smk"


rule all:
    """Everything the configured provinces need, from raw files to the report."""
    input:
        lambda wc: all_targets(),
    default_target: True


include: "rules/retrieve.smk"
include: "rules/istat.smk"
include: "rules/reception.smk"
include: "rules/themes.smk"
include: "rules/indicators.smk"
include: "rules/report.smk"
include: "rules/check.smk"
