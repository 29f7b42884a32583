"""The QA tools (issue #13): only in development mode; the demo data reset, the scenarios, the
QA clock in every process, the mailbox, and mailed links that fit the server."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from peewee import CharField

import clock
import models
from blueprints.dev.scenarios import ANSWER, NEW_EMAIL, QUESTION, SCENARIOS
from cli import DEMO_REGISTRY
from extensions import db
from models import (
    ChangeHistory,
    CredentialHistory,
    EmailChangeRequest,
    LineRecord,
    LoginSession,
    Member,
    MemberLine,
    OutboxMail,
)

from .conftest import PASSWORD, in_db, log_in, make_app, post, send_host, token_in
from .live import BIN, ROOT, Browser, app_env, free_port, start

NEW = {
    "new_email": "new.taro@example.net",
    "new_email_confirm": "new.taro@example.net",
    "secret_question": "好きな食べ物は？",
    "secret_answer": "ＡＢＣ",
}


@pytest.fixture
def dev(tmp_path, app):
    """The app in development mode (FLASK_DEBUG=1, as `make run` starts it), on the seeded
    database of `app`."""
    return make_app(tmp_path, DEBUG=True)


def dev_cli(dev, *args: str):
    """`flask --app app dev …` with FLASK_DEBUG=1 (the flask command sets app.debug from it)."""
    return dev.test_cli_runner().invoke(args=["dev", *args], env={"FLASK_DEBUG": "1"})


@pytest.fixture
def qa(dev):
    """A tester's browser on the development app."""
    return dev.test_client()


@pytest.fixture(autouse=True)
def real_time_after():
    yield
    if clock._dev is not None:
        clock.set_dev_offset(clock.ZERO)


def taro() -> Member:
    return in_db(lambda: Member.get(Member.login_id_key == "taro0001"))


def hanako() -> Member:
    return in_db(lambda: Member.get(Member.login_id_key == "hanako0002"))


def qa_post(client, url, data=None, **kwargs):
    """A QA page button: POST with the CSRF token of the QA page, as the browser sends it."""
    return post(client, url, data, page="/dev/", **kwargs)


def dev_urls(dev):
    """Every /dev URL of the development app, with each method it answers."""
    for rule in dev.url_map.iter_rules():
        if rule.rule.startswith("/dev"):
            url = rule.rule.replace("<name>", "locked")
            yield from ((url, method) for method in rule.methods - {"HEAD", "OPTIONS"})


# --- Only in development ---------------------------------------------------------------


def test_production_answers_404_on_every_dev_url(dev, client):
    urls = sorted(dev_urls(dev))
    assert len(urls) >= 7  # /dev/, reset, scenario, clock, clock/reset, mail, mail/clear
    token = token_in(client.get("/login").get_data(as_text=True))
    for url, method in [*urls, ("/dev", "GET")]:
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 404, (method, url)
        assert "ページが見つかりません" in response.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    assert "QAツール" not in page and "開発モード" not in page and "/dev" not in page


def test_the_dev_commands_refuse_to_run_in_production(app):
    in_db(lambda: Member.update(daytime_phone="0399999999").execute())
    for args in (
        ["dev", "reset"],
        ["dev", "scenario", "locked"],
        ["dev", "clock", "+25h"],
        ["dev", "clock", "reset"],
        ["dev", "clock"],
    ):
        result = app.test_cli_runner().invoke(args=args, env={"FLASK_DEBUG": "0"})
        assert result.exit_code != 0, args
        assert "開発モード（FLASK_DEBUG=1）でのみ使えます" in result.output, args
    assert taro().daytime_phone == "0399999999" and taro().locked_until is None
    assert not (ROOT / "instance" / "dev_clock").exists()
    assert not list(Path(app.instance_path).glob("dev_clock*"))


def test_production_never_reads_the_qa_clock(app, monkeypatch):
    Path(app.instance_path, "dev_clock").write_text(str(25 * 3600))

    def no_reading(*args, **kwargs):
        raise AssertionError("production looked at the QA clock")

    monkeypatch.setattr(clock._DevClock, "offset", no_reading)
    assert abs(clock.utcnow() - datetime.utcnow()) < timedelta(seconds=5)  # noqa: DTZ003
    assert clock.dev_offset() == timedelta(0)
    with pytest.raises(RuntimeError):
        clock.set_dev_offset(timedelta(hours=1))


