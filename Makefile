# Two commands do everything: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint typecheck bench sandbox clean crisis-model crisis-eval texts axe

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "First Step needs Python 3.11 or newer: set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The bot against Telegram when a token is set (env or .env); otherwise the local sandbox.
run: $(STAMP)
	$(BIN)/firststep run --or-sandbox

sandbox: $(STAMP)
	$(BIN)/firststep sandbox

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# axe-core, Deque's accessibility engine, from the npm registry at install time, for the
# web chat's browser test (tests/webchat/test_web_browser.py injects it into the page; it
# is never fetched while a test runs, and the test skips, saying so, without it).
AXE_VERSION := 4.14.1
AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE): $(STAMP)
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --silent --no-save --no-audit --no-fund --prefix $(VENV)/axe axe-core@$(AXE_VERSION) \
	    || echo "could not install axe-core from the npm registry: the web chat's axe-core check will be skipped"; \
	else echo "npm not found: the web chat's axe-core check will be skipped"; fi

# The whole suite: lint, types, then every test (SQLite always; PostgreSQL too when
# FIRSTSTEP_TEST_DATABASE_URL is set), with line and branch coverage summed up at the end.
test: lint typecheck axe
	$(BIN)/python -m pytest --cov --cov-report=
	@echo "Coverage of bot/, conversations/ and storage/: $$($(BIN)/coverage report --format=total)% (lines and branches; per file: .venv/bin/coverage report)"

# The inner loop: every test but the slow ones (crash recovery, races, fuzzing, whole CLI
# runs), the browser and the sandbox. `make test` still runs them all.
FAST := not slow and not browser and not sandbox
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "$(FAST)"

# After adding or changing a text in conversations/texts.py: rewrite every language's
# catalog (conversations/locales/*/LC_MESSAGES/firststep.po) to match it.
texts: $(STAMP)
	$(BIN)/python -m conversations.catalogs

bench: $(STAMP)
	$(BIN)/python -m bench

# Retrain the crisis check after editing conversations/safety/data/ (its README says how):
# cross-validates on the corpus's development part, chooses thresholds, writes the model.
crisis-model: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,train]'
	$(BIN)/firststep crisis train

# The crisis check's figures on the frozen test part (README, "Crisis check").
crisis-eval: $(STAMP)
	$(BIN)/firststep crisis eval

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage
