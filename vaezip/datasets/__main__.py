"""``python -m vaezip.datasets [--check] [SPEC ...]``: describe data sets (default: every named split)."""

import sys

from vaezip.datasets.splits import main

sys.exit(main())
