"""Start the real server (gunicorn, production settings) on loopback for a benchmark."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Debian's chromium, as the browser tests and the benchmarks launch it: no sandbox (root), and
# no background traffic to hosts this closed network cannot reach.
CHROMIUM = {
    "executable_path": "/usr/bin/chromium",
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ],
}
# A low-end phone's screen.
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "ja-JP",
}
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


def start(app: str, env: dict) -> subprocess.Popen:
    """Start gunicorn in its own process group (so a test can SIGKILL all of it) and wait
    until it answers. `env["BIND"]` says where."""
    process = subprocess.Popen(
        [BIN / "gunicorn", "-c", "gunicorn.conf.py", app],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stderr=subprocess.DEVNULL,
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
