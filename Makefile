# Two commands for a fresh machine (see README): `make release` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: release build test lint typecheck bench clean-venv browser spark

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --requirement requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

## make release: install the pinned environment, build and validate the tables. With nothing
## changed since the last release (inputs, code, libraries, outputs: see
## build/newstables/core/fingerprint.py) it says "up to date" without importing anything heavy.
## The build's gate runs the suites as DuckDB SQL; `newstables release` runs them through Great
## Expectations as well and stops if the two engines disagree.
release: $(STAMP)
	@$(BIN)/python -m newstables.core.fingerprint check-release --dist dist || { \
		$(BIN)/newstables build && \
		$(BIN)/newstables docs && \
		$(BIN)/newstables release --dist dist --skip-existing && \
		$(BIN)/python -m newstables.core.fingerprint record-release --dist dist; }

build: release

## make test: the same set-up, then lint, type checks and the whole test suite.
test: $(STAMP) browser spark lint typecheck
	$(BIN)/python -m pytest

## make browser: Debian's Chromium and its driver, for the provenance-page tests (installed
## only when missing; needs root, as on CI).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	fi

## make spark: Java (Debian's openjdk-17-jre-headless, when missing; needs root, as on CI) and
## pyspark in its own venv .venv-spark (Great Expectations imports pyspark whenever it is
## importable, so it stays out of .venv), for tests/test_engines.py.
SPARK_PIN := pyspark==4.3.0
SPARK_STAMP := .venv-spark/.installed-stamp
spark: $(SPARK_STAMP)
	@if ! command -v java >/dev/null 2>&1; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y openjdk-17-jre-headless; \
	fi

$(SPARK_STAMP): Makefile
	test -x .venv-spark/bin/python || $(PYTHON) -m venv .venv-spark
	.venv-spark/bin/python -m pip install --quiet $(SPARK_PIN)
	touch $(SPARK_STAMP)

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
	rm -rf $(VENV) .venv-spark

.PHONY: bench-scale
## make bench-scale: the gate on DuckDB vs the previous pandas gate vs `frictionless validate`, and the
## seed's cold build (benchmarks/results/gate.json); Parquet parts at 1M rows (benchmarks/results/parts.json);
## then synthetic corpora of 1k, 10k and 100k articles (10k, 100k and 1M statements): synth, build wall and
## peak RSS, bytes per format, README queries (benchmarks/results/scale.json).
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_gate.py
	$(BIN)/python benchmarks/bench_parts.py
	$(BIN)/python benchmarks/bench_scale.py

.PHONY: bench-seed bench-rowchecks
## make bench-seed: the seed's cold build, one-annotation rebuild and no-op `make release`
## (medians; benchmarks/results/seed_speed.json).
bench-seed: $(STAMP)
	$(BIN)/python benchmarks/bench_seed_speed.py

## make bench-rowchecks: Frictionless's row checks as DuckDB SQL vs `frictionless.validate` on a
## million-row statements table (benchmarks/results/rowchecks.json).
bench-rowchecks: $(STAMP)
	$(BIN)/python benchmarks/bench_rowchecks.py

.PHONY: bench-gate-scale
## make bench-gate-scale: the gate (Frictionless's row checks as SQL + the suites) vs `frictionless
## validate` on the corpora bench-scale built (GATE_CORPORA; benchmarks/results/gate_scale.json).
GATE_CORPORA ?= /tmp/newstables-bench-scale/corpus-1000 /tmp/newstables-bench-scale/corpus-10000
bench-gate-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_gate_scale.py $(GATE_CORPORA)
