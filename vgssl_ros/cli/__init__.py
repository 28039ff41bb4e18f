"""Shared command-line plumbing: subcommand registries and one-line user errors."""

from vgssl_ros.cli.run import USER_ERRORS, run_subcommand, subcommand_parser

__all__ = ["USER_ERRORS", "run_subcommand", "subcommand_parser"]
