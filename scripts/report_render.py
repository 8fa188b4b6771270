"""Snakemake entry point of rule render_report (rules/report.smk). Imports only the renderer: no
pandas, no matplotlib, so 107 renders stay cheap."""

import logging
from pathlib import Path

from insiena.report.render import render_report
from insiena.smk import step

with step(snakemake) as smk:  # noqa: F821 (injected by Snakemake)
    result = render_report(smk.input.report_src, Path(smk.output.html).parent, formats=("html", "pdf"),
                           renderer=smk.params.renderer)
    logging.getLogger("insiena").info("renderer: %s (%.1f s)", result.renderer, result.seconds)