def test_dev_pages_show_the_apps_time_and_link_the_qa_page(qa):
    page = qa.get("/login").get_data(as_text=True)
    assert re.search(
        r'<p class="devbar">開発モード　アプリの時刻：\d{4}年\d\d月\d\d日 \d\d時\d\d分</p>', page
    )
    assert '<a class="button" href="/dev/">QAツール</a>' in page
    assert '<a class="button" href="/dev/mail">開発用メールボックス</a>' in page
    qa_page = qa.get("/dev/").get_data(as_text=True)
    for label in ("QAツール", "デモデータを初期化", "時計を進める（時間）", "進める", "元に戻す"):
        assert label in qa_page
    for scenario in SCENARIOS.values():
        assert f"<button>{scenario.title}</button>" in qa_page


def test_every_dev_action_is_a_post_with_its_csrf_token(dev, qa):
    for url, method in dev_urls(dev):
        if method == "POST":
            response = qa.post(url, data={"hours": "25"})
            assert response.status_code == 400, url
    assert clock.dev_offset() == timedelta(0)
    assert in_db(Member.select().count) == 2 and taro().locked_until is None
    assert {method for _, method in dev_urls(dev)} == {"GET", "POST"}


# --- [デモデータを初期化] ------------------------------------------------------------------


def test_reset_brings_back_the_demo_data_and_nothing_else(qa, dev):
    log_in(qa)
    assert post(qa, "/account/email", NEW).status_code == 303
    in_db(lambda: Member.update(password_hash="x", email=None).execute())
    in_db(lambda: MemberLine.delete().execute())
    assert in_db(OutboxMail.select().count) == 1 and in_db(LoginSession.select().count) == 1

    response = qa_post(qa, "/dev/reset")
    assert response.status_code == 303 and response.headers["Location"] == "/dev/"
    page = qa.get("/dev/").get_data(as_text=True)
    assert "デモデータを初期化しました" in page
    assert "ログイン中だった画面はすべてログアウトされています" in page

    for model in (LoginSession, EmailChangeRequest, OutboxMail, ChangeHistory):
        assert in_db(model.select().count) == 0, model
    assert in_db(LineRecord.select().count) == len(DEMO_REGISTRY)
    assert in_db(MemberLine.select().count) == 2
    assert in_db(CredentialHistory.select().count) == 4
    assert taro().email == "taro@example.com" and taro().d_account_linked
    assert qa.get("/account").status_code == 303  # that session is gone
    assert log_in(qa).status_code == 303  # the demo password works again
    assert log_in(dev.test_client(), "hanako0002").status_code == 303


def test_reset_covers_every_table_of_the_models_even_one_added_later(qa):
    class QaExtra(db.Model):  # a table another feature adds to models.MODELS
        note = CharField()

    models.MODELS.append(QaExtra)
    try:
        in_db(lambda: (QaExtra.create_table(), QaExtra.create(note="left over")))
        assert qa_post(qa, "/dev/reset").status_code == 303
        assert in_db(QaExtra.select().count) == 0
    finally:
        models.MODELS.remove(QaExtra)
        in_db(lambda: QaExtra.drop_table(safe=True))


def test_reset_from_the_command_line_says_how_long_it_took(dev):
    in_db(lambda: Member.update(daytime_phone="0399999999").execute())
    result = dev_cli(dev, "reset")
    assert result.exit_code == 0, result.output
    assert re.search(r"デモデータを初期化しました（\d+\.\d\d秒）", result.output)
    assert taro().daytime_phone == "0312345678"


# --- Scenarios ---------------------------------------------------------------------------


def locked():
    assert taro().is_locked(clock.utcnow())


def email_pending():
    change = in_db(lambda: EmailChangeRequest.get(EmailChangeRequest.status == "pending"))
    assert change.member_id == taro().id and change.new_email == NEW_EMAIL
    assert change.secret_question == QUESTION and change.expires_at > clock.utcnow()
    assert in_db(lambda: OutboxMail.get(OutboxMail.to == NEW_EMAIL))


