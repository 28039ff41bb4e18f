"""`python -m vgssl_ros.eval` is `vgssl-eval`."""

import sys

from vgssl_ros.eval.cli import main

sys.exit(main())
