"""Running a subcommand parsed by argparse, with user errors reported as one line and exit code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping

from vgssl_ros.datasets import DatasetError

USER_ERRORS: tuple[type[Exception], ...] = (DatasetError, FileExistsError, FileNotFoundError, ValueError)
"""Errors caused by the user's input: printed as one line naming the command, no traceback."""


def subcommand_parser(
    prog: str, description: str, subcommands: Mapping[str, Callable[[argparse._SubParsersAction], None]]
) -> argparse.ArgumentParser:
    """A parser with one subparser per registry entry (each adder registers its subparser and ``run``)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(subcommands) + "}")
    for add in subcommands.values():
        add(sub)
    return parser


def run_subcommand(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse ``argv`` and call the chosen subcommand's ``run(args)``; a USER_ERRORS exception exits 2.

    Each subparser sets ``run`` with ``set_defaults``; the parser's ``dest`` for subcommands is ``command``.
    """
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except USER_ERRORS as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
