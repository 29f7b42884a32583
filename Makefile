# The README's commands. `make run`: the app on SQLite with demo data and the QA tools (/dev).
# `make test`: everything the suite needs, then the whole suite (SQLite; PostgreSQL too when
# FLASK_TEST_DATABASE_URL is set).
PY := .venv/bin/python
export FLASK_APP := app

.PHONY: install install-test run test test-year-ahead lint

install: .venv/.installed node_modules/.package-lock.json

.venv/.installed: requirements.txt requirements-test.txt
	python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

node_modules/.package-lock.json: package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk

# `make run` also starts a demo d-account provider (oidc-provider-mock, stopped with the app):
# demo-taro is linked to taro0001 by seed-demo, demo-unlinked to nobody (README).
DEMO_OP_PORT ?= 9400
run: export FLASK_DACCOUNT_ISSUER ?= http://127.0.0.1:$(DEMO_OP_PORT)
run: export FLASK_DACCOUNT_CLIENT_ID ?= webbilling-demo
run: export FLASK_DACCOUNT_CLIENT_SECRET ?= demo-secret

# The production setup's front (deploy/nginx.conf), which the server tests start from a
# temporary prefix. The package may try to start a system nginx and be refused: harmless.
/usr/sbin/nginx:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx openssl

run: install
	FLASK_DEBUG=1 $(PY) -m flask init-db
	FLASK_DEBUG=1 $(PY) -m flask seed-demo
	@echo "ログイン: taro0001 / hanako0002（パスワード Webbill#2024）  QAツール: http://127.0.0.1:$${FLASK_RUN_PORT:-5000}/dev/"
	PYTHONWARNINGS=ignore .venv/bin/oidc-provider-mock --port $(DEMO_OP_PORT) --require-nonce \
	  --user demo-taro --user demo-unlinked & op=$$!; trap 'kill $$op 2>/dev/null' EXIT INT TERM; \
	FLASK_DEBUG=1 $(PY) -m flask run

test: install /usr/bin/chromium /usr/sbin/nginx lint
	$(PY) -m pytest $(PYTEST_ARGS)

# The same suite with the clock a year ahead in every Python process it starts (the app under
# gunicorn and `flask run`, the CLI, the tests): nothing in it may expire by itself.
# `make test-year-ahead CLOCK_AHEAD=3650d` moves it further (tests/clock_ahead; it imports
# time_machine before pytest starts, too early for pytest's rewriting of its plugin).
CLOCK_AHEAD ?= 365d
test-year-ahead: install /usr/bin/chromium /usr/sbin/nginx
	TEST_CLOCK_AHEAD=$(CLOCK_AHEAD) PYTHONPATH=$(CURDIR)/tests/clock_ahead \
	  $(PY) -m pytest -W ignore::pytest.PytestAssertRewriteWarning $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check --quiet . && $(PY) -m ruff format --check --quiet .
