"""Operations on a large database: how long `init-db` takes to upgrade a 1,000,000-member
database written by the first release, and how long `backup` takes to copy it.

The database starts as a copy of tests/fixtures/release-1.sqlite3 (the first release's schema,
no version table) and is filled with plain SQL into that release's columns: every member has
its two credential-history rows and one registered line; every tenth a login session and a
変更履歴 row; every hundredth a pending contact-address change and its mail. Then the operator
commands run as an operator runs them (`flask --app app …`, a process each), and the figures
are printed. For comparison it also times VACUUM INTO, the other way SQLite makes a snapshot
copy, and an integrity check of the backup.

    .venv/bin/python bench/operations.py [members]
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live import BIN, app_env  # noqa: E402

MEMBERS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
RELEASE_1 = ROOT / "tests" / "fixtures" / "release-1.sqlite3"
BATCH = 50_000


def fill(database: Path, members: int) -> None:
    """Add members, and what members have, up to `members`, in release 1's columns only."""
    with sqlite3.connect(database) as db:
        password_hash, answer_hash, company = db.execute(
            "SELECT password_hash, secret_answer_hash, (SELECT id FROM company LIMIT 1) "
            "FROM member WHERE secret_answer_hash IS NOT NULL LIMIT 1"
        ).fetchone()
        have = db.execute("SELECT count(*) FROM member").fetchone()[0]
        first_id = db.execute("SELECT max(id) FROM member").fetchone()[0] + 1
        first_line = db.execute("SELECT max(id) FROM linerecord").fetchone()[0] + 1
        when = "2024-01-01 00:00:00"
        for start in range(0, members - have, BATCH):
            ids = range(first_id + start, first_id + min(start + BATCH, members - have))
            db.executemany(
                "INSERT INTO member (id, login_id, login_id_key, password_hash, customer_name, "
                "registered_at, daytime_phone, email, secret_question, secret_answer_hash, "
                "secret_auth_enabled, d_account_linked, last_login_at, failed_logins) "
                "VALUES (?, ?, ?, ?, ?, ?, '0312345678', ?, '母親の旧姓は？', ?, 0, 0, ?, 0)",
                (
                    (i, f"user{i:07d}", f"user{i:07d}", password_hash, f"会員 {i}", when)
                    + (f"user{i}@example.com", answer_hash, when)
                    for i in ids
                ),
            )
            db.executemany(
                "INSERT INTO credentialhistory (member_id, kind, value, created_at) "
                "VALUES (?, ?, ?, ?)",
                (
                    row
                    for i in ids
                    for row in (
                        (i, "login_id", f"user{i:07d}", when),
                        (i, "password", password_hash, when),
                    )
                ),
            )
            db.executemany(
                "INSERT INTO linerecord (id, company_id, number, holder_name) VALUES (?, ?, ?, ?)",
                ((first_line + i, company, f"06{i:08d}", f"会員 {i}") for i in ids),
            )
            db.executemany(
                "INSERT INTO memberline (member_id, line_id, registered_at) VALUES (?, ?, ?)",
                ((i, first_line + i, when) for i in ids),
            )
            tenth = [i for i in ids if i % 10 == 0]
            db.executemany(
                "INSERT INTO loginsession (token_hash, member_id, created_at, last_seen_at) "
                "VALUES (?, ?, ?, ?)",
                ((f"{i:064x}", i, when, when) for i in tenth),
            )
            db.executemany(
                "INSERT INTO changehistory (member_id, kind, detail, created_at) "
                "VALUES (?, '日中のご連絡先電話番号', '末尾 5678 に変更', ?)",
                ((i, when) for i in tenth),
            )
            hundredth = [i for i in ids if i % 100 == 0]
            db.executemany(
                "INSERT INTO emailchangerequest (member_id, new_email, secret_question, "
                "secret_answer_hash, created_at, expires_at, status, failed_attempts) "
                "VALUES (?, ?, '母親の旧姓は？', ?, ?, '2099-01-01 00:00:00', 'pending', 0)",
                ((i, f"new{i}@example.net", answer_hash, when) for i in hundredth),
            )
            db.executemany(
                'INSERT INTO outboxmail ("to", subject, body, created_at, attempts) '
                "VALUES (?, '【WebBilling】お申し込みURLのご連絡', ?, ?, 0)",
                ((f"new{i}@example.net", "本文 " * 200, when) for i in hundredth),
            )
        db.execute("ANALYZE")


def timed(env: dict, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [BIN / "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, result.stdout.strip()


def megabytes(path: Path) -> str:
    return f"{path.stat().st_size / 1_000_000:,.0f} MB"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp, "release-1.sqlite3")
        shutil.copy(RELEASE_1, database)
        started = time.perf_counter()
        fill(database, MEMBERS)
        print(f"{MEMBERS:,} members in the first release's schema: {megabytes(database)}", end="")
        print(f" (built in {time.perf_counter() - started:.0f} s)")
        env = app_env(f"sqlite:///{database}")

        took, said = timed(env, "init-db")
        print(f"init-db (upgrade to this code's schema): {took:.1f} s  [{said}]")
        took, said = timed(env, "init-db")
        print(f"init-db again (nothing to do):           {took:.1f} s  [{said}]")

        backup = Path(tmp, "backup.sqlite3")
        took, said = timed(env, "backup", str(backup))
        print(f"backup:                                  {took:.1f} s, {megabytes(backup)}")
        took, _ = timed(env, "--help")
        print(f"  (of which starting flask:              {took:.1f} s)")

        with sqlite3.connect(backup) as copy:
            started = time.perf_counter()
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            print(f"integrity_check of the backup:           {time.perf_counter() - started:.1f} s")
        vacuumed = Path(tmp, "vacuum.sqlite3")
        with sqlite3.connect(database) as live:
            started = time.perf_counter()
            live.execute("VACUUM INTO ?", (str(vacuumed),))
            took = time.perf_counter() - started
        print(f"for comparison, VACUUM INTO:             {took:.1f} s, {megabytes(vacuumed)}")


if __name__ == "__main__":
    main()
