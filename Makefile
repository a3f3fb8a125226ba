# Reflexion: `make run` starts everything, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="--clock-shift-days 400 -x"`.
PYTEST_ARGS ?=

.PHONY: run test install python-check translations translations-update bench clean

# One clear line instead of a traceback when the machine lacks Python 3.11+ or its venv module.
python-check:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found: install Python 3.11 or newer (Debian/Ubuntu: apt-get install python3 python3-venv)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { echo "make: Reflexion needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) -V 2>&1)"; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { echo "make: $(PYTHON) has no venv/ensurepip module: install it (Debian/Ubuntu: apt-get install python3-venv)"; exit 1; }

$(STAMP): pyproject.toml | python-check
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel -q compile -d reflexion/translations

translations-update: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o reflexion/translations/messages.pot .
	$(BIN)/pybabel -q update --no-fuzzy-matching -i reflexion/translations/messages.pot -d reflexion/translations

run: install
	$(BIN)/python -m reflexion.runner

# Provision what the tests need beyond Python packages (redis-server, Chromium), then run them all.
test: install
	$(BIN)/python tests/provision.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) instance .pytest_cache
