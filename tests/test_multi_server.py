"""Several app servers on one database (PostgreSQL when FLASK_TEST_DATABASE_URL names it,
else one SQLite file): what starts on one server is honoured by the other."""

import socket
import threading
import uuid

import pytest

from .conftest import TEST_DATABASE_URL
from .live import Browser, app_env, free_port, start


@pytest.fixture
def two_servers(app, tmp_path, request):
    """Two gunicorn processes, one database (already seeded by the `app` fixture), one
    secret key; rate limits counted in that database, or in Redis when a test asks for it."""
    url = app.config["DATABASE_URL"]
    extra = {}
    if getattr(request, "param", "database") == "redis":  # under a key prefix of its own
        extra = {
            "FLASK_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
            "FLASK_RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    env = app_env(url, **extra)
    servers = []
    for _ in range(2):
        servers.append(
            start(
                "app:create_app()",
                {**env, "BIND": f"127.0.0.1:{free_port()}", "WEB_CONCURRENCY": "2"},
            )
        )
    yield [s.url for s in servers]
    for server in servers:
        server.terminate()
        server.wait(10)


def redis_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_database_is_the_configured_one(app):
    if TEST_DATABASE_URL:
        assert app.config["DATABASE_URL"].startswith("postgresql")


def test_a_session_started_on_one_server_is_honoured_and_ended_on_the_other(two_servers):
    a, b = two_servers
    member = Browser(a)
    assert member.log_in() == 303
    member.base = b
    assert member.get("/account")[0] == 200
    replay = Browser(a)  # a copy of the cookie, as an attacker would keep it
    replay.opener.addheaders = [("Cookie", member.cookie)]
    assert replay.get("/account")[0] == 200
    assert member.post("/logout")[0] == 303  # logged out on server b
    assert replay.get("/account")[0] == 303  # the copied cookie is no longer a login on a


def test_a_lockout_on_one_server_holds_on_the_other(two_servers):
    a, b = two_servers
    for _ in range(5):
        assert Browser(a).log_in(password="wrong-password") == 422
    assert Browser(b).log_in() == 422


def test_a_login_id_claimed_on_both_servers_at_once_goes_to_one(two_servers):
    a, b = two_servers
    claimants = [(Browser(a), "taro0001"), (Browser(b), "hanako0002")]
    for browser, login_id in claimants:
        assert browser.log_in(login_id) == 303
        browser.get("/account/credentials/edit")
    statuses, barrier = [], threading.Barrier(2)

    def claim(browser, login_id):
        browser.post("/account/credentials/edit", {"target": "login_id"})
        barrier.wait()
        status, _, _ = browser.post(
            "/account/credentials",
            {
                "target": "login_id",
                "current_login_id": login_id,
                "new_login_id": "Shared2026x",
                "new_login_id_confirm": "Shared2026x",
                "current_password": "Webbill#2024",
            },
        )
        statuses.append(status)

    threads = [threading.Thread(target=claim, args=c) for c in claimants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303, 422]
    winners = [Browser(server).log_in("Shared2026x") for server in (a, b)]
    assert winners == [303, 303]


def test_rate_limits_are_shared_through_the_database(two_servers):
    a, b = two_servers
    statuses = [Browser(server).log_in("nobody99", "x") for server in (a, b) * 16]
    assert statuses.count(429) == 2  # 30 per minute in all, not per server


@pytest.mark.skipif(not redis_running(), reason="needs Redis on 127.0.0.1:6379 to share limits")
@pytest.mark.parametrize("two_servers", ["redis"], indirect=True)
def test_rate_limits_are_shared_through_redis(two_servers):
    a, b = two_servers
    statuses = [Browser(server).log_in("nobody99", "x") for server in (a, b) * 16]
    assert statuses.count(429) == 2  # 30 per minute in all, not per server
