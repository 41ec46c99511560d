# The two commands of the README: `make triage` (the main job) and `make test` (every test).
# Both install what they need: Debian's prometheus, the virtual environment, the Python packages.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
# pip's notes about this machine's local mirror folders are noise; its errors still show and fail the step.
QUIET  := 2> >(grep -v '^WARNING: Location' >&2)
SCENARIO ?= checkout-bad-deploy

.PHONY: setup system-deps triage sandbox-down lint typecheck contracts unit eval-gate test clean

setup: system-deps $(STAMP)

system-deps:
	@scripts/install-system-deps.sh

# --no-compile: byte-compiling every installed module took a minute of the install; Python compiles the
# modules medic imports when it first imports them, and keeps them.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) --upgrade pip $(QUIET)
	$(PIP) --no-compile -e '.[dev,bench]' $(QUIET)
	$(PIP) --no-compile --no-deps 'rcaeval>=1.8.1' $(QUIET)
	touch $(STAMP)

triage: setup
	$(VENV)/bin/medic triage --scenario $(SCENARIO)

sandbox-down: setup
	$(VENV)/bin/medic sandbox down --all

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

contracts: setup
	$(VENV)/bin/lint-imports

# Two workers (this machine and CI's have 2 cores), each test module on one of them and the modules that
# walk every shipped scenario together (tests/conftest.py); each worker has its own session fixtures,
# and both share the backfilled TSDBs (tests/sandbox_fixture.py). The slowest tests are listed at the
# end, so a run over CI's time budget says where the time went.
unit: setup
	$(VENV)/bin/pytest -n 2 --dist loadscope --durations=25

# The whole scenario suite with the rules planner, each case in dry-run and in enforce mode on its own
# sandbox, two at a time (README: Evals). Fails on any safety violation and under the accuracy gates.
EVAL_OUT ?= .medic/eval/report.json
eval-gate: setup
	$(VENV)/bin/medic eval --scenarios evals/scenarios --planner rules --jobs 2 \
		--min-ac1 0.9 --min-remediation 0.9 --out $(EVAL_OUT)

test: lint typecheck contracts unit eval-gate

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
