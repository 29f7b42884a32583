"""Running it for years: backups under writes, /healthz up and down, the request log (one line
per request, nothing secret in it) and the request id that error pages give as お問い合わせ番号."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

import migrations
from clock import utcnow
from models import LoginSession, OutboxMail, SchemaVersion

from .conftest import HX, PASSWORD, TEST_DATABASE_URL, in_db, log_in, make_app, post, token_in
from .live import BIN, ROOT, Browser, app_env, flask, flask_run, free_port, start
from .test_sweeps import concrete, rules

# One request-log line: time, request id, method, path, status, duration.
LINE = re.compile(
    r"^\[[^\]]+\] (?P<id>\d{4}-\d{4}-\d{4}) (?P<method>[A-Z]+) (?P<path>\S+) "
    r"(?P<status>\d{3}) (?P<ms>\d+\.\d)ms$",
    re.M,
)


def log_lines(text: str) -> list[dict]:
    return [m.groupdict() for m in LINE.finditer(text)]


def inquiry_number(html: str) -> str:
    return re.search(r"お問い合わせ番号：(?:<[^>]+>)?([^<\s]+)", html)[1]


# ---- backups --------------------------------------------------------------------------


def test_a_backup_taken_during_writes_is_whole_and_holds_every_change_committed_before_it(
    tmp_path,
):
    """Always on SQLite (PostgreSQL is backed up with pg_dump): the real server takes phone
    changes from four members' browsers while `flask backup` copies the file."""
    database = tmp_path / "live.sqlite3"
    env = app_env(f"sqlite:///{database}", BIND=f"127.0.0.1:{free_port()}")
    flask(env, "init-db")
    flask(env, "seed-demo")
    server = start("app:create_app()", env)
    acknowledged, answers, stop = [], [], threading.Event()

    def change_phone(worker: int):
        member = Browser(server.url)
        assert member.log_in(("taro0001", "hanako0002")[worker % 2]) == 303
        for n in range(100_000):
            if stop.is_set():
                return
            number = f"0901{n * 4 + worker:07d}"  # unique last four digits
            status, _, _ = member.post("/account/phone", {"new_phone": number})
            answers.append(status)
            if status == 303:
                acknowledged.append(number)

    writers = [threading.Thread(target=change_phone, args=(w,)) for w in range(4)]
    try:
        for writer in writers:
            writer.start()
        while len(acknowledged) < 20:
            time.sleep(0.05)
        committed_before = list(acknowledged)
        backup = tmp_path / "backup.sqlite3"
        result = subprocess.run(
            [BIN / "flask", "--app", "app", "backup", str(backup)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        during = len(acknowledged) - len(committed_before)
        time.sleep(0.3)
    finally:
        stop.set()
        for writer in writers:
            writer.join()
        server.terminate()
        server.wait(10)
    assert result.returncode == 0, result.stderr
    assert "バックアップを作成しました" in result.stdout
    assert set(answers) == {303}  # the backup never made a writer wait into an error
    assert during > 0 and len(acknowledged) > len(committed_before) + during

    with sqlite3.connect(backup) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA foreign_key_check").fetchall() == []
        details = [d for (d,) in copy.execute("SELECT detail FROM changehistory ORDER BY id")]
        phones = dict(copy.execute("SELECT login_id, daytime_phone FROM member"))
        # A snapshot: each member's number is the one its newest history row names.
        for phone, newest in copy.execute(
            "SELECT daytime_phone, (SELECT detail FROM changehistory h WHERE h.member_id = m.id"
            " ORDER BY h.id DESC LIMIT 1) FROM member m"
        ):
            assert newest.endswith(f"{phone[-4:]} に変更")
    for number in committed_before:
        assert sum(d.endswith(f"{number[-4:]} に変更") for d in details) == 1, number
    assert len(details) < len(acknowledged)  # taken before the writes stopped

    # Restored as the README says (the database and its -wal/-shm moved aside, the backup
    # copied in), it is served: the member finds the number the backup holds.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, database)
    flask(env, "init-db")
    again = start("app:create_app()", env)
    try:
        member = Browser(again.url)
        assert member.log_in() == 303
        page = member.get("/account")[1]
    finally:
        again.terminate()
        again.wait(10)
    shown = phones["taro0001"]
    assert f"{shown[:3]}-{shown[3:7]}-{shown[7:]}" in page


def test_a_backup_refuses_an_existing_file_unless_told_and_never_the_database_itself(tmp_path):
    database = tmp_path / "test.sqlite3"
    runner = make_app(tmp_path, DATABASE_URL=f"sqlite:///{database}").test_cli_runner()
    for command in ("init-db", "seed-demo"):
        assert runner.invoke(args=[command]).exit_code == 0
    target = tmp_path / "copy.sqlite3"
    target.write_text("last night's backup")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code != 0 and "--replace" in result.output
    assert target.read_text() == "last night's backup"

    result = runner.invoke(args=["backup", "--replace", str(target)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM member").fetchone()[0] == 2
    assert not (tmp_path / "copy.sqlite3.partial").exists()

    size = database.stat().st_size
    result = runner.invoke(args=["backup", "--replace", str(database)])
    assert result.exit_code != 0 and "データベースそのもの" in result.output
    assert database.stat().st_size == size


def test_postgresql_is_backed_up_with_pg_dump(tmp_path):
    url = TEST_DATABASE_URL or f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    runner = make_app(tmp_path, DATABASE_URL=url).test_cli_runner()
    result = runner.invoke(args=["backup", str(tmp_path / "copy")])
    assert result.exit_code != 0 and "pg_dump" in result.output
    assert not (tmp_path / "copy").exists()


# ---- /healthz -------------------------------------------------------------------------


def test_healthz_answers_200_with_a_tiny_body_without_session_csrf_or_limit(app, client):
    for _ in range(100):  # more than any rate limit lets through
        response = client.get("/healthz")
        assert response.status_code == 200 and response.get_data(as_text=True) == "ok\n"
    assert response.mimetype == "text/plain" and "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert client.head("/healthz").status_code == 200


def test_healthz_writes_nothing_even_for_a_logged_in_browser(app, member_client, tmp_path):
    """A logged-in cookie on any other page refreshes the session's last-seen time once a
    minute; on /healthz no session is even looked at. On SQLite, PRAGMA data_version (on a
    connection of our own) also counts every commit anyone else made."""
    watcher = None if TEST_DATABASE_URL else sqlite3.connect(tmp_path / "test.sqlite3")

    def commits():
        return watcher.execute("PRAGMA data_version").fetchone()[0] if watcher else None

    def last_seen():
        return in_db(lambda: [s.last_seen_at for s in LoginSession.select()])

    before, version = last_seen(), commits()
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        for _ in range(3):
            assert member_client.get("/healthz").status_code == 200
        assert last_seen() == before and commits() == version
        member_client.get("/account")  # the same browser on a page: a write
        assert last_seen() != before
        assert watcher is None or commits() != version


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/no-such-folder/db.sqlite3",
        "postgresql://postgres@127.0.0.1:{port}/webbilling",  # nothing listens there
    ],
)
def test_healthz_answers_503_when_the_database_cannot_be_reached(tmp_path, url):
    app = make_app(tmp_path, DATABASE_URL=url.format(tmp=tmp_path, port=free_port()))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "database unreachable\n"
    assert not (tmp_path / "no-such-folder").exists()


def test_healthz_answers_503_when_the_schema_is_not_the_codes(app, client, monkeypatch):
    """A forgotten init-db (code newer than the database), or another server already
    upgraded the database under this one (code older): both visible to monitoring."""
    monkeypatch.setattr(migrations, "LATEST", migrations.LATEST + 1)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == (
        f"schema {migrations.LATEST - 1}, code {migrations.LATEST}\n"
    )
    monkeypatch.undo()
    in_db(lambda: SchemaVersion.update(version=migrations.LATEST + 1).execute())
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.get_data(as_text=True) == (
            f"schema {migrations.LATEST + 1}, code {migrations.LATEST}\n"
        )
    finally:  # the PostgreSQL test database is shared by the tests that follow
        in_db(lambda: SchemaVersion.update(version=migrations.LATEST).execute())


# ---- the request id -------------------------------------------------------------------


def test_every_response_carries_its_own_request_id(app, client):
    log_in(client)
    seen = set()
    for rule in rules(app, "GET"):
        for headers in (HX, {}):
            response = client.get(concrete(rule), headers=headers)
            assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", response.headers["X-Request-ID"]), rule
            seen.add(response.headers["X-Request-ID"])
            response.close()
    for rule in rules(app, "POST"):
        response = client.post(concrete(rule))  # no CSRF token: the 400 page
        seen.add(response.headers["X-Request-ID"])
    assert len(seen) == 2 * len(rules(app, "GET")) + len(rules(app, "POST"))


def test_a_request_id_from_the_proxy_is_taken_only_when_configured_and_well_formed(tmp_path):
    nginx = "0f3c9e2ab4d15e6f8a9b0c1d2e3f4a5b"
    client = make_app(tmp_path).test_client()
    assert client.get("/login", headers={"X-Request-ID": nginx}).headers["X-Request-ID"] != nginx
    client = make_app(tmp_path, REQUEST_ID_FROM_PROXY=True).test_client()
    assert client.get("/login", headers={"X-Request-ID": nginx}).headers["X-Request-ID"] == nginx
    for bad in ("x", "a" * 200, "abc def 123", "<script>1234567</script>", "１２３４５６７８"):
        got = client.get("/login", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", got), bad


@pytest.mark.parametrize("headers", [HX, {}])
def test_error_pages_give_the_request_id_as_inquiry_number_and_the_help_desk(app, client, headers):
    pages = [
        client.get("/no/such/page", headers=headers),  # 404
        client.post("/logout", headers=headers),  # no CSRF token: 400
        client.get("/email/confirm/not-a-token", headers=headers),  # dead mailed link
    ]
    for response in pages:
        html = response.get_data(as_text=True)
        assert response.status_code >= 400
        assert inquiry_number(html) == response.headers["X-Request-ID"], html
        assert "Webビリング受付担当" in html and "0800-333-0030" in html


# ---- the request log ------------------------------------------------------------------


@pytest.fixture
def logged(app):
    """The app with its request log on (tests run with it off, like `TESTING` apps)."""
    app.config["REQUEST_LOG"] = True
    return app


def test_one_line_per_request_with_id_method_path_status_and_duration(logged, capsys):
    client = logged.test_client()
    responses = [client.get("/login"), log_in(client), client.get("/account", headers=HX)]
    responses.append(client.get("/static/css/site.css"))
    lines = log_lines(capsys.readouterr().err)
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("GET", "/login", "200"),
        ("GET", "/login", "200"),  # log_in() reads the form's token first
        ("POST", "/login", "303"),
        ("GET", "/account", "200"),
        ("GET", "/static/css/site.css", "200"),
    ]
    assert [x["id"] for x in lines[2:]] == [r.headers["X-Request-ID"] for r in responses[1:]]


def test_the_log_is_on_in_production_and_development_off_in_tests_and_when_told(tmp_path, capsys):
    from app import create_app

    def request_log(**config):
        settings = {
            "SECRET_KEY": "x" * 32,
            "EXTERNAL_BASE_URL": "https://billing.example.jp",
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        }
        app = create_app(settings | config, instance_path=str(tmp_path))
        app.test_client().get("/healthz")
        return app.config["REQUEST_LOG"], len(log_lines(capsys.readouterr().err))

    assert request_log() == (True, 1)  # production
    assert request_log(DEBUG=True) == (True, 1)
    assert request_log(TESTING=True) == (False, 0)
    assert request_log(REQUEST_LOG=False) == (False, 0)


def test_the_mailed_link_and_query_strings_never_reach_the_log(logged, capsys):
    member = logged.test_client()
    log_in(member)
    new = "canary.mail@example.net"
    form = {"new_email": new, "new_email_confirm": new}
    answer = {"secret_question": "好きな食べ物は？", "secret_answer": "カナリアの答え"}
    assert post(member, "/account/email", {**form, **answer}).status_code == 303
    body = in_db(lambda: OutboxMail.select().where(OutboxMail.to == new).get().body)
    path = re.search(r"https://billing\.example\.jp(/email/confirm/\S+)", body)[1]
    token = path.rsplit("/", 1)[1]
    visitor = logged.test_client()
    page = visitor.get(path).get_data(as_text=True)
    wrong = {"secret_question": "好きな食べ物は？", "secret_answer": "間違いの答え"}
    visitor.post(path, data={"csrf_token": token_in(page), **wrong})
    visitor.post(path, data={"csrf_token": token_in(page), **answer})
    visitor.get(path + "/extra")  # a link broken by a mail program: no route
    visitor.get(path[: len(path) // 2])  # cut short: a dead link
    visitor.get("/login?next=/account&code=canary-code&state=canary-state")

    err = capsys.readouterr().err
    for secret in (token, token[:20], "canary", "カナリア", "間違い", "next=", PASSWORD):
        assert secret not in err
    paths = [x["path"] for x in log_lines(err)]
    assert paths.count("/email/confirm/…") == 4 and "/email/…" in paths
    assert "/login?…" in paths
    assert len(log_lines(err)) == len(err.splitlines())


def every_field_name(app, client) -> set[str]:
    """The name of every field of every form: the forms' classes, and every input, select and
    textarea on every page (fields read straight from request.form are there)."""

    def form_classes(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from form_classes(sub)

    names = {
        name
        for cls in form_classes(FlaskForm)
        for name in dir(cls)
        if isinstance(getattr(cls, name), UnboundField)
    }
    for rule in rules(app, "GET"):
        html = client.get(concrete(rule)).get_data(as_text=True)
        names |= set(re.findall(r'<(?:input|select|textarea|button)[^>]* name="([^"]+)"', html))
    for rule in posts(app):  # the edit steps' forms
        if rule.endpoint == "auth.logout":
            continue
        html = post(client, concrete(rule)).get_data(as_text=True)
        names |= set(re.findall(r'<(?:input|select|textarea|button)[^>]* name="([^"]+)"', html))
    # Read straight from request.form by the line screen, staged lines appear only once staged.
    return (names | {"staged", "cancel", "remove"}) - {"csrf_token"}


def posts(app):
    """Every POST rule, logout last."""
    return sorted(rules(app, "POST"), key=lambda rule: rule.endpoint == "auth.logout")


@pytest.mark.parametrize("headers", [HX, {}])
def test_no_form_value_and_no_cookie_ever_reaches_the_log(logged, capsys, headers):
    """Every field of every form, posted with a recognisable value to every POST route, logged
    in and not; then the log holds none of them, nor the session cookie."""
    member = logged.test_client()
    log_in(member)
    names = every_field_name(logged, member)
    assert {"password", "secret_answer", "new_password", "new_email", "staged"} <= names
    values = {name: f"canary{i}" for i, name in enumerate(sorted(names))}
    stranger = logged.test_client()
    cookies = []
    for client, page in ((stranger, "/login"), (member, "/account")):
        for rule in posts(logged):
            post(client, concrete(rule), values, headers, page=page).close()
            cookies.append(client.get_cookie("session").value)

    err = capsys.readouterr().err
    assert "canary" not in err and PASSWORD not in err
    for cookie in cookies:
        assert cookie not in err and cookie.rsplit(".", 1)[1] not in err
    lines = log_lines(err)
    assert len(lines) == len(err.splitlines()) > 4 * len(posts(logged))


# ---- the real server: the log on stderr, a 500 with its traceback ----------------------


def test_the_real_server_logs_every_request_and_a_500_with_its_traceback_under_one_id(tmp_path):
    database = tmp_path / "live.sqlite3"
    env = app_env(f"sqlite:///{database}", BIND=f"127.0.0.1:{free_port()}")
    flask(env, "init-db")
    flask(env, "seed-demo")
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "w") as errors:
        server = start("app:create_app()", env, stderr=errors)
    try:
        member = Browser(server.url)
        assert member.log_in() == 303
        with sqlite3.connect(database) as db:  # a damaged schema: the next change fails
            db.execute("DROP TABLE changehistory")
        status, html, headers = member.post("/account/phone", {"new_phone": "09011112222"})
        _, fragment, hx_headers = member.post(
            "/account/phone", {"new_phone": "09011112222"}, headers={"HX-Request": "true"}
        )
        health = http.client.HTTPConnection(server.url.removeprefix("http://"))
        health.request("GET", "/healthz")
        assert health.getresponse().status == 200
    finally:
        server.terminate()
        server.wait(10)
    assert status == 500
    request_id = headers["X-Request-ID"]
    assert inquiry_number(html) == request_id and inquiry_number(fragment) != request_id
    assert inquiry_number(fragment) == hx_headers["X-Request-ID"]

    log = stderr.read_text()
    lines = log_lines(log)
    assert [(x["method"], x["path"], x["status"]) for x in lines[-6:]] == [
        ("GET", "/login", "200"),
        ("POST", "/login", "303"),
        ("GET", "/account", "200"),
        ("POST", "/account/phone", "500"),
        ("POST", "/account/phone", "500"),
        ("GET", "/healthz", "200"),
    ]
    assert lines[-3]["id"] == request_id
    traceback = re.search(
        rf"ERROR in monitoring: {request_id} POST /account/phone: unhandled exception\n"
        r"(Traceback \(most recent call last\):\n.*?)\n\[",
        log,
        re.S,
    )
    assert "no such table: changehistory" in traceback[1]
    assert PASSWORD not in log and "09011112222" not in log


@pytest.mark.parametrize("server", ["flask run", "gunicorn"])
def test_an_email_change_leaves_no_secret_in_any_log_of_either_server(tmp_path, server):
    """Every server the README names, its whole stdout and stderr: after a contact-address
    change through to answering the mailed link, the app's redacted line for that link is
    there, and neither the link's token, the secret answer nor the password is (`flask run`'s
    Werkzeug wrote its own request line with the whole URL). The development server's
    startup banner stays."""
    database = tmp_path / "live.sqlite3"
    env = app_env(f"sqlite:///{database}", BIND=f"127.0.0.1:{free_port()}")
    flask(env, "init-db")
    flask(env, "seed-demo")
    output = tmp_path / "output.txt"
    with open(output, "w") as log:
        if server == "flask run":
            process = flask_run(env, tmp_path / "instance", stderr=log, stdout=log)
        else:
            process = start("app:create_app()", env, stderr=log, stdout=log)
    new, answer = "canary.mail@example.net", "カナリアの答え"
    try:
        member = Browser(process.url)
        assert member.log_in() == 303
        member.get("/account/email/edit")
        apply = {"new_email": new, "new_email_confirm": new, "secret_question": "好きな食べ物は？"}
        assert member.post("/account/email", {**apply, "secret_answer": answer})[0] == 303
        with sqlite3.connect(database) as db:
            (body,) = db.execute('SELECT body FROM outboxmail WHERE "to" = ?', (new,)).fetchone()
        path = re.search(r"https?://[^/\s]+(/email/confirm/\S+)", body)[1]
        visitor = Browser(process.url)
        assert visitor.get(path)[0] == 200
        confirm = {"secret_question": "好きな食べ物は？", "secret_answer": answer}
        assert visitor.post(path, confirm)[0] == 303
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    with sqlite3.connect(database) as db:
        assert (
            db.execute("SELECT email FROM member WHERE login_id = 'taro0001'").fetchone()[0] == new
        )

    log = output.read_text()
    token = path.rsplit("/", 1)[1]
    for secret in (token, token[:16], token[-16:], answer, PASSWORD):
        assert secret not in log
    requests = [(x["method"], x["path"], x["status"]) for x in log_lines(log)]
    assert requests[-2:] == [
        ("GET", "/email/confirm/…", "200"),
        ("POST", "/email/confirm/…", "303"),
    ]
    if server == "flask run":
        assert "Running on http://127.0.0.1:" in log
