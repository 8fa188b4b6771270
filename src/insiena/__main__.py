"""Command line: `python -m insiena outputs` (what the last run produced) and `check` (inputs only)."""

from __future__ import annotations

import argparse
import sys

from insiena.cli import check, outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="insiena")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("outputs", help="list the report and tables of each configured province")
    chk = sub.add_parser("check", help="retrieve and validate the inputs only, with a per-source summary")
    chk.add_argument("snakemake_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "outputs":
        return outputs()
    return check(args.snakemake_args)


if __name__ == "__main__":
    sys.exit(main())
