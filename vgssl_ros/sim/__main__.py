"""`python -m vgssl_ros.sim` = `vgssl-sim`."""

import sys

from vgssl_ros.sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
