"""Does a failed login take the same time whether the login ID is unknown, the password wrong
or the account locked? (issue 11, F7: medians within 1 ms.)

    .venv/bin/python bench/login_timing.py [tries per case, default 200]

Runs the production server (gunicorn from gunicorn.conf.py, its 3 sync workers, a fresh seeded
SQLite database; the login rate limit raised so that no 429 interferes) and times POST /login
from the client, one new connection per request as a browser's first visit would make, in
rounds of one try of each case (shuffled within the round), so that a burst of other work on
the machine falls on all of them alike:

- unknown: a login ID no member has;
- wrong: a known ID with a wrong password (each try on its own member, its first failure, so
  none of them locks);
- locked: a locked member, right password;
- right: a known ID with its right password (for reference: the one answer allowed to differ).

Prints each case's median and quartiles, and a two-sided Mann-Whitney U test (normal
approximation, z) of each failing case against the others.
"""

from __future__ import annotations

import math
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.live import Browser, running  # noqa: E402

TRIES = int(sys.argv[1]) if len(sys.argv) > 1 else 200
PASSWORD = "Webbill#2024"


def add_members(database: str, count: int) -> None:
    """`count` copies of taro0001 (his password hash included, no d-account) as bench0000…,
    and hanako0002 locked for a day."""
    with sqlite3.connect(database) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(member)") if row[1] != "id"]
        own = {"login_id", "login_id_key", "d_account_issuer", "d_account_subject"}
        copied = ", ".join("?" if c in own else c for c in columns)
        for i in range(count):
            values = [f"bench{i:04d}" if c.startswith("login_id") else None for c in columns]
            db.execute(
                f"INSERT INTO member ({', '.join(columns)}) "  # noqa: S608 (our schema's names)
                f"SELECT {copied} FROM member WHERE login_id = 'taro0001'",
                [v for c, v in zip(columns, values, strict=True) if c in own],
            )
        db.execute(
            "UPDATE member SET locked_until = datetime('now', '+1 day') "
            "WHERE login_id = 'hanako0002'"
        )


def timed_login(base: str, login_id: str, password: str) -> tuple[float, int]:
    browser = Browser(base)
    browser.get("/login")
    start = time.perf_counter()
    status, _, _ = browser.post("/login", {"login_id": login_id, "password": password})
    return (time.perf_counter() - start) * 1000, status


def mann_whitney_z(a: list[float], b: list[float]) -> float:
    ranked = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    rank_sum_a = sum(rank for rank, (_, group) in enumerate(ranked, 1) if group == 0)
    n, m = len(a), len(b)
    u = rank_sum_a - n * (n + 1) / 2
    return (u - n * m / 2) / math.sqrt(n * m * (n + m + 1) / 12)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = f"{tmp}/login.sqlite3"
        limit = "100000 per minute"  # no 429 in the way
        with running(database_url=f"sqlite:///{database}", FLASK_LOGIN_RATE_LIMIT=limit) as base:
            add_members(database, TRIES)
            plan = []  # rounds of one try of each case, shuffled within the round
            for i in range(TRIES):
                plan += [(case, i) for case in random.sample(list(CASES), len(CASES))]
            for _ in range(10):  # warm every worker up
                timed_login(base, "nobody", "x")
            times: dict[str, list[float]] = {case: [] for case in CASES}
            for case, i in plan:
                login_id, password, expected = CASES[case](i)
                elapsed, status = timed_login(base, login_id, password)
                if status != expected:
                    raise SystemExit(f"{case}: answered {status}, not {expected}")
                times[case].append(elapsed)
    load = os.getloadavg()[0]  # other work on the machine widens every spread
    print(f"POST /login, {TRIES} tries per case, gunicorn (3 workers), SQLite, load {load:.1f}")
    for case, values in times.items():
        q1, median, q3 = statistics.quantiles(values, n=4)
        print(f"  {case:8} median {median:6.2f} ms  (quartiles {q1:6.2f} – {q3:6.2f} ms)")
    failing = ["unknown", "wrong", "locked"]
    medians = [statistics.median(times[case]) for case in failing]
    print(f"  largest gap between the failing cases' medians: {max(medians) - min(medians):.2f} ms")
    for a, b in (("wrong", "unknown"), ("wrong", "locked"), ("unknown", "locked")):
        print(f"  Mann-Whitney {a} vs {b}: z = {mann_whitney_z(times[a], times[b]):+.2f}")


CASES = {
    "unknown": lambda i: (f"nobody{i:04d}", "Wrong#pass1", 422),
    "wrong": lambda i: (f"bench{i:04d}", "Wrong#pass1", 422),
    "locked": lambda i: ("hanako0002", PASSWORD, 422),
    "right": lambda i: ("taro0001", PASSWORD, 303),
}


if __name__ == "__main__":
    main()
