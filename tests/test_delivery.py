"""Mail goes out without any command, whatever happens after the commit: a gunicorn killed
(SIGKILL) in the middle of handing ⑥'s mail over, then restarted; and at least once, with one
Message-ID, when killed after the SMTP server accepted it. (The no-JS flow under `flask run`
with chromium is tests/browser/test_mail_delivery.py.)"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import threading
import time

from aiosmtpd.controller import Controller

from .conftest import SMTPSink
from .live import Browser, app_env, flask, free_port, start

APPLY = {
    "new_email": "new.taro@example.net",
    "new_email_confirm": "new.taro@example.net",
    "secret_question": "母親の旧姓は？",
    "secret_answer": "やまだ",
}


def server_env(tmp_path, smtp_port: int, **extra) -> dict:
    env = app_env(
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        BIND=f"127.0.0.1:{free_port()}",
        FLASK_MAIL_SERVER="127.0.0.1",
        FLASK_MAIL_PORT=str(smtp_port),
        **extra,
    )
    flask(env, "init-db")
    flask(env, "seed-demo")
    return env


def wait_for_mail(sink: SMTPSink, to: str, seconds: float) -> float:
    started = time.monotonic()
    while not any(m["To"] == to for m in sink.messages):
        assert time.monotonic() - started < seconds, f"no mail to {to} within {seconds} s"
        time.sleep(0.02)
    return time.monotonic() - started


class StallingSMTP(SMTPSink):
    """Takes the connection, then never answers the recipient: the sender is mid-delivery."""

    def __init__(self):
        super().__init__()
        self.recipient_asked = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        self.recipient_asked.set()
        await asyncio.sleep(120)
        return "250 OK"


def test_gunicorn_killed_while_handing_over_the_mail_delivers_it_after_restart(tmp_path, smtp):
    stalling = StallingSMTP()
    stall = Controller(stalling, hostname="127.0.0.1", port=free_port())
    stall.start()
    env = server_env(tmp_path, stall.port)
    server = start("app:create_app()", env)
    try:
        member = Browser(server.url)
        assert member.log_in() == 303
        member.get("/account/email/edit")
        assert member.post("/account/email", APPLY)[0] == 303  # ⑥ [登録する] has returned
        assert stalling.recipient_asked.wait(5)  # a worker is handing it over right now
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        stall.stop()
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        assert db.execute("SELECT attempts, sent_at FROM outboxmail").fetchall() == [(1, None)]

    restarted = time.monotonic()
    # Asked nothing after the restart: the workers deliver as they start.
    again = start("app:create_app()", {**env, "FLASK_MAIL_PORT": str(smtp.port)}, wait=False)
    try:
        took = time.monotonic() - restarted + wait_for_mail(smtp, APPLY["new_email"], 30)
        # The sender records it after the SMTP server's answer: stopping the server before that
        # would be this test's own kill in the at-least-once window (README, Mail).
        recorded = time.monotonic() + 10
        while (row := sent_row(tmp_path))[1] is None and time.monotonic() < recorded:
            time.sleep(0.05)
    finally:
        os.killpg(again.pid, signal.SIGTERM)
        again.wait(10)
    print(f"delivered {took:.1f} s after the restart")
    assert took < 30
    assert [m["To"] for m in smtp.messages] == [APPLY["new_email"]]  # once
    attempts, sent = row
    assert attempts == 2 and sent is not None


def sent_row(tmp_path) -> tuple:
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        return db.execute("SELECT attempts, sent_at FROM outboxmail").fetchone()


class AcceptedButNotRecorded(SMTPSink):
    """Keeps the first mail and answers 250, holding the database's write lock from just before
    that answer, so the sender cannot record the mail as sent; `quit` is set when the sender,
    having read the 250, says QUIT. Later mail is kept and answered as any server would."""

    def __init__(self, database):
        super().__init__()
        self.database = database
        self.lock = None
        self.quit = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.lock is None:
            self.lock = sqlite3.connect(
                self.database, isolation_level=None, check_same_thread=False
            )
            self.lock.execute("BEGIN IMMEDIATE")
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        self.quit.set()
        return "221 Bye"


def test_a_worker_killed_after_the_250_sends_the_mail_again_with_the_same_message_id(tmp_path):
    """At least once: killed between the SMTP server's 250 and the commit of `sent_at`, the mail
    goes out again after the restart, and both copies carry the row's one Message-ID, under the
    site's domain, so a mail system can tell them for one mail."""
    database = tmp_path / "db.sqlite3"
    sink = AcceptedButNotRecorded(database)
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    # A claim lasts 8 × 1 s: the restarted server takes the mail over 8 s after the kill.
    env = server_env(tmp_path, controller.port, FLASK_MAIL_TIMEOUT_SECONDS="1", WEB_CONCURRENCY="1")
    try:
        server = start("app:create_app()", env)
        try:
            member = Browser(server.url)
            assert member.log_in() == 303
            member.get("/account/email/edit")
            assert member.post("/account/email", APPLY)[0] == 303
            assert sink.quit.wait(10)  # the sender has read the 250; `sent_at` waits for the lock
        finally:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        sink.lock.execute("ROLLBACK")
        sink.lock.close()
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT attempts, sent_at FROM outboxmail").fetchall() == [(1, None)]
        assert len(sink.messages) == 1

        again = start("app:create_app()", env, wait=False)
        try:
            started = time.monotonic()
            while len(sink.messages) < 2:
                assert time.monotonic() - started < 30, "not sent again after the restart"
                time.sleep(0.05)
        finally:
            os.killpg(again.pid, signal.SIGTERM)
            again.wait(10)
    finally:
        controller.stop()
    first, second = sink.messages
    assert first["To"] == second["To"] == APPLY["new_email"]
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].endswith("@billing.example.jp>")
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT sent_at FROM outboxmail").fetchone()[0] is not None