def email_expired():
    change = in_db(lambda: EmailChangeRequest.get(EmailChangeRequest.status == "pending"))
    assert change.new_email == NEW_EMAIL and change.expires_at < clock.utcnow()


def secret_auth():
    assert hanako().secret_auth_enabled and hanako().secret_question == QUESTION


def lines_199():
    assert in_db(lambda: MemberLine.select().where(MemberLine.member == taro().id).count()) == 199


def cancelled():
    assert taro().is_cancelled


def no_email():
    assert taro().email is None and hanako().email is None


CHECKS = {f.__name__.replace("_", "-"): f for f in (locked, email_pending, email_expired)}
CHECKS |= {f.__name__.replace("_", "-"): f for f in (secret_auth, cancelled, no_email)}
CHECKS["lines-199"] = lines_199


def test_every_scenario_is_checked_here():
    assert set(CHECKS) == set(SCENARIOS)


# The login each scenario is about (the one to use, or the one it locked or cancelled).
LOGINS = dict.fromkeys(SCENARIOS, "taro0001") | {"secret-auth": "hanako0002"}


def names_the_login(lines: list[str], name: str) -> bool:
    """The scenario's answer gives the login to use with its password, and what it says it
    did names that login too (「taro0001 をロックしました」), so the tester need not guess."""
    login = LOGINS[name]
    said = [line for line in lines if not line.startswith("ログイン：")]
    return f"ログイン：{login} / {PASSWORD}" in lines and any(login in line for line in said)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_scenario_from_the_qa_page(qa, name):
    in_db(lambda: Member.update(daytime_phone="0399999999").execute())
    response = qa_post(qa, f"/dev/scenario/{name}")
    assert response.status_code == 303
    page = qa.get("/dev/").get_data(as_text=True)
    scenario = SCENARIOS[name]
    status = page.split('<div class="notice" role="status">')[1].split("</div>")[0]
    lines = re.findall(r"<p>(.*?)</p>", status)
    assert lines[0].startswith(f"シナリオ「{scenario.title}」を用意しました")
    assert names_the_login(lines, name), lines
    CHECKS[name]()
    assert hanako().daytime_phone == "0752345678"  # it started from the demo data


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_scenario_from_the_command_line(dev, name):
    result = dev_cli(dev, "scenario", name)
    assert result.exit_code == 0, result.output
    assert names_the_login(result.output.splitlines(), name), result.output
    CHECKS[name]()


def test_the_command_line_lists_the_scenarios(dev):
    output = dev_cli(dev, "--help").output
    for scenario in SCENARIOS.values():
        assert scenario.name in output and scenario.title in output
    output = dev_cli(dev, "scenario", "--help").output
    assert all(name in output for name in SCENARIOS)


def test_an_unknown_scenario_is_not_found(qa):
    assert qa_post(qa, "/dev/scenario/nothing").status_code == 404


def test_the_secret_question_scenario_leads_to_the_question_at_login(qa):
    qa_post(qa, "/dev/scenario/secret-auth")
    response = log_in(qa, "hanako0002")
    assert response.headers["Location"] == "/login/secret"
    page = qa.get("/login/secret").get_data(as_text=True)
    assert QUESTION in page
    token = token_in(page)
    response = qa.post("/login/secret", data={"csrf_token": token, "answer": ANSWER})
    assert response.status_code == 303 and qa.get("/account").status_code == 200


# --- The clock ----------------------------------------------------------------------------


def advance(qa, hours: str):
    return qa_post(qa, "/dev/clock", {"hours": hours})


