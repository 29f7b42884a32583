"""Mail goes out without any command, whatever happens after the commit: a gunicorn killed
(SIGKILL) in the middle of handing ⑥'s mail over, then restarted. (The no-JS flow under
`flask run` with chromium is tests/browser/test_mail_delivery.py.)"""

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
    finally:
        os.killpg(again.pid, signal.SIGTERM)
        again.wait(10)
    print(f"delivered {took:.1f} s after the restart")
    assert took < 30
    assert [m["To"] for m in smtp.messages] == [APPLY["new_email"]]  # once
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        ((attempts, sent),) = db.execute("SELECT attempts, sent_at FROM outboxmail").fetchall()
    assert attempts == 2 and sent is not None
