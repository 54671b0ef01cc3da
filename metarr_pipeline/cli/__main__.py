"""``python -m metarr_pipeline.cli``, as the ``metarr`` console script."""

import sys

from metarr_pipeline.cli import main

sys.exit(main())
