"""What every vgssl command line shares: run a parsed subcommand, user errors as one line and exit 2."""
from vgssl_ros.cli.run import USER_ERRORS, run_subcommand

__all__ = ["USER_ERRORS", "run_subcommand"]
