"""Benchmark (not a test): the line screen for a member with 200 registered lines.

    .venv/bin/python bench/lines_screen.py [--runs 50]

Builds a throwaway SQLite database (or uses FLASK_DATABASE_URL, whose tables it drops and
re-creates), gives the demo member 済日利 太郎 200 lines (one of them a bulk-billing
representative), logs in, and times each request in-process through Flask's test client, so
the figures are server time (routing, queries, templates) without any network. It prints the
first (cold) time, the median and 90th percentile, the response size and its gzip size.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from extensions import db  # noqa: E402
from migrations import upgrade  # noqa: E402
from models import MODELS, Company, LineRecord, Member, MemberLine  # noqa: E402

HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/account/lines"}


def build(tmp: str):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SESSION_COOKIE_SECURE": False,
            "DATABASE_URL": os.environ.get("FLASK_DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3"),
        }
    )
    with db.database.connection_context():
        db.database.drop_tables(MODELS, safe=True, cascade=db.database.for_update)
        upgrade(db.database)
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with db.database.connection_context(), db.database.atomic():
        member = Member.get(Member.login_id_key == "taro0001")
        east = Company.get(Company.name == "NTT東日本")
        numbers = [f"090{30000000 + i}" for i in range(198)]
        LineRecord.insert_many(
            [
                {"company": east.id, "number": n, "holder_name": member.customer_name}
                for n in numbers
            ]
        ).execute()
        numbers.append("0452223333")  # the demo's bulk-billing representative (3 more lines)
        ids = LineRecord.select(LineRecord.id).where(LineRecord.number.in_(numbers))
        MemberLine.insert_many([{"member": member.id, "line": r.id} for r in ids]).execute()
        assert MemberLine.select().where(MemberLine.member == member).count() == 200
    return app


def log_in(client) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html).group(1)
    response = client.post(
        "/login", data={"csrf_token": token, "login_id": "taro0001", "password": "Webbill#2024"}
    )
    assert response.status_code == 303


def measure(label: str, call, runs: int, expect: int) -> None:
    start = time.perf_counter()
    call()  # the first one also compiles templates and fills phones.display's cache
    first = (time.perf_counter() - start) * 1000
    times, body = [], b""
    for _ in range(runs):
        start = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == expect, (label, response.status_code)
        body = response.get_data()
    print(
        f"{label:<40} first {first:6.1f} ms  median {statistics.median(times):5.1f} ms  "
        f"p90 {statistics.quantiles(times, n=10)[-1]:5.1f} ms  "
        f"{len(body):6,d} bytes (gzip {len(gzip.compress(body)):5,d})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        app = build(tmp)
        client = app.test_client()
        log_in(client)
        token = re.search(
            r'name="csrf_token" value="([^"]+)"',
            client.get("/account/lines").get_data(as_text=True),
        ).group(1)
        with app.app_context(), db.database.connection_context():
            last = MemberLine.select(MemberLine.id).order_by(MemberLine.id.desc()).scalar()
            east = Company.get(Company.name == "NTT東日本").id
        swap = {
            "csrf_token": token,
            "cancel": [str(last)],
            "company": str(east),
            "number": "03-1234-5679",
        }
        change = {"csrf_token": token, "cancel": [str(last)], "staged": [f"{east}:0312345679"]}
        print(f"member with 200 registered lines, {runs} runs each, {app.config['DATABASE_URL']}")
        measure("GET /account/lines (full page)", lambda: client.get("/account/lines"), runs, 200)
        measure(
            "GET /account/lines (htmx fragment)",
            lambda: client.get("/account/lines", headers=HX),
            runs,
            200,
        )
        measure(
            "POST /account/lines/stage [追加] (htmx)",
            lambda: client.post("/account/lines/stage", data=swap, headers=HX),
            runs,
            200,
        )
        measure(
            "POST /account/lines/confirm (htmx)",
            lambda: client.post("/account/lines/confirm", data=change, headers=HX),
            runs,
            200,
        )
        measure("GET /account (基本情報, ⑦ list)", lambda: client.get("/account"), runs, 200)


if __name__ == "__main__":
    main()
