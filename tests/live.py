"""The real server on loopback, for tests and benchmarks: gunicorn with the production settings
(`running`, `start`), nginx in front of it from deploy/nginx.conf over TLS (`behind_nginx`,
`running(nginx=True)`), and a member's browser without the browser (`Browser`): cookies, CSRF
tokens and form posts over real HTTP."""

from __future__ import annotations

import atexit
import base64
import hashlib
import http.cookiejar
import os
import re
import secrets
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The site's address (EXTERNAL_BASE_URL) of every server started here: mailed links name it,
# and a browser may POST only from its origin.
SITE = "https://billing.example.jp"


def app_env(database_url: str, **extra) -> dict:
    return {
        **os.environ,
        "FLASK_SECRET_KEY": secrets.token_hex(32),
        "FLASK_DATABASE_URL": database_url,
        "FLASK_SESSION_COOKIE_SECURE": "false",
        "FLASK_EXTERNAL_BASE_URL": SITE,
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
    nginx: bool = False,
    **extra,
):
    """Yield the base URL of a gunicorn serving `app` with a fresh seeded SQLite database; with
    `nginx`, the HTTPS URL of nginx in front of it, as in production (Secure cookies)."""
    if nginx:
        extra = {**PROXIED, **extra}
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
            if nginx:
                with behind_nginx(process.url) as url:
                    yield url
            else:
                yield process.url
        finally:
            process.terminate()
            process.wait(10)


def start(
    app: str, env: dict, stderr=subprocess.DEVNULL, wait=True, stdout=None
) -> subprocess.Popen:
    """Start gunicorn in its own process group (so a test can SIGKILL all of it) and wait
    until it answers (unless not `wait`: then nothing has asked it anything yet).
    `env["BIND"]` says where; its error log goes to `stderr` (a file), stdout to `stdout`."""
    process = subprocess.Popen(
        [BIN / "gunicorn", "-c", "gunicorn.conf.py", app],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=stdout,
        stderr=stderr,
    )
    process.url = f"http://{env['BIND']}"
    if wait:
        wait_until_answering(process.url, "gunicorn")
    return process


def flask_run(
    env: dict, instance: Path, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL
) -> subprocess.Popen:
    """`flask run` as `make run` starts it (debug: Werkzeug's development server with its
    reloader, so two processes), in its own process group, with its instance folder (secret
    key, QA clock) at `instance`; waits until it answers on `env["BIND"]`."""
    host, port = env["BIND"].split(":")
    process = subprocess.Popen(
        [BIN / "flask", "--app", f"app:create_app(instance_path={str(instance)!r})", "run"]
        + ["--host", host, "--port", port],
        cwd=ROOT,
        env={**env, "FLASK_DEBUG": "1"},
        start_new_session=True,
        stdout=stdout,
        stderr=stderr,
    )
    process.url = f"http://{env['BIND']}"
    wait_until_answering(process.url, "flask run")
    return process


def wait_until_answering(url: str, name: str) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/", timeout=1, context=tls_context())
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not start")


# The app's settings behind nginx, as the README's production section has them.
PROXIED = {"FLASK_PROXY_FIX_X_FOR": "1", "FLASK_SESSION_COOKIE_SECURE": "true"}
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# What Debian's /etc/nginx/nginx.conf puts around the site file, every path under the prefix
# (`gzip on` included: the site file must turn it off).
NGINX_MAIN = """\
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    gzip on;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/webbilling.conf;
}}
"""


@contextmanager
def behind_nginx(upstream: str):
    """nginx with deploy/nginx.conf in front of the gunicorn at `upstream`, started from a
    temporary prefix on a free loopback port; yields its HTTPS URL (certificate: tls_files())."""
    certificate, key = tls_files()
    port = free_port()
    values = {
        "@SERVER_NAME@": "127.0.0.1",
        "@LISTEN@": f"127.0.0.1:{port}",
        "@REDIRECT_LISTEN@": f"127.0.0.1:{free_port()}",
        "@CERTIFICATE@": certificate,
        "@CERTIFICATE_KEY@": key,
        "@UPSTREAM@": upstream.removeprefix("http://"),
    }
    with tempfile.TemporaryDirectory() as prefix:
        site = (ROOT / "deploy" / "nginx.conf").read_text()
        for placeholder, value in values.items():
            site = site.replace(placeholder, value)
        Path(prefix, "webbilling.conf").write_text(site)
        # As root, nginx would run its workers as `nobody`, who cannot read the prefix.
        user = "user root;" if os.geteuid() == 0 else ""
        Path(prefix, "nginx.conf").write_text(NGINX_MAIN.format(prefix=prefix, user=user))
        process = subprocess.Popen(
            [NGINX, "-e", "stderr", "-p", prefix, "-c", f"{prefix}/nginx.conf"]
            + ["-g", "daemon off;"],
            start_new_session=True,
        )
        url = f"https://127.0.0.1:{port}"
        try:
            wait_until_answering(url, "nginx")
            yield url
        finally:
            process.terminate()
            process.wait(10)


@cache
def tls_files() -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and its key, made once per process."""
    folder = tempfile.mkdtemp(prefix="webbilling-tls-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    certificate, key = f"{folder}/cert.pem", f"{folder}/key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        + ["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate],
        check=True,
        capture_output=True,
    )
    return certificate, key


def chromium_at_site(nginx_url: str) -> list[str]:
    """Chromium flags that open SITE on the nginx at `nginx_url` (behind_nginx), trusting its
    key as a browser trusts the real site's: pages at SITE then POST with SITE's origin, which
    the app requires, and are cached as usual (after a mere certificate error, nothing is)."""
    spki = subprocess.run(
        ["openssl", "pkey", "-in", tls_files()[1], "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    port = urllib.parse.urlsplit(nginx_url).port
    return [
        f"--host-resolver-rules=MAP {urllib.parse.urlsplit(SITE).hostname} 127.0.0.1:{port}",
        "--ignore-certificate-errors-spki-list="
        + base64.b64encode(hashlib.sha256(spki).digest()).decode(),
    ]


@cache
def tls_context() -> ssl.SSLContext:
    """Client side: trusts the certificate of tls_files()."""
    return ssl.create_default_context(cafile=tls_files()[0])


TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar),
            NoRedirect(),
            urllib.request.HTTPSHandler(context=tls_context()),
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
