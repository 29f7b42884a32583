"""The production setup on loopback, attacked as the issue #11 probe did: nginx from
deploy/nginx.conf (TLS) in front of gunicorn from gunicorn.conf.py (3 sync workers), SQLite."""

from __future__ import annotations

import http.client
import re
import sqlite3
import tempfile
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .live import (
    PROXIED,
    Browser,
    app_env,
    behind_nginx,
    flask,
    free_port,
    running,
    start,
    tls_context,
)
from .slow_clients import Dribblers, send_huge_body, timed_get


class Production:
    url: str  # nginx, as members reach it
    direct: str  # gunicorn itself
    master: int  # gunicorn's master process
    log: Path  # gunicorn's error log


@pytest.fixture(scope="module")
def production():
    with tempfile.TemporaryDirectory() as tmp:
        env = app_env(f"sqlite:///{tmp}/prod.sqlite3", **PROXIED)
        flask(env, "init-db")
        flask(env, "seed-demo")
        env |= {"BIND": f"127.0.0.1:{free_port()}", "WEB_CONCURRENCY": "3"}
        server = Production()
        server.log = Path(tmp, "gunicorn.log")
        with server.log.open("wb") as log:
            process = start("app:create_app()", env, stderr=log)
        server.direct, server.master = process.url, process.pid
        try:
            with behind_nginx(process.url) as url:
                server.url = url
                yield server
        finally:
            process.terminate()
            process.wait(10)


def percentile(values: list[float], q: float) -> float:
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, round(q / 100 * len(ranked) + 0.5) - 1)]


def test_fifty_slow_heads_and_fifty_slow_bodies_do_not_slow_down_the_login_page(production):
    with Dribblers(production.url, headers=50, bodies=50) as attack:
        threading.Event().wait(3)  # let every attacker get its connection
        holding = attack.open_now()
        answers = [timed_get(production.url, "/login") for _ in range(100)]
        still_holding = attack.open_now()
    assert holding >= 95 and still_holding >= 95  # the attack was on all along
    assert [status for _, status in answers] == [200] * 100
    assert percentile([seconds for seconds, _ in answers], 99) < 1.0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_64_kb_is_refused_before_it_is_read(production, chunked):
    result = send_huge_body(production.url, mebibytes=50, chunked=chunked)
    assert result["status"] == 413
    assert result["sent"] < result["total"] / 10  # answered long before the body was sent


def test_the_app_refuses_a_body_over_64_kb_itself_when_reached_directly(production):
    result = send_huge_body(production.direct, mebibytes=50)
    assert result["status"] == 413
    assert result["sent"] < result["total"] / 10


