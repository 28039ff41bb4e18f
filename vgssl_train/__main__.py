"""`python -m vgssl_train SUBCOMMAND ...` is the same as `vgssl-train SUBCOMMAND ...`."""

from vgssl_train.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
