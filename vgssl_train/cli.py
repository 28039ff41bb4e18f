"""`vgssl-train SUBCOMMAND ...` (same as `python -m vgssl_train SUBCOMMAND ...`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from vgssl_ros.cli import run_subcommand, subcommand_parser
from vgssl_train.commands import dataset, evaluate, export, study, train

SUBCOMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "train": train.add_parser,
    "eval": evaluate.add_parser,
    "export": export.add_parser,
    "study": study.add_parser,
    "dataset": dataset.add_parser,
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    return subcommand_parser(
        "vgssl-train", "Train, evaluate and export visual geo-localization descriptors (VG-SSL).", SUBCOMMANDS
    )


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; user errors print one line and exit 2."""
    return run_subcommand(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
