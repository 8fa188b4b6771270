"""Where the project lives on disk. Every path the package writes is relative to the project root."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The folder holding the Snakefile: INSIENA_ROOT if set, else the nearest parent of cwd with one."""
    env = os.environ.get("INSIENA_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "Snakefile").is_file() and (folder / "config").is_dir():
            return folder
    source_checkout = Path(__file__).resolve().parents[2]
    if (source_checkout / "Snakefile").is_file():
        return source_checkout
    return here
