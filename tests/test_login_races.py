"""The login lock-out under concurrency (real threads against the app, real gunicorn worker
processes), the secret-question step held on the server, and a new session token after every
credential change (issue 11: F4, F5, F6)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine

import hashing
from clock import utcnow
from models import LoginSession, Member

from .conftest import HX, PASSWORD, TEST_DATABASE_URL, in_db, log_in, post, token_in
from .live import Browser, app_env, free_port, start

WRONG = "Wrong#pass1"
TOP = "/"  # WebビリングTOP
ANSWER = "やまだ"  # taro0001's secret answer in the demo data


def taro() -> Member:
    return in_db(lambda: Member.get(Member.login_id == "taro0001"))


class Checks:
    """Wraps the argon2 hasher and records each real verification (not the dummy hash that
    unknown IDs and locked accounts are verified against): (secret, right?). `hold` makes the
    verification of one secret wait for an event, to order a race."""

    def __init__(self, hasher, hold: str | None = None):
        self.hasher, self.hold = hasher, hold
        self.done: list[tuple[str, bool]] = []
        self.waiting, self.release = threading.Event(), threading.Event()
        self.lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.hasher, name)

    def verify(self, secret_hash, secret):
        if secret_hash == hashing.DUMMY_HASH:
            return self.hasher.verify(secret_hash, secret)
        if secret == self.hold:
            self.waiting.set()
            assert self.release.wait(30)
        try:
            self.hasher.verify(secret_hash, secret)
            right = True
        except Exception:
            right = False
            raise
        finally:
            with self.lock:
                self.done.append((secret, right))
        return True


@pytest.fixture
def checks(monkeypatch):
    def install(hold=None):
        counter = Checks(hashing.hasher, hold)
        monkeypatch.setattr(hashing, "hasher", counter)
        return counter

    return install


def at_once(jobs) -> list:
    """Run the callables in threads released together; their results in order."""
    barrier = threading.Barrier(len(jobs), timeout=30)
    results = [None] * len(jobs)

    def run(i, job):
        barrier.wait()
        results[i] = job()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def login_post(app, password):
    """A browser on the login page, ready to post `password` for taro0001."""
    client = app.test_client()
    token = token_in(client.get("/login").get_data(as_text=True))
    data = {"csrf_token": token, "login_id": "taro0001", "password": password}
    return client, lambda: client.post("/login", data=data)


def enable_secret_auth():
    in_db(
        lambda: (
            Member.update(secret_auth_enabled=True).where(Member.login_id == "taro0001").execute()
        )
    )


def copies(app, client, n):
    """`n` more browsers holding a copy of `client`'s cookie."""
    cookie = client.get_cookie("session").value
    others = []
    for _ in range(n):
        other = app.test_client()
        other.set_cookie("session", cookie)
        others.append(other)
    return others


def secret_post(client, answer):
    token = token_in(client.get("/login/secret").get_data(as_text=True))
    return lambda: client.post("/login/secret", data={"csrf_token": token, "answer": answer})


def credentials_post(client, current_password):
    token = token_in(client.get("/account").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "target": "password",
        "current_password": current_password,
        "new_password": "Shin-pass42",
        "new_password_confirm": "Shin-pass42",
    }
    return lambda: client.post("/account/credentials", data=data, headers=HX)


@pytest.mark.parametrize("where", ["login", "secret", "credentials"])
def test_twelve_simultaneous_wrong_secrets_get_at_most_five_checks(app, checks, where):
    if where == "login":
        jobs = [login_post(app, WRONG)[1] for _ in range(12)]
    elif where == "secret":
        enable_secret_auth()
        client = app.test_client()
        assert log_in(client).headers["Location"] == "/login/secret"
        jobs = [secret_post(c, "ちがう") for c in copies(app, client, 12)]
    else:
        client = app.test_client()
        log_in(client)
        jobs = [credentials_post(c, WRONG) for c in copies(app, client, 12)]
    counter = checks()
    responses = at_once(jobs)
    assert all(r is not None and r.status_code < 500 for r in responses)
    assert len(counter.done) == app.config["LOGIN_MAX_FAILURES"]
    assert taro().is_locked(utcnow())


def test_after_four_failures_wrong_wrong_right_at_once_never_logs_in_after_the_lock(app, checks):
    for _ in range(4):
        log_in(app.test_client(), password=WRONG)
    counter = checks()
    browsers = [login_post(app, p) for p in (WRONG, WRONG, PASSWORD)]
    responses = at_once([job for _, job in browsers])
    # One attempt was left before the lock: the first password checked decides.
    (_, right), logins = counter.done[0], in_db(LoginSession.select().count)
    if right:  # the right one came first: it logged in and cleared the count
        assert logins == 1 and responses[2].status_code == 303
        # A wrong one that a busy machine started only after that login is a new failure.
        later = counter.done[1:]
        assert all(not ok for _, ok in later) and taro().failed_logins == len(later)
        assert not taro().is_locked(utcnow())
    else:  # a wrong one came first: the lock stands, nobody logged in, nothing else checked
        assert len(counter.done) == 1
        assert logins == 0 and taro().is_locked(utcnow())
    assert [r.status_code for r in responses[:2]] == [422, 422]


