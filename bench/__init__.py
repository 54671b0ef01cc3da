"""``make bench``: a synthetic N-movie library (default 1,000) run end to end through Dagster against the
provider simulator, measured per stage and compared with the bound the providers' limits impose.

    python -m bench [--n 1000] [--work bench/work] [--results bench/results] [--profile missed]

What it does (see bench/README.md for what is measured and how the bound is computed):

1. generates the library: N movie folders named like Radarr/Jellyfin do (``Title (Year) {tmdb-ID}``, one in
   twenty ``Title (Year)`` only, identified by a TMDB search), each holding a copy of one of five tiny real
   videos (h264/hevc/HDR10/mpeg4; mkv/mp4/avi), so the scan probes N real files;
2. starts ONE simulator process (``python -m metarr_pipeline.simulator``): 40 ms latency per request, TMDB
   API 40 requests/s, 20 connections per host; its request log is read back with SIGUSR1;
3. primes the simulator's rendered-image cache once per library size (an unmeasured run into a scratch
   state), because drawing real-sized originals is the simulator's CPU, not ours, and a CDN has none;
4. runs the stages, each in a fresh worker process that drives Dagster like a user does (an on-disk
   instance in a bench DAGSTER_HOME, library-wide batched runs over a partition range):
   ``cold`` scan → enrich → publish on an empty state; ``warm`` the same again with nothing changed;
   ``rescore`` the enrich job again after a ``[scoring.weights]`` change (a backfill); then ``ticks``: a schedule
   tick, two sensor ticks, the GraphQL partition status of one asset and the review listing on that state;
5. measures wall, CPU (worker, and the simulator separately), peak RSS, provider requests by kind (from the
   simulator's log), bytes, images analysed, files written, Dagster runs and overhead; measures image
   analysis alone (candidates/s per CPU-second); checks the targets; profiles with py-spy every stage
   that misses one (a second, profiled run of that stage);
6. writes ``bench/results/<date>.json`` and ``<date>.md`` (``<date>-n<N>.*`` when N is not 1,000) and
   prints the table.

Modules in reading order:

- ``driver`` (``python -m bench``): the steps above, in order;
- ``library``: the synthetic library and its snapshots (what a stage wrote);
- ``simulator``: the simulator process, its CPU, memory and request log;
- ``stages``: the bench's ``metarr.toml`` and one stage run in a measured worker process;
- ``worker``: runs inside the measured process (``python -m bench.worker``): asks the project's schedule and
  sensors for their runs and executes them; or measures image analysis alone;
- ``targets``: pure arithmetic: the provider limits and the bound they impose, what counts as a call, the
  per-run Dagster overhead, the verdicts against the targets;
- ``profiles``: py-spy and pyinstrument summaries of a profiled stage;
- ``ticks`` and ``tick_worker``: the ``ticks`` step (started by the driver; measured inside a worker);
- ``report``: the results as JSON and markdown, and the README's table.
- ``review_page`` (``python -m bench.review_page``): the review page's library on a generated 10,000-movie state.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The project's checkout: dagster.yaml, README.md, bench/work and bench/results are found from here."""

PY = sys.executable
