"""Rate limits in the default deployment (no Redis, no setting): exact across gunicorn's
workers, and kept through a restart. The production setup on loopback — nginx in front of 3
sync workers — on the test database (PostgreSQL when FLASK_TEST_DATABASE_URL names it)."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
import time_machine

from models import RateLimitCounter
from ratelimit import DatabaseStorage, purge_expired

from .conftest import in_db
from .live import PROXIED, Browser, app_env, behind_nginx, free_port, start

ADDRESS = {
    "new_email": "limit@example.net",
    "new_email_confirm": "limit@example.net",
    "secret_question": "母親の旧姓は？",
    "secret_answer": "やまだ",
}


class Site:
    """nginx on one port in front of a gunicorn that can be restarted behind it."""

    def __init__(self, database_url: str):
        self.env = app_env(database_url, **PROXIED)
        self.env |= {"BIND": f"127.0.0.1:{free_port()}", "WEB_CONCURRENCY": "3"}
        self.gunicorn = start("app:create_app()", self.env)

    def restart(self) -> None:
        self.gunicorn.terminate()
        self.gunicorn.wait(10)
        self.gunicorn = start("app:create_app()", self.env)


@pytest.fixture
def site(app):
    site = Site(app.config["DATABASE_URL"])
    try:
        with behind_nginx(site.gunicorn.url) as url:
            site.url = url
            yield site
    finally:
        site.gunicorn.terminate()
        site.gunicorn.wait(10)


def at_once(tries: list, clients: int = 10) -> list[int]:
    """Run the (browser, path, data, headers) tries from `clients` threads; the statuses."""
    statuses: list[int] = []

    def worker(k: int) -> None:
        for browser, path, data, headers in tries[k::clients]:
            statuses.append(browser.post(path, data, headers=headers)[0])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def login_tries(url: str, count: int) -> list:
    """`count` wrong logins from one client, each with a forged X-Forwarded-For (nginx adds the
    real address after it, and that is the one the app counts)."""
    browsers = [Browser(url) for _ in range(10)]
    for browser in browsers:
        browser.get("/login")
    data = {"login_id": "nobody99", "password": "wrong"}
    return [
        (browsers[i % 10], "/login", data, {"X-Forwarded-For": f"10.1.{i // 250}.{i % 250}"})
        for i in range(count)
    ]


def test_100_login_posts_in_a_minute_get_exactly_30_answers_across_workers_and_a_restart(site):
    before = at_once(login_tries(site.url, 20))
    site.restart()
    after = at_once(login_tries(site.url, 80))
    assert before == [422] * 20
    assert sorted(after) == [422] * 10 + [429] * 70


@contextmanager
def members(url: str, count: int):
    browsers = [Browser(url) for _ in range(count)]
    for browser in browsers:
        assert browser.log_in() == 303
        browser.get("/account/email/edit")
    yield browsers


def test_email_change_requests_are_exactly_10_an_hour_across_workers_and_a_restart(site):
    with members(site.url, 5) as browsers:
        before = at_once([(browsers[i % 5], "/account/email", ADDRESS, None) for i in range(6)], 5)
        site.restart()
        after = at_once([(browsers[i % 5], "/account/email", ADDRESS, None) for i in range(9)], 5)
    assert before == [303] * 6
    assert sorted(after) == [303] * 4 + [429] * 5


def test_the_database_store_counts_per_window_and_drops_ended_windows(app):
    store = app.extensions["ratelimit"].storage
    assert isinstance(store, DatabaseStorage)  # the default: no setting, no other service

    def counters():
        return {c.key: c.hits for c in RateLimitCounter.select()}

    def work():
        assert [store.incr("a", 60) for _ in range(3)] == [1, 2, 3]
        assert store.incr("b", 3600, amount=2) == 2
        assert store.get("a") == 3 and store.get("nothing") == 0
        assert time.time() + 59 < store.get_expiry("a") <= time.time() + 60
        with time_machine.travel(time.time() + 61):
            assert store.get("a") == 0
            # A window starting anywhere deletes the ended ones: they never pile up.
            assert store.incr("c", 60) == 1
            assert counters() == {"b": 2, "c": 1}
            assert store.incr("c", 60) == 2
        with time_machine.travel(time.time() + 200):
            assert store.incr("c", 60) == 1  # its window ended: counting starts again
            assert purge_expired(time.time() + 3600) == 2  # for a cleanup command
        assert counters() == {}
        store.incr("d", 60)
        store.clear("d")
        assert store.get("d") == 0 and store.check()

    in_db(work)
