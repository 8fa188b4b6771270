"""Glue between Snakemake jobs and the package: logging to the rule's log file, readable failures.

Scripts stay thin:

    from insiena.smk import step
    with step(snakemake) as smk:
        build_something(smk.input.raw, smk.output.table)
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

from insiena.errors import InsienaError


def _configure_logging(log_file: str | None) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_file, mode="w", encoding="utf-8")
        fh.setFormatter(fmt)
        root.addHandler(fh)
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING)
    err.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(err)
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)


@contextlib.contextmanager
def step(smk, exit_on_error: bool = True):
    """Run a job body with its log configured; a known error ends the job with its message only."""
    log_file = smk.log[0] if len(smk.log) else None
    _configure_logging(log_file)
    logging.getLogger("insiena").info("rule %s: inputs %s -> outputs %s", smk.rule,
                                      list(smk.input), list(smk.output))
    try:
        yield smk
    except InsienaError as exc:
        logging.getLogger("insiena").error("%s", exc)
        if not exit_on_error:
            raise
        sys.exit(1)
    except Exception:
        logging.getLogger("insiena").exception("unexpected failure in rule %s", smk.rule)
        raise
