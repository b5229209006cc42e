# Two commands do all set-up on a fresh machine (see README.md):
#   make demo   # the main job on the shipped data: tiny ALBERT, CPU
#   make test   # the test suite (what CI runs through .ci/run)
# Each creates .venv and installs the pinned stack on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=
# pytest workers for `make test` (0 = one process); files are the unit of work.
TEST_WORKERS ?= 2

.PHONY: demo test bench clean

$(BIN)/.runtime: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(BIN)/.dev: $(BIN)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

demo: $(BIN)/.runtime
	$(BIN)/albert-tf demo $(ARGS)

# pytest exits 5 when it collects nothing; that is not a failure of the code.
test: $(BIN)/.dev
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

bench: $(BIN)/.dev
	$(BIN)/python -m bench.run $(ARGS)

clean:
	rm -rf $(VENV) out .pytest_cache
