"""Scale: GET /account (logged in) with 1,000 and with 1,000,000 members in the database. The
latency ratio shows whether anything scans a table (indexes keep it near 1).

    .venv/bin/python bench/scale.py [seconds]
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.throughput import line, wrk  # noqa: E402
from tests.live import Browser, app_env, flask, free_port, start  # noqa: E402

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10


def fill(database: str, members: int) -> None:
    """Add members (and a session, a line and a history row for every tenth) up to `members`."""
    with sqlite3.connect(database) as db:
        password_hash, company = db.execute(
            "SELECT password_hash, (SELECT id FROM company LIMIT 1) FROM member LIMIT 1"
        ).fetchone()
        have = db.execute("SELECT count(*) FROM member").fetchone()[0]
        batch = 50_000
        for start_at in range(have, members, batch):
            ids = range(start_at, min(start_at + batch, members))
            db.executemany(
                "INSERT INTO member (login_id, login_id_key, password_hash, customer_name, "
                "registered_at, daytime_phone, email, secret_auth_enabled, d_account_linked, "
                "failed_logins) "
                "VALUES (?, ?, ?, ?, '2024-01-01 00:00:00', '0312345678', ?, 0, 0, 0)",
                (
                    (
                        f"user{i:07d}",
                        f"user{i:07d}",
                        password_hash,
                        f"会員 {i}",
                        f"user{i}@example.com",
                    )
                    for i in ids
                ),
            )
            db.executemany(
                "INSERT INTO linerecord (company_id, number, holder_name) VALUES (?, ?, ?)",
                ((company, f"06{i:08d}", f"会員 {i}") for i in ids if i % 10 == 0),
            )
            db.executemany(
                "INSERT INTO changehistory (member_id, kind, detail, created_at) "
                "SELECT id, '日中のご連絡先電話番号', '末尾 5678 に変更', '2024-01-02 00:00:00' "
                "FROM member WHERE login_id_key = ?",
                ((f"user{i:07d}",) for i in ids if i % 10 == 0),
            )
        db.execute("ANALYZE")


def measure(members: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        database = f"{tmp}/scale.sqlite3"
        env = app_env(f"sqlite:///{database}", BIND=f"127.0.0.1:{free_port()}")
        flask(env, "init-db")
        flask(env, "seed-demo")
        fill(database, members)
        server = start("app:create_app()", env)
        try:
            member = Browser(server.url)
            member.log_in()
            wrk(server.url + "/account", cookie=member.cookie)  # warm up
            return wrk(server.url + "/account", cookie=member.cookie)
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    small = measure(1_000)
    large = measure(1_000_000)
    line("GET /account, 1,000 members", small)
    line("GET /account, 1,000,000 members", large)
    print(
        f"p50 latency ratio 1M / 1k: {large['p50'] / small['p50']:.2f}  "
        f"(throughput ratio {large['rps'] / small['rps']:.2f})"
    )


if __name__ == "__main__":
    main()
