# The README's commands. `make run`: the app on SQLite with demo data and the QA tools (/dev).
# `make test`: everything the suite needs, then the whole suite (SQLite; PostgreSQL too when
# FLASK_TEST_DATABASE_URL is set).
PY := .venv/bin/python
export FLASK_APP := app

.PHONY: install install-test run test lint

install: .venv/.installed node_modules/.package-lock.json

.venv/.installed: requirements.txt requirements-test.txt
	python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

node_modules/.package-lock.json: package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk

run: install
	FLASK_DEBUG=1 $(PY) -m flask init-db
	FLASK_DEBUG=1 $(PY) -m flask seed-demo
	@echo "ログイン: taro0001 / hanako0002（パスワード Webbill#2024）  QAツール: http://127.0.0.1:$${FLASK_RUN_PORT:-5000}/dev/"
	FLASK_DEBUG=1 $(PY) -m flask run

test: install /usr/bin/chromium lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check --quiet . && $(PY) -m ruff format --check --quiet .
