# Set-up is part of every target: a fresh machine needs only Python >= 3.11 with venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: verify test test-fast test-full claims lean clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## verify: every catalog entry x identity, float64 and 50 digits, with negative controls
verify: $(STAMP)
	$(BIN)/pyspec verify --precision 50

## test: the whole suite (Lean check, unit, property and slow tests)
test: $(STAMP)
	bash ci/test.sh

## test-fast: the suite without the slow marker
test-fast: $(STAMP)
	bash ci/test.sh -m "not slow"

## test-full: the suite with 1000 examples per property (formal claims: 1000 / 250 models)
test-full: $(STAMP)
	PYSPEC_FULL=1 bash ci/test.sh

## claims: paper item -> Lean theorem -> Python check -> tests
claims: $(STAMP)
	$(BIN)/pyspec claims

## lean: lake build when lake is on PATH (loud notice otherwise)
lean:
	bash ci/lean.sh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
