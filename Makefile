# Everything runs from the project's own virtual environment, created from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# cfn-lint with informational checks and our own rules (docs/cfn-rules.md).
CFN_LINT_OPTIONS := -c I --append-rules compliance_template.cfn_rules
CFN_LINT := $(BIN)/cfn-lint $(CFN_LINT_OPTIONS)
# `make template` lints only templates not already found clean with the same inputs
# (compliance_template/lint_cache.py); `make lint` and the tests lint everything.
LINT_CACHE := build/lint-cache

# Deploy settings: make deploy STACK=... PARAMETERS=file.json ARTIFACT_BUCKET=... REGION=...
STACK ?= compliance-monitoring
TEMPLATE ?= templates/compliance-monitoring.json
PARAMETERS ?=
ARTIFACT_BUCKET ?=
REGION ?=
PROFILE ?=
AWS_TARGET = $(if $(REGION),--region $(REGION)) $(if $(PROFILE),--profile $(PROFILE))
# The deploy tools name make variables (REGION=) instead of their flags (--region) in messages.
TOOL := COMPLIANCE_TEMPLATE_MAKE=1 $(BIN)/python -m
PREFLIGHT_ARGS = --stack-name $(STACK) --template $(TEMPLATE) \
	$(if $(PARAMETERS),--parameters $(PARAMETERS)) $(AWS_TARGET)

.PHONY: help venv template lint test test-fast test-e2e emulator package bench preflight deploy destroy deploy-local report-sample deploy-org \
	release-baseline refresh-catalog clean

help:
	@echo "make template   generate templates/ and lint them (creates .venv on first use)"
	@echo "make test       run the whole test suite"
	@echo "make test-fast  the unit tests only, in under a minute (no emulator, whole-template cfn-lint, scanners or every-framework tests)"
	@echo "make lint       ruff, cfn-lint with our rules, checkov and parliament over templates/"
	@echo "make package    build/<function>.zip, byte-identical across runs"
	@echo "make bench      performance figures of the functions (docs/benchmarks.md)"
	@echo "make preflight  check the target account (STACK=, TEMPLATE=, PARAMETERS=file, REGION=)"
	@echo "make deploy     preflight, package and deploy (PARAMETERS=file ARTIFACT_BUCKET= REGION= PROFILE= STACK= TEMPLATE=)"
	@echo "make destroy    delete the stack; the reports bucket and key are kept and reported"
	@echo "make deploy-local  deploy, update, redeploy and delete on a local emulator, printing each step"
	@echo "make report-sample  a sample report (8 daily runs) from the stack on the local emulator: build/sample-report/"
	@echo "make test-e2e   the checks of the stack deployed on the local emulator (tests/e2e/)"
	@echo "make emulator   the local emulator on http://127.0.0.1:4566 for the AWS CLI or any SDK (PORT=), until Ctrl-C"
	@echo "make deploy-org OUS=ou-.. REGIONS=eu-west-1,.. ARTIFACT_PREFIX=.. PARAMETERS=file [REGION= PROFILE=]  StackSet for members"
	@echo "make release-baseline  record templates/ as the released copy update safety compares to"
	@echo "make refresh-catalog CHECKOUT=dir [WRITE=1 COMMIT= COMMITTED_ON=]  report (and with WRITE=1 record) changes in AWS's sample packs"
	@echo "make clean      remove build output and caches (keeps .venv)"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

template: $(STAMP)
	$(BIN)/python -m compliance_template.generator.committed
	$(BIN)/python -m compliance_template.lint_cache $(LINT_CACHE) templates/*.json -- $(CFN_LINT_OPTIONS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(CFN_LINT) -- templates/*.json
	$(BIN)/python scripts/scan.py templates/*.json

# Two workers, each test file on one of them (--dist loadfile): a file's module-scoped emulator
# and browser fixtures start once, and the suite takes about 7 minutes instead of 12.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# The unit tests only: no emulator, no cfn-lint over whole templates, no scanners
# (tests/slow_tests.py says which tests are slow and why).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# The deployed stack's checks on the local emulator (also part of `make test`).
test-e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e -q

package: $(STAMP)
	$(BIN)/python -m compliance_template.packaging --out build

bench: $(STAMP)
	$(BIN)/python -m compliance_template.packaging --out build
	$(BIN)/python benchmarks/bench_functions.py
	$(BIN)/python benchmarks/bench_generator.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_organization.py

preflight: $(STAMP)
	$(TOOL) compliance_template.deploy.preflight $(PREFLIGHT_ARGS)

deploy: $(STAMP)
	$(TOOL) compliance_template.deploy.account deploy --stack-name $(STACK) --template $(TEMPLATE) \
		$(if $(PARAMETERS),--parameters $(PARAMETERS)) \
		$(if $(ARTIFACT_BUCKET),--artifact-bucket $(ARTIFACT_BUCKET)) $(AWS_TARGET)

destroy: $(STAMP)
	$(TOOL) compliance_template.deploy.account destroy --stack-name $(STACK) $(AWS_TARGET)

deploy-local: $(STAMP)
	$(BIN)/python -m compliance_template.local.cycle

# report.html, details.csv, summary.json (and a screenshot with Chromium) of the last of 8 daily
# runs on the local emulator; loopback only (docs/deploy.md).
report-sample: $(STAMP)
	$(BIN)/python -m compliance_template.local.report_sample

# The local emulator as a server on 127.0.0.1 for any AWS client, until Ctrl-C.
PORT ?= 4566
emulator: $(STAMP)
	$(TOOL) compliance_template.local.server --port $(PORT)

deploy-org: $(STAMP)
	$(TOOL) compliance_template.deploy.org $(if $(OUS),--ous $(OUS)) \
		$(if $(REGIONS),--regions $(REGIONS)) \
		$(if $(ARTIFACT_PREFIX),--artifact-bucket-prefix $(ARTIFACT_PREFIX)) \
		$(if $(PARAMETERS),--parameters $(PARAMETERS)) \
		$(if $(CALL_AS),--call-as $(CALL_AS)) $(AWS_TARGET)

release-baseline: template
	cp templates/*.json templates/released/

clean:
	rm -rf build .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

# What changed in AWS's sample conformance packs (docs/catalog.md, "Refreshing the catalog"):
# exit 1 when the frameworks differ from generator/data/frameworks.json.
CHECKOUT ?=
WRITE ?=
COMMIT ?=
COMMITTED_ON ?=
refresh-catalog: $(STAMP)
	@test -n "$(CHECKOUT)" || { echo "make refresh-catalog: CHECKOUT= is required (a checkout of awslabs/aws-config-rules)"; exit 2; }
	$(BIN)/python -m compliance_template.maintenance.refresh --checkout $(CHECKOUT) \
		$(if $(WRITE),--write) $(if $(COMMIT),--commit $(COMMIT)) \
		$(if $(COMMITTED_ON),--committed-on $(COMMITTED_ON))
