"""Fixtures (flaskr's conftest is the model): a real database file per test (or the
PostgreSQL database named by FLASK_TEST_DATABASE_URL), the demo data, and a real SMTP server."""

from __future__ import annotations

import functools
import os
import re
import sys
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from app import create_app
from extensions import db
from migrations import upgrade
from models import MODELS

from .live import free_port

TEST_DATABASE_URL = os.environ.get("FLASK_TEST_DATABASE_URL")
CLOCK_AHEAD = os.environ.get("TEST_CLOCK_AHEAD")
if CLOCK_AHEAD and not getattr(sys.modules.get("sitecustomize"), "_ahead", None):
    raise SystemExit("TEST_CLOCK_AHEAD needs PYTHONPATH=tests/clock_ahead (make test-year-ahead)")


def pytest_terminal_summary(terminalreporter) -> None:
    """The clock the run had, in the summary (shown even with -q): CI's log proves the pass
    with the clock ahead ran ahead."""
    ahead = f", {CLOCK_AHEAD} ahead of the machine's" if CLOCK_AHEAD else ""
    terminalreporter.write_line(f"clock: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC{ahead}")


PASSWORD = "Webbill#2024"
HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/account"}


def make_app(tmp_path, **config):
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "SESSION_COOKIE_SECURE": False,
        "EXTERNAL_BASE_URL": "https://billing.example.jp",
        # Tests deliver by hand (deliver_outbox, send-mail) or start the loop themselves
        # (`delivering`); the live servers (tests/live.py) run it as production does.
        "MAIL_DELIVERY_THREAD": False,
    }
    settings.update(config)
    # Its own instance folder: a development app keeps its QA clock there (clock.py).
    return create_app(settings, instance_path=str(tmp_path / "instance"))


@pytest.fixture
def app_config() -> dict:
    """Settings a test module adds to the `app` fixture's (override it in the module)."""
    return {}


@pytest.fixture
def app(tmp_path, app_config):
    app = make_app(tmp_path, **app_config)
    with db.database.connection_context():
        db.database.drop_tables(MODELS, safe=True, cascade=bool(TEST_DATABASE_URL))
        upgrade(db.database)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def token_in(html: str) -> str:
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    return match.group(1)


def log_in(client, login_id="taro0001", password=PASSWORD, follow=False):
    token = token_in(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login",
        data={"csrf_token": token, "login_id": login_id, "password": password},
        follow_redirects=follow,
    )


@pytest.fixture
def member_client(client):
    """A client logged in as the demo member 済日利 太郎."""
    response = log_in(client)
    assert response.status_code == 303
    return client


def post(client, url, data=None, headers=None, page="/account"):
    """POST with a valid CSRF token taken from `page`, as a browser would."""
    token = token_in(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})}, headers=headers)


def send_host(client, host: str) -> None:
    """Every later request of `client` carries `Host: host` (the test client's environ_base
    cannot set it: the client writes HTTP_HOST after it)."""
    client.open = functools.partial(client.open, environ_overrides={"HTTP_HOST": host})


@contextmanager
def delivering(app):
    """The app's mail delivery loop (mail.py) running in this process while inside."""
    delivery = app.extensions["mail_delivery"]
    delivery.start()
    try:
        yield delivery
    finally:
        delivery.stop()


def wait_for(check, seconds: float):
    """What `check()` returns once it is truthy, asking every 50 ms for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.05)
    return found


def in_db(fn):
    with db.database.connection_context():
        return fn()


class SMTPSink:
    """A real SMTP server on loopback that keeps what it receives."""

    def __init__(self):
        self.messages = []
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.received.set()
        return "250 OK"


@pytest.fixture
def smtp():
    sink = SMTPSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    yield sink
    controller.stop()
