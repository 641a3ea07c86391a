#!/usr/bin/env python3
"""Tutorial-compatible entry point: the same as `liveness gather` (see `--help`)."""

import sys

from liveness.cli import main

if __name__ == "__main__":
    sys.exit(main(["gather", *sys.argv[1:]]))
