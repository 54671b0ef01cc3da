"""``python -m metarr_pipeline.simulator [--port-base 8700] ...``"""

import sys

from metarr_pipeline.simulator.cli import run_cli

sys.exit(run_cli())
