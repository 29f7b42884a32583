"""Mail goes out without any command, whatever the browser does after the commit: the no-JS
contact-address change under `flask run` (Werkzeug's development server, as `make run` serves
it), with Debian's chromium and a real SMTP server on loopback."""

import os
import signal
import sqlite3
import time

from playwright.sync_api import expect

from ..conftest import PASSWORD
from ..live import app_env, flask, flask_run, free_port
from .chromium import PHONE

RUNS = 20


def test_no_js_email_change_under_flask_run_is_mailed_every_time(browser, tmp_path, smtp):
    database = tmp_path / "db.sqlite3"
    env = app_env(
        f"sqlite:///{database}",
        BIND=f"127.0.0.1:{free_port()}",
        FLASK_MAIL_SERVER="127.0.0.1",
        FLASK_MAIL_PORT=str(smtp.port),
        FLASK_EMAIL_CHANGE_RATE_LIMIT="100 per hour",  # 20 applications from one client
    )
    flask(env, "init-db")
    flask(env, "seed-demo")
    server = flask_run(env, tmp_path / "instance")
    context = browser.new_context(base_url=server.url, java_script_enabled=False, **PHONE)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("ログインID").fill("taro0001")
        page.get_by_label("ログインパスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url("**/")
        waits = []
        for run in range(RUNS):
            address = f"run{run}@example.net"
            page.goto("/account/email/edit")
            page.get_by_label("新しい連絡先メールアドレス", exact=True).fill(address)
            page.get_by_label("新しい連絡先メールアドレス（確認用）").fill(address)
            page.get_by_label("秘密の質問", exact=True).select_option("好きな食べ物は？")
            page.get_by_label("秘密の質問の回答").fill("カレー")
            page.get_by_role("button", name="登録", exact=True).click()
            page.get_by_role("button", name="登録する").click()  # ⑥: 303 to the sent page
            expect(page.get_by_text("受信メールをご確認ください！")).to_be_visible()
            answered = time.monotonic()
            while not any(m["To"] == address for m in smtp.messages):
                assert time.monotonic() - answered < 5, f"run {run + 1}: no mail within 5 s"
                time.sleep(0.02)
            waits.append(time.monotonic() - answered)
    finally:
        context.close()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        f"run{n}@example.net" for n in range(RUNS)
    )
    median = sorted(waits)[RUNS // 2]
    print(f"mail handed to SMTP at most {max(waits):.2f} s after the page (median {median:.2f} s)")
    with sqlite3.connect(database) as db:
        assert db.execute(
            "SELECT count(*), max(attempts) FROM outboxmail WHERE sent_at IS NOT NULL"
        ).fetchone() == (RUNS, 1)
