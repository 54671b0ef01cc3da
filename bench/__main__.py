"""``python -m bench``: see the package's docstring."""

import sys

from bench.driver import main

sys.exit(main())