def test_the_clock_moves_what_the_app_reads(qa, dev):
    log_in(qa)
    assert post(qa, "/account/email", NEW).status_code == 303
    link = re.search(r"http://localhost(/email/confirm/\S+)", in_db(OutboxMail.get).body)[1]
    assert qa.get(link).status_code == 200

    started = datetime.utcnow()  # noqa: DTZ003
    response = advance(qa, "25")
    assert response.status_code == 303
    page = qa.get("/dev/").get_data(as_text=True)
    assert "時計を進めました（実際の時刻より+25時間先）" in page
    assert "（実際より+25時間）" in page  # the banner on every page
    assert abs(clock.utcnow() - started - timedelta(hours=25)) < timedelta(minutes=1)

    expired = dev.test_client().get(link)  # the link's 24 hours are over
    assert expired.status_code == 410 and "URLの有効期限切れ" in expired.get_data(as_text=True)
    response = qa.get("/account")  # the session's 24 hours too
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert "一定時間が経過したため" in qa.get("/login").get_data(as_text=True)

    log_in(qa)  # now written with the clock's time
    assert taro().last_login_at - started > timedelta(hours=24, minutes=59)
    assert qa_post(qa, "/dev/clock/reset").status_code == 303
    assert clock.dev_offset() == timedelta(0)
    assert "時計を元に戻しました" in qa.get("/dev/").get_data(as_text=True)


def test_the_links_own_signed_time_follows_the_clock_too(qa, dev):
    qa_post(qa, "/dev/scenario/email-pending")
    link = re.search(r"http://localhost(/email/confirm/\S+)", in_db(OutboxMail.get).body)[1]
    # Leave only the token's own time (itsdangerous' max_age) to expire the link.
    in_db(lambda: EmailChangeRequest.update(expires_at=datetime(2100, 1, 1)).execute())
    assert dev.test_client().get(link).status_code == 200
    advance(qa, "24.1")
    assert dev.test_client().get(link).status_code == 410


def test_the_clock_expires_an_idle_session_and_a_lock(qa, dev):
    log_in(qa)
    assert qa.get("/account").status_code == 200
    advance(qa, "0.52")  # 31 minutes
    assert clock.dev_offset() == timedelta(minutes=31, seconds=12)
    response = qa.get("/account")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")

    qa_post(qa, "/dev/scenario/locked")
    assert log_in(qa).status_code == 422
    advance(qa, "0.5")
    assert log_in(qa).status_code == 303


@pytest.mark.parametrize("hours", ["", "0", "-1", "abc", "NaN", "Infinity", "9999999"])
def test_a_wrong_amount_of_hours_is_explained_next_to_the_field(qa, hours):
    response = advance(qa, hours)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "0より大きい時間数を数字で入力してください" in page
    assert 'aria-invalid="true"' in page and clock.dev_offset() == timedelta(0)


def test_full_width_hours_are_accepted(qa):
    assert advance(qa, "２．５").status_code == 303
    assert clock.dev_offset() == timedelta(hours=2, minutes=30)


