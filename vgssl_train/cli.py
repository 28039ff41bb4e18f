"""`vgssl-train SUBCOMMAND ...` (same as `python -m vgssl_train SUBCOMMAND ...`)."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from vgssl_ros.datasets import DatasetError
from vgssl_train.commands import evaluate, export, study, train

SUBCOMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "train": train.add_parser,
    "eval": evaluate.add_parser,
    "export": export.add_parser,
    "study": study.add_parser,
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="vgssl-train", description="Train, evaluate and export "
                                     "visual geo-localization descriptors (VG-SSL).")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(SUBCOMMANDS) + "}")
    for add in SUBCOMMANDS.values():
        add(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; user errors print one line and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (DatasetError, FileNotFoundError, ValueError) as exc:
        print(f"vgssl-train {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
