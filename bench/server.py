"""Start the real server (gunicorn, production settings) on loopback for a benchmark."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
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
    subprocess.run([BIN / "flask", "--app", "app", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


@contextmanager
def running(app: str = "app:create_app()", database_url: str | None = None, seed=True,
            workers: int | None = None, **extra):
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
        process = subprocess.Popen([BIN / "gunicorn", "-c", "gunicorn.conf.py", app],
                                   cwd=ROOT, env=env)
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/login" if seed else url, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        try:
            yield url
        finally:
            process.terminate()
            process.wait(10)