def test_the_clock_is_shared_by_every_process(tmp_path, qa, dev):
    """A `flask dev clock` in another process moves this process's clock, and back."""
    env = app_env(dev.config["DATABASE_URL"], FLASK_DEBUG="1")
    factory = f"app:create_app(instance_path={dev.instance_path!r})"

    def flask_dev(*args):
        return subprocess.run(
            [BIN / "flask", "--app", factory, "dev", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert "+25時間" in flask_dev("clock", "+25h")
    assert clock.dev_offset() == timedelta(hours=25)
    assert "（実際より+25時間）" in qa.get("/login").get_data(as_text=True)
    assert "+25.5時間" in flask_dev("clock", "+30m")
    assert clock.dev_offset() == timedelta(hours=25, minutes=30)
    qa_post(qa, "/dev/clock/reset")
    assert "+0時間" in flask_dev("clock")
    assert "+48時間" in flask_dev("clock", "+2d")
    flask_dev("clock", "reset")
    assert clock.dev_offset() == timedelta(0)


def test_every_server_process_reads_the_same_clock(app, tmp_path):
    """Two gunicorn processes in development mode on one instance folder: the clock moved on
    one is the clock of the other, and so is its reset."""
    env = app_env(app.config["DATABASE_URL"], FLASK_DEBUG="1", WEB_CONCURRENCY="1")
    factory = f"app:create_app(instance_path={str(tmp_path / 'shared')!r})"
    servers = [start(factory, {**env, "BIND": f"127.0.0.1:{free_port()}"}) for _ in range(2)]
    try:
        one, other = Browser(servers[0].url), Browser(servers[1].url)
        one.get("/dev/")
        assert one.post("/dev/clock", {"hours": "25"})[0] == 303
        assert "（実際より+25時間）" in other.get("/login")[1]
        one.get("/dev/")
        assert one.post("/dev/clock/reset")[0] == 303
        assert "実際より" not in other.get("/login")[1]
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)


def test_the_clock_command_explains_a_wrong_amount(dev):
    result = dev_cli(dev, "clock", "25")
    assert result.exit_code != 0 and "+25h、+31m、+2d または reset" in result.output


# --- Links that fit the server -------------------------------------------------------------


def test_in_development_mailed_links_use_the_address_the_browser_used(dev):
    browser = dev.test_client()
    send_host(browser, "qa-box.local:8123")
    log_in(browser)
    assert post(browser, "/account/email", NEW).status_code == 303
    body = in_db(OutboxMail.get).body
    assert "http://qa-box.local:8123/email/confirm/" in body
    assert "billing.example.jp" not in body


def test_a_scenario_from_the_command_line_links_to_base(dev):
    result = dev_cli(dev, "scenario", "email-pending", "--base", "http://10.0.0.5:8000")
    assert result.exit_code == 0, result.output
    assert "http://10.0.0.5:8000/email/confirm/" in in_db(OutboxMail.get).body
    dev_cli(dev, "scenario", "email-pending")
    assert "https://billing.example.jp/email/confirm/" in in_db(OutboxMail.get).body


# --- The mailbox ---------------------------------------------------------------------------


def queue(count: int, to: str = "a@example.com") -> None:
    def write():
        for i in range(count):
            OutboxMail.create(to=to, subject=f"件名{i}", body=f"本文 https://x.example/{i}")

    in_db(write)


def subjects(page: str) -> list[str]:
    return re.findall(r'<h2 id="mail-\d+">([^<]+)</h2>', page)


def test_the_mailbox_shows_all_mail_newest_first_a_page_at_a_time(qa):
    queue(45)
    first = qa.get("/dev/mail").get_data(as_text=True)
    assert subjects(first) == [f"件名{i}" for i in range(44, 24, -1)]
    assert "全45通（1/3ページ）" in first
    assert '<a href="https://x.example/44">https://x.example/44</a>' in first
    assert "宛先：a@example.com" in first and "No." in first
    assert re.search(r"\d{4}年\d\d月\d\d日 \d\d時\d\d分\d\d秒", first)
    assert 'href="/dev/mail?page=2"' in first
    last = qa.get("/dev/mail?page=3").get_data(as_text=True)
    assert subjects(last) == [f"件名{i}" for i in range(4, -1, -1)]
    assert "次のページ" not in last and 'href="/dev/mail?page=2"' in last
    assert subjects(qa.get("/dev/mail?page=99").get_data(as_text=True)) == subjects(last)


def test_the_mailbox_filters_by_address_and_clears(qa):
    queue(3, "taro@example.com")
    queue(25, "hanako@example.com")
    page = qa.get("/dev/mail?to=TARO@").get_data(as_text=True)
    assert len(subjects(page)) == 3 and "宛先に「TARO@」を含むメール：3通" in page
    assert "hanako@example.com" not in page.split('id="count"')[1]
    page = qa.get("/dev/mail?to=hanako").get_data(as_text=True)
    assert 'href="/dev/mail?to=hanako&amp;page=2"' in page
    assert "メールはありません。" in qa.get("/dev/mail?to=100%25").get_data(as_text=True)

    response = post(qa, "/dev/mail/clear", page="/dev/mail")
    assert response.status_code == 303 and response.headers["Location"] == "/dev/mail"
    page = qa.get("/dev/mail").get_data(as_text=True)
    assert "メールを全て削除しました（28通）" in page and "メールはありません。" in page
    assert in_db(OutboxMail.select().count) == 0


def test_mail_dates_follow_the_clock(qa):
    advance(qa, "48")
    qa_post(qa, "/dev/scenario/email-pending")
    mail = in_db(OutboxMail.get)
    assert mail.created_at - datetime.utcnow() > timedelta(hours=47)  # noqa: DTZ003
    assert clock.format_jst(mail.created_at, "%Y年%m月%d日 %H時%M分") in (
        qa.get("/dev/mail").get_data(as_text=True)
    )
