# Two commands for a fresh machine (see README): `make release` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: release build test lint typecheck bench clean-venv browser

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --requirement requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

## make release: install the pinned environment, build and validate the tables. With nothing
## changed since the last release (inputs, code, libraries, outputs: see
## build/newstables/core/fingerprint.py) it says "up to date" without importing anything heavy.
release: $(STAMP)
	@$(BIN)/python -m newstables.core.fingerprint check-release --dist dist || { \
		$(BIN)/newstables build && \
		$(BIN)/newstables docs && \
		$(BIN)/newstables release --dist dist --skip-existing && \
		$(BIN)/python -m newstables.core.fingerprint record-release --dist dist; }

build: release

## make test: the same set-up, then lint, type checks and the whole test suite.
test: $(STAMP) browser lint typecheck
	$(BIN)/python -m pytest

## make browser: Debian's Chromium and its driver, for the provenance-page tests (installed
## only when missing; needs root, as on CI).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check build tests benchmarks
	$(BIN)/ruff format --check build tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python benchmarks/bench_commands.py
	$(BIN)/python benchmarks/bench_reader_formats.py

.PHONY: bench-drafter
## make bench-drafter: the drafter's precision and recall on the seed (benchmarks/results/drafter.json).
bench-drafter: $(STAMP)
	$(BIN)/python benchmarks/bench_drafter.py

clean-venv:
	rm -rf $(VENV)

.PHONY: bench-scale
## make bench-scale: the gate on DuckDB vs the previous pandas gate vs `frictionless validate`, and the
## seed's cold build (benchmarks/results/gate.json). The synthetic-corpus figures come later.
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_gate.py

.PHONY: bench-seed bench-rowchecks
## make bench-seed: the seed's cold build, one-annotation rebuild and no-op `make release`
## (medians; benchmarks/results/seed_speed.json).
bench-seed: $(STAMP)
	$(BIN)/python benchmarks/bench_seed_speed.py

## make bench-rowchecks: Frictionless's row checks as DuckDB SQL vs `frictionless.validate` on a
## million-row statements table (benchmarks/results/rowchecks.json).
bench-rowchecks: $(STAMP)
	$(BIN)/python benchmarks/bench_rowchecks.py
