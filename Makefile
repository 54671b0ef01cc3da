# metarr-pipeline: every target bootstraps what it needs, idempotently, from a fresh clone.
#   make demo   generate the demo library and run the pipeline on it (offline)
#   make test   run the test suite
#   make ui     start the Dagster UI on the demo instance (http://127.0.0.1:3000) and the review page (:8300)
#   make lint   ruff
#   make bench  N-movie end-to-end benchmark against the provider simulator (N ?= 1000; minutes)
#   make postgres  start the private PostgreSQL cluster for the production Dagster instance (data/runtime/postgres)
#   make serve  Dagster's production shape: code server, daemon and webserver on PostgreSQL (http://127.0.0.1:3000)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME := data/runtime
export DAGSTER_HOME := $(abspath $(RUNTIME)/dagster)
# One "materialisation planned" event per asset and run instead of one per movie partition: on the SQLite
# instance each event costs ~8 ms, so a 500-movie run spent ~20 s writing them. (Dagster's trade-off: if a whole
# run crashes, its partitions show the run as failed rather than each partition as failed.)
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS := 1
# On the PostgreSQL instance, dagster-postgres writes a run's events in batches of up to this many (one INSERT per
# batch): 1,000 movies x 4 assets took 64 s unbatched and 2.4 s batched. The SQLite storage writes them one by one
# either way.
export DAGSTER_EVENT_BATCH_SIZE := 1000

.PHONY: demo test ui lint check-defs tools kodi venv clean-demo bench postgres serve

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# ffprobe is the reference the probe tests compare against (Debian's ffmpeg package); the Dagster tests run on a
# private PostgreSQL cluster too (Debian's postgresql package, installed by the helper when missing); chromium runs
# the review page's browser test.
tools: venv
	$(BIN)/python -m dagster_project.postgres_cluster install
	@command -v ffprobe >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing ffmpeg (for ffprobe) with apt-get"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg) >/dev/null; \
	  else echo "ffprobe is missing: install ffmpeg (e.g. sudo apt-get install ffmpeg)"; exit 1; fi; }
	@# Debian's Chromium is the browser the review page's Playwright test drives (no browser download).
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium with apt-get"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  else echo "/usr/bin/chromium is missing: install it (e.g. sudo apt-get install chromium)"; exit 1; fi; }

# A real Kodi (headless, under Xvfb) is what tests/test_kodi_real.py, tests/test_kodi_features.py and
# tests/test_kodi_notify.py publish to and notify (Debian's kodi, xvfb).
KODI_BIN := $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/kodi/kodi.bin /usr/lib/aarch64-linux-gnu/kodi/kodi.bin /usr/lib/kodi/kodi.bin))
kodi:
	@if [ -z "$(KODI_BIN)" ] || ! command -v Xvfb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing kodi and xvfb with apt-get (for the real-Kodi tests)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kodi xvfb) >/dev/null; \
	  else echo "kodi or Xvfb is missing: install them (e.g. sudo apt-get install kodi xvfb)"; exit 1; fi; fi

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

demo: venv $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/metarr demo
	@echo
	@echo "Materialising the pipeline in the demo Dagster instance ($(DAGSTER_HOME)) ..."
	$(BIN)/python -m dagster_project.demo_run 2>&1 | grep -vE " - (DEBUG|INFO) - " || true
	@echo
	@echo "Done. The published library: data/runtime/demo-library/ (NFOs, artwork, .actors/)."
	@echo "Browse the pipeline with 'make ui' (http://127.0.0.1:3000), or run $(BIN)/metarr status."

test: venv tools kodi
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check .

# Not part of `make test`: a 1,000-movie run takes minutes. Results: bench/results/<date>.json and .md.
# INSTANCE=postgres runs it on the PostgreSQL instance (the private cluster, started when needed); IMAGES=light
# serves at most 3 images per kind (for N=10000, see bench/README.md); PROFILE=never|missed|always; PRIME=skip
# leaves the simulator's drawing in the cold stage instead of a priming run.
N ?= 1000
INSTANCE ?= sqlite
IMAGES ?= full
PROFILE ?= missed
PRIME ?= auto
bench: venv
	$(BIN)/python -m bench --n $(N) --instance $(INSTANCE) --images $(IMAGES) --profile $(PROFILE) --prime $(PRIME)

# The production Dagster instance's database server, private to this checkout (see dagster.postgres.yaml).
postgres: venv
	$(BIN)/python -m dagster_project.postgres_cluster start

# Three processes (dagster code-server, dagster-daemon, dagster-webserver) on the PostgreSQL instance, supervised
# by one command; METARR_CONFIG names the library's settings (default: the demo's). deploy/ runs the same three.
serve: venv
	$(BIN)/python -m dagster_project.serve

check-defs: venv
	cd $(CURDIR) && $(BIN)/dg check defs

# The Dagster UI and, beside it, the review page (metarr review, http://127.0.0.1:8300); Ctrl-C stops both.
ui: venv $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/metarr review --port 8300 --dagster-url http://127.0.0.1:3000 & review=$$!; \
	trap 'kill $$review 2>/dev/null' EXIT; \
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || true

clean-demo:
	rm -rf $(RUNTIME)