def test_a_success_never_clears_a_lock_set_while_it_was_checked(app, checks):
    """The right password starts first and is still being hashed when a wrong one, the 5th
    failure, locks the account: the lock stands and the right one does not log in."""
    for _ in range(3):
        log_in(app.test_client(), password=WRONG)
    counter = checks(hold=PASSWORD)
    right_browser, right = login_post(app, PASSWORD)
    _, wrong = login_post(app, WRONG)
    answers = {}
    thread = threading.Thread(target=lambda: answers.setdefault("right", right()))
    thread.start()
    assert counter.waiting.wait(30)  # the right one has begun its check
    assert wrong().status_code == 422
    counter.release.set()
    thread.join(30)
    assert answers["right"].status_code != 303
    assert taro().is_locked(utcnow())
    assert in_db(LoginSession.select().count) == 0
    assert right_browser.get("/account").status_code == 303


def test_the_lock_cannot_be_raced_across_worker_processes(app):
    """12 simultaneous wrong passwords to three gunicorn workers: exactly five are counted
    (the fifth locks, with the count back at zero); none is checked past the lock."""
    env = app_env(app.config["DATABASE_URL"], BIND=f"127.0.0.1:{free_port()}")
    server = start("app:create_app()", {**env, "WEB_CONCURRENCY": "3"})
    try:
        browsers = [Browser(server.url) for _ in range(12)]
        for browser in browsers:
            browser.get("/login")
        jobs = [
            lambda b=b: b.post("/login", {"login_id": "taro0001", "password": WRONG})[0]
            for b in browsers
        ]
        assert at_once(jobs) == [422] * 12
    finally:
        server.terminate()
        server.wait(10)
    locked = taro()
    assert locked.is_locked(utcnow()) and locked.failed_logins == 0


# The secret-question step (F5)


def test_one_copy_of_the_secret_step_completes_at_most_one_login(app):
    enable_secret_auth()
    client = app.test_client()
    assert log_in(client).headers["Location"] == "/login/secret"
    browsers = [client, *copies(app, client, 3)]
    responses = at_once([secret_post(b, ANSWER) for b in browsers])
    assert sorted(r.status_code for r in responses) == [303] * 4
    tops = [r for r in responses if r.headers["Location"] == TOP]
    assert len(tops) == 1
    assert in_db(LoginSession.select().count) == 1
    assert sum(b.get("/account").status_code == 200 for b in browsers) == 1


def test_a_used_secret_step_tells_why(app):
    enable_secret_auth()
    client = app.test_client()
    log_in(client)
    (copy,) = copies(app, client, 1)
    replay = secret_post(copy, ANSWER)  # the copy has the question on screen too
    assert secret_post(client, ANSWER)().headers["Location"] == TOP
    response = replay()
    assert response.headers["Location"] == "/login"
    page = copy.get("/login").get_data(as_text=True)
    assert "このログインの手続きは完了済みか、無効になりました。" in page
    assert copy.get("/account").status_code == 303


# The fields of a password change and of a login-ID change on the credentials form.
NEW_CREDENTIALS = {
    "password": {"new_password": "Shin-pass42", "new_password_confirm": "Shin-pass42"},
    "login_id": {
        "current_login_id": "taro0001",
        "new_login_id": "Jiro2025x",
        "new_login_id_confirm": "Jiro2025x",
    },
}


@pytest.mark.parametrize("target", ["password", "login_id"])
def test_the_secret_step_is_void_once_the_credentials_change(app, target):
    enable_secret_auth()
    waiting = app.test_client()
    assert log_in(waiting).headers["Location"] == "/login/secret"
    answer = secret_post(waiting, ANSWER)  # the question on screen, not yet answered
    member = app.test_client()
    log_in(member)
    assert secret_post(member, ANSWER)().headers["Location"] == TOP
    data = {"target": target, "current_password": PASSWORD, **NEW_CREDENTIALS[target]}
    assert post(member, "/account/credentials", data, HX).status_code == 200
    assert answer().headers["Location"] == "/login"
    assert waiting.get("/account").status_code == 303


def test_the_secret_step_is_void_after_ten_minutes(app):
    enable_secret_auth()
    client = app.test_client()
    log_in(client)
    answer = secret_post(client, ANSWER)
    with time_machine.travel(utcnow() + timedelta(minutes=10, seconds=5)):
        response = answer()
        assert response.headers["Location"] == "/login"
        page = client.get("/login").get_data(as_text=True)
        assert "秘密の質問への回答の有効期限（10分）が過ぎました。" in page
        assert client.get("/account").status_code == 303


# A new session token after every credential change (F6)


@pytest.mark.parametrize("target", ["password", "login_id"])
def test_a_credential_change_gives_this_session_a_new_token(app, target):
    member = app.test_client()
    log_in(member)
    (copy,) = copies(app, member, 1)
    assert copy.get("/account").status_code == 200
    data = {"target": target, "current_password": PASSWORD, **NEW_CREDENTIALS[target]}
    assert post(member, "/account/credentials", data, HX).status_code == 200
    assert copy.get("/account").status_code == 303  # the old cookie opens nothing
    assert member.get("/account").status_code == 200  # the member's own browser goes on
    assert in_db(LoginSession.select().count) == 1


def test_the_database_is_the_configured_one(app):
    if TEST_DATABASE_URL:
        assert app.config["DATABASE_URL"].startswith("postgresql")


def test_the_secret_step_keeps_a_long_next_address(app):
    enable_secret_auth()
    client = app.test_client()
    target = "/account?" + "x" * 400
    token = token_in(client.get("/login").get_data(as_text=True))
    data = {"csrf_token": token, "login_id": "taro0001", "password": PASSWORD, "next": target}
    assert client.post("/login", data=data).headers["Location"] == "/login/secret"
    assert secret_post(client, ANSWER)().headers["Location"] == target
