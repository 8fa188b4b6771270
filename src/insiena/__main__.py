"""Command line: `python -m insiena outputs` (what the last run produced), `check` (inputs only) and
`preflight` (refuse unsafe config files named in Snakemake arguments before Snakemake reads them)."""

from __future__ import annotations

import argparse
import sys

from insiena.cli import check, outputs, preflight


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="insiena")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("outputs", help="list the report and tables of each configured province (Snakemake's "
                                   "--config / --configfile arguments are honoured)")
    sub.add_parser("check", help="retrieve and validate the inputs only, with a per-source summary "
                                 "(any further argument goes to Snakemake)")
    sub.add_parser("preflight", help="check the config files named by --configfile in Snakemake arguments")
    # Snakemake's own options (--cores 1, --configfile x.yaml) must pass through untouched: argparse's
    # REMAINDER refuses a first token that looks like an option, so they are taken as unknown args.
    args, rest = parser.parse_known_args(argv)
    if args.command == "outputs":
        return outputs(rest)
    if args.command == "preflight":
        return preflight(rest)
    return check(rest)


if __name__ == "__main__":
    sys.exit(main())
