"""The real server on loopback, for tests and benchmarks: gunicorn with the production settings
(`running`, `start`), and a member's browser without the browser (`Browser`): cookies, CSRF
tokens and form posts over real HTTP."""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(database_url: str, **extra) -> dict:
    return {
        **os.environ,
        "FLASK_SECRET_KEY": secrets.token_hex(32),
        "FLASK_DATABASE_URL": database_url,
        "FLASK_SESSION_COOKIE_SECURE": "false",
        **extra,
    }


def flask(env: dict, *args: str) -> None:
    subprocess.run(
        [BIN / "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


@contextmanager
def running(
    app: str = "app:create_app()",
    database_url: str | None = None,
    seed=True,
    workers: int | None = None,
    **extra,
):
    """Yield the base URL of a gunicorn serving `app` with a fresh seeded SQLite database."""
    with tempfile.TemporaryDirectory() as tmp:
        env = app_env(database_url or f"sqlite:///{tmp}/bench.sqlite3", **extra)
        if seed:
            flask(env, "init-db")
            flask(env, "seed-demo")
        port = free_port()
        env["BIND"] = f"127.0.0.1:{port}"
        if workers:
            env["WEB_CONCURRENCY"] = str(workers)
        process = start(app, env)
        try:
            yield process.url
        finally:
            process.terminate()
            process.wait(10)


def start(app: str, env: dict, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    """Start gunicorn in its own process group (so a test can SIGKILL all of it) and wait
    until it answers. `env["BIND"]` says where; its log goes to `stderr`."""
    process = subprocess.Popen(
        [BIN / "gunicorn", "-c", "gunicorn.conf.py", app],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stderr=stderr,
    )
    process.url = f"http://{env['BIND']}"
    for _ in range(150):
        try:
            urllib.request.urlopen(process.url + "/", timeout=1)
            return process
        except urllib.error.HTTPError:
            return process  # it answered
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        self.token = ""

    def request(self, path: str, data: dict | None = None, headers: dict | None = None):
        """(status, body, headers); remembers the page's CSRF token for the next POST."""
        body = None
        if data is not None:
            body = urllib.parse.urlencode({"csrf_token": self.token, **data}).encode()
        request = urllib.request.Request(self.base + path, body, headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                status, text, got = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, text, got = error.code, error.read().decode(), error.headers
        if match := TOKEN.search(text):
            self.token = match[1]
        return status, text, got

    def get(self, path: str, **kwargs):
        return self.request(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.request(path, data or {}, **kwargs)

    def log_in(self, login_id: str = "taro0001", password: str = "Webbill#2024") -> int:
        self.get("/login")
        status, _, _ = self.post("/login", {"login_id": login_id, "password": password})
        if status == 303:
            self.get("/account")
        return status

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def email_confirmation_link(
    member: Browser, database: str, new_email: str = "bench.new@example.net"
) -> str:
    """Apply for a contact-address change as `member` would (⑥ [変更] → [変更する] → 登録する,
    as form posts), then read the link mailed to the new address from the outbox of the SQLite
    file `database` (the live server runs without debug, so /dev/mail is not there). The
    link names EXTERNAL_BASE_URL; the one returned points at the member's server."""
    member.get("/account/email/edit")
    status, _, _ = member.post(
        "/account/email",
        {
            "new_email": new_email,
            "new_email_confirm": new_email,
            "secret_question": "母親の旧姓は？",
            "secret_answer": "やまだ",
        },
    )
    if status != 303:
        raise RuntimeError(f"email change request answered {status}")
    with sqlite3.connect(database) as db:
        (body,) = db.execute(
            'SELECT body FROM outboxmail WHERE "to" = ? ORDER BY id DESC LIMIT 1', (new_email,)
        ).fetchone()
    return member.base + re.search(r"https?://[^/\s]+(/email/confirm/\S+)", body)[1]