def worker_rss(master: int) -> dict[int, int]:
    """Each gunicorn worker's resident memory, in KiB."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {
        int(pid): int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())[1])
        for pid in children
    }


NAME_3_KB = ("x" * 199 + "/") * 15 + "a.css"  # segments of a length any file system takes


def ask_for_missing_files(url: str, first: int, count: int, clients: int = 4) -> set[int]:
    """GET /static/<a distinct 3 KB name> `count` times over keep-alive connections."""
    parts = urllib.parse.urlsplit(url)
    statuses: set[int] = set()

    def client(k: int) -> None:
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, context=tls_context(), timeout=30
        )
        for i in range(first + k, first + count, clients):
            connection.request("GET", f"/static/{i:06d}/{NAME_3_KB}")
            response = connection.getresponse()
            response.read()
            statuses.add(response.status)
        connection.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_requests_for_missing_static_files_do_not_grow_the_workers(production):
    assert ask_for_missing_files(production.url, 0, 1_000) == {404}  # warm up
    before = worker_rss(production.master)
    assert ask_for_missing_files(production.url, 1_000, 10_000) == {404}
    after = worker_rss(production.master)
    assert after.keys() == before.keys() and len(before) == 3  # the same workers
    growth = {pid: after[pid] - before[pid] for pid in before}
    assert max(growth.values()) <= 2 * 1024, f"KiB grown per worker: {growth}"


ODD_NAMES = [
    "a" * 300,  # one segment longer than any file system allows
    "css/" + "b" * 256 + ".css",
    "vendor/htmx/" + "c" * 300,
    "%00",
    "css/site.css%00.map",
    "%ff%fe.css",
    "..%2fapp.py",
    "%2e%2e/%2e%2e/etc/passwd",
    "css",  # a folder
    "css/",
    "vendor/htmx/",
    "a%0ab.css",
    "\\..\\app.py",
    "/".join(["d"] * 1000),
]


def test_odd_static_names_are_404_and_leave_no_traceback(production):
    log_before = production.log.read_text()
    for name in ODD_NAMES:
        _, status = timed_get(production.direct, "/static/" + name)
        assert status == 404, name
    _, status = timed_get(production.direct, "/static/css/site.css")
    assert status == 200
    logged = production.log.read_text().removeprefix(log_before)
    assert "Traceback" not in logged and "Error" not in logged, logged[:2000]


def headers_of(url: str) -> http.client.HTTPMessage:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, context=tls_context()) as response:
        return response.headers


def test_through_nginx_pages_get_hsts_and_a_query_get_stays_uncompressed(production):
    headers = headers_of(production.url + "/login")
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert headers["Content-Encoding"] == "gzip"  # the app's own compression
    headers = headers_of(production.url + "/login?next=x")
    assert "Content-Encoding" not in headers  # BREACH: nginx's `gzip on` must not undo this
    member = Browser(production.url)
    assert member.log_in() == 303
    assert any(cookie.secure for cookie in member.jar)


def test_through_nginx_a_post_from_another_origin_is_refused(production):
    """nginx ends TLS, so the app sees plain HTTP and Flask-WTF's Referer check (HTTPS only)
    never runs: the Origin check still does, against EXTERNAL_BASE_URL."""
    member = Browser(production.url)
    member.get("/login")
    login = {"login_id": "taro0001", "password": "Webbill#2024"}
    status, page, _ = member.post("/login", login, headers={"Origin": "https://evil.example"})
    assert status == 400 and "画面の有効期限が切れたか" in page
    status, _, _ = member.post("/login", login, headers={"Origin": "https://billing.example.jp"})
    assert status == 303


def test_a_direct_client_cannot_forge_the_sites_path_or_its_address(tmp_path):
    """gunicorn trusts no forwarding header (forwarded_allow_ips), and the app only the
    X-Forwarded-For entries PROXY_FIX_X_FOR says a proxy adds (none here)."""
    database = tmp_path / "direct.sqlite3"
    limits = {"FLASK_LOGIN_RATE_LIMIT": "4 per minute"}
    with running(database_url=f"sqlite:///{database}", **limits) as url:
        forged = {
            "SCRIPT_NAME": "/x",
            "X-Forwarded-Prefix": "/x",
            "X-Forwarded-Host": "evil.example",
            "Host": "evil.example",  # mailed links name EXTERNAL_BASE_URL, never the Host
        }
        member = Browser(url)
        status, page, _ = member.get("/x/login", headers=forged)
        assert status == 404 and "/x/static/" not in page
        _, page, _ = member.get("/login", headers=forged)
        assert '"/static/css/site.css' in page and "/x/" not in page
        assert member.log_in() == 303
        member.get("/account/email/edit")
        request = {
            "new_email": "forged@example.net",
            "new_email_confirm": "forged@example.net",
            "secret_question": "母親の旧姓は？",
            "secret_answer": "やまだ",
        }
        assert member.post("/x/account/email", request, headers=forged)[0] == 404
        assert member.post("/account/email", request, headers=forged)[0] == 303
        with sqlite3.connect(database) as db:
            bodies = [body for (body,) in db.execute("SELECT body FROM outboxmail")]
        links = re.findall(r"https?://\S+/email/confirm/", "\n".join(bodies))
        assert links == ["https://billing.example.jp/email/confirm/"]

        # A different X-Forwarded-For on every try is still one client: after the member's
        # login above, the 4th POST is the 5th in the minute, 429.
        statuses = []
        for i in range(4):
            client = Browser(url)
            client.get("/login")
            data = {"login_id": "nobody99", "password": "x"}
            status, _, _ = client.post("/login", data, headers={"X-Forwarded-For": f"10.0.0.{i}"})
            statuses.append(status)
        assert statuses == [422, 422, 422, 429]
