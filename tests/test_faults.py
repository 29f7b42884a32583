"""Faults: the server killed (SIGKILL) in the middle of writes, then restarted."""

import http.client
import os
import signal
import sqlite3
import threading
import time

from .live import Browser, app_env, flask, free_port, start


def test_sigkill_during_writes_leaves_a_consistent_database(tmp_path):
    database = tmp_path / "crash.sqlite3"
    env = app_env(f"sqlite:///{database}", BIND=f"127.0.0.1:{free_port()}")
    flask(env, "init-db")
    flask(env, "seed-demo")
    server = start("app:create_app()", env)
    acknowledged, stop = [], threading.Event()

    def change_phone(worker: int):
        member = Browser(server.url)
        assert member.log_in() == 303
        for n in range(10_000):
            if stop.is_set():
                return
            number = f"0901{n * 4 + worker:07d}"  # unique last four digits
            try:
                status, _, _ = member.post("/account/phone", {"new_phone": number})
            except (OSError, http.client.HTTPException):
                return  # the server died under us
            if status == 303:
                acknowledged.append(number)

    writers = [threading.Thread(target=change_phone, args=(w,)) for w in range(4)]
    for writer in writers:
        writer.start()
    # Kill once writes are flowing (a fixed sleep raced the four logins on a busy machine).
    deadline = time.monotonic() + 60
    while len(acknowledged) <= 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    stop.set()
    for writer in writers:
        writer.join()
    assert len(acknowledged) > 10

    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        phone = db.execute(
            "SELECT daytime_phone FROM member WHERE login_id = 'taro0001'"
        ).fetchone()[0]
        details = [d for (d,) in db.execute("SELECT detail FROM changehistory ORDER BY id")]
    # Every acknowledged change is there with its history row; no change without its row.
    for number in acknowledged:
        assert sum(d.endswith(f"{number[-4:]} に変更") for d in details) == 1
    assert phone[-4:] in details[-1]
    assert len(details) >= len(acknowledged)

    again = start("app:create_app()", env)
    try:
        member = Browser(again.url)
        assert member.log_in() == 303
        assert member.post("/account/phone", {"new_phone": "0612345678"})[0] == 303
    finally:
        again.terminate()
        again.wait(10)
