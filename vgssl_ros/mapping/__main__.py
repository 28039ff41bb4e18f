"""`python -m vgssl_ros.mapping SUBCOMMAND ...` is the same as `vgssl-map SUBCOMMAND ...`."""

from vgssl_ros.mapping.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
