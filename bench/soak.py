"""Load without loss: concurrent members doing the real flows (phone change, email change with
its mailed link, line add/cancel, password change) against the production setup (nginx over
HTTPS in front of gunicorn) on SQLite for a bounded time, then a consistency check of every
acknowledged change.

    .venv/bin/python bench/soak.py [seconds] [members]
"""

from __future__ import annotations

import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.throughput import server_cpu  # noqa: E402
from phones import display  # noqa: E402
from tests.live import PROXIED, Browser, app_env, behind_nginx, flask, free_port, start  # noqa: E402

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 60
MEMBERS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
PASSWORDS = ["Soak#Pass0a", "Soak#Pass1b", "Soak#Pass2c", "Soak#Pass3d"]  # 4: history keeps 3
ANSWER = "やまだ"


def seed(database_url: str) -> int:
    """Soak members, each with one registered line and one more of theirs in the registry."""
    import os

    os.environ["FLASK_DATABASE_URL"] = database_url
    os.environ["FLASK_SECRET_KEY"] = "soak" * 8
    os.environ["FLASK_EXTERNAL_BASE_URL"] = "https://billing.example.jp"
    from app import create_app
    from extensions import db
    from hashing import hash_secret
    from models import Company, CredentialHistory, LineRecord, Member, MemberLine

    app = create_app()
    with app.app_context(), db.database.connection_context(), db.database.atomic():
        company = Company.get(Company.name == "NTT東日本")
        password_hash = hash_secret(PASSWORDS[0])
        answer_hash = hash_secret(ANSWER)
        for i in range(MEMBERS):
            name = f"負荷 試験{i:02d}"
            member = Member.create(
                login_id=f"soak{i:04d}",
                login_id_key=f"soak{i:04d}",
                password_hash=password_hash,
                customer_name=name,
                daytime_phone="0312345678",
                email=f"soak{i}@example.com",
                secret_question="母親の旧姓は？",
                secret_answer_hash=answer_hash,
            )
            CredentialHistory.create(member=member, kind="login_id", value=member.login_id_key)
            CredentialHistory.create(member=member, kind="password", value=password_hash)
            for prefix in ("0350", "0351"):
                LineRecord.create(company=company, number=f"{prefix}{i:06d}", holder_name=name)
            MemberLine.create(
                member=member, line=LineRecord.get(LineRecord.number == f"0350{i:06d}")
            )
        return company.id


class Soaker(threading.Thread):
    def __init__(self, base: str, i: int, company_id: int, database: str, until: float):
        super().__init__()
        self.i, self.company_id, self.database, self.until = i, company_id, database, until
        self.browser = Browser(base)
        self.done = Counter()
        self.errors: list[str] = []
        self.server_errors = 0
        self.expected = {
            "phone": "0312345678",
            "email": f"soak{i}@example.com",
            "password": PASSWORDS[0],
            "line_b": False,
        }
        self.history_rows = 0

    def check(self, status: int, wanted: int, what: str) -> bool:
        if status >= 500:
            self.server_errors += 1
        if status != wanted:
            self.errors.append(f"{what}: {status}")
            return False
        return True

    def run(self) -> None:
        b = self.browser
        if not self.check(b.log_in(f"soak{self.i:04d}", PASSWORDS[0]), 303, "login"):
            return
        flows = [self.phone, self.email, self.line, self.password]
        k = 0
        while time.monotonic() < self.until:
            flow = flows[k % len(flows)]
            try:
                if flow(k):
                    self.done[flow.__name__] += 1
            except Exception as error:  # noqa: BLE001 — report, don't stop the soak
                self.errors.append(f"{flow.__name__}: {error!r}")
            k += 1

    def phone(self, k: int) -> bool:
        number = f"0901{self.i:03d}{k % 10000:04d}"
        b = self.browser
        b.get("/account/phone")
        if not self.check(
            b.post("/account/phone/confirm", {"new_phone": number})[0], 200, "phone confirm"
        ):
            return False
        if not self.check(b.post("/account/phone", {"new_phone": number})[0], 303, "phone"):
            return False
        self.expected["phone"] = number
        self.history_rows += 1
        return True

    def email(self, k: int) -> bool:
        address = f"soak{self.i}-{k}@example.com"
        b = self.browser
        data = {
            "new_email": address,
            "new_email_confirm": address,
            "secret_question": "母親の旧姓は？",
            "secret_answer": ANSWER,
        }
        b.get("/account/email/edit")
        if not self.check(b.post("/account/email", data)[0], 303, "email request"):
            return False
        self.history_rows += 1
        link = self.mailed_link(address)
        visitor = Browser(b.base)
        if not self.check(visitor.get(link)[0], 200, "email link"):
            return False
        answer = {"secret_question": "母親の旧姓は？", "secret_answer": ANSWER}
        if not self.check(visitor.post(link, answer)[0], 303, "email confirm"):
            return False
        self.expected["email"] = address
        self.history_rows += 1
        return True

    def mailed_link(self, address: str) -> str:
        import sqlite3

        with sqlite3.connect(self.database) as db:
            body = db.execute(
                'SELECT body FROM outboxmail WHERE "to" = ? ORDER BY id DESC', (address,)
            ).fetchone()[0]
        return "/" + re.search(r"https?://[^/\s]+/(email/confirm/\S+)", body)[1]

    def line(self, k: int) -> bool:
        b = self.browser
        number = f"0351{self.i:06d}"
        _, page, _ = b.get("/account/lines")
        if not self.expected["line_b"]:
            data = {"staged": f"{self.company_id}:{number}"}
        else:
            shown = display(number)  # as the screen shows it
            match = re.search(r'name="cancel" value="(\d+)"[^>]*> ' + re.escape(shown), page)
            if not match:
                self.errors.append("line: registered line not shown")
                return False
            data = {"cancel": match[1]}
        if not self.check(b.post("/account/lines", data)[0], 303, "line"):
            return False
        self.expected["line_b"] = not self.expected["line_b"]
        self.history_rows += 1
        return True

    def password(self, k: int) -> bool:
        b = self.browser
        new = PASSWORDS[(PASSWORDS.index(self.expected["password"]) + 1) % len(PASSWORDS)]
        b.post("/account/credentials/edit", {"target": "password"})
        status, _, _ = b.post(
            "/account/credentials",
            {
                "target": "password",
                "current_password": self.expected["password"],
                "new_password": new,
                "new_password_confirm": new,
            },
        )
        if not self.check(status, 303, "password"):
            return False
        self.expected["password"] = new
        self.history_rows += 1
        return True


def consistency(soakers: list[Soaker], database: str, base: str) -> list[str]:
    import sqlite3

    problems = []
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for s in soakers:
            member_id, phone, email = db.execute(
                "SELECT id, daytime_phone, email FROM member WHERE login_id = ?",
                (f"soak{s.i:04d}",),
            ).fetchone()
            lines = {
                n
                for (n,) in db.execute(
                    "SELECT l.number FROM memberline m JOIN linerecord l ON l.id = m.line_id "
                    "WHERE m.member_id = ?",
                    (member_id,),
                )
            }
            rows = db.execute(
                "SELECT count(*) FROM changehistory WHERE member_id = ?", (member_id,)
            ).fetchone()[0]
            want_lines = {f"0350{s.i:06d}"} | (
                {f"0351{s.i:06d}"} if s.expected["line_b"] else set()
            )
            if phone != s.expected["phone"]:
                problems.append(f"soak{s.i}: phone {phone} != {s.expected['phone']}")
            if email != s.expected["email"]:
                problems.append(f"soak{s.i}: email {email} != {s.expected['email']}")
            if lines != want_lines:
                problems.append(f"soak{s.i}: lines {lines} != {want_lines}")
            if rows != s.history_rows:
                problems.append(f"soak{s.i}: {rows} history rows for {s.history_rows} changes")
            if Browser(base).log_in(f"soak{s.i:04d}", s.expected["password"]) != 303:
                problems.append(f"soak{s.i}: cannot log in with the last password")
    return problems


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = f"{tmp}/soak.sqlite3"
        url = f"sqlite:///{database}"
        limits = {
            f"FLASK_{name}_RATE_LIMIT": "100000 per minute"
            for name in ("LOGIN", "EMAIL_LINK", "EMAIL_CHANGE")
        }
        env = app_env(url, BIND=f"127.0.0.1:{free_port()}", **PROXIED, **limits)
        flask(env, "init-db")
        flask(env, "seed-demo")
        company_id = seed(url)
        server = start("app:create_app()", env)
        try:
            with behind_nginx(server.url) as site:
                until = time.monotonic() + SECONDS
                soakers = [Soaker(site, i, company_id, database, until) for i in range(MEMBERS)]
                cpu = server_cpu()
                for s in soakers:
                    s.start()
                for s in soakers:
                    s.join()
                cpu = server_cpu() - cpu
                problems = consistency(soakers, database, site)
        finally:
            server.terminate()
            server.wait(10)
    flows = sum((s.done for s in soakers), Counter())
    errors = [e for s in soakers for e in s.errors]
    print(f"{MEMBERS} members, {SECONDS} s, nginx (HTTPS) in front of gunicorn, SQLite")
    print(
        f"completed flows: {sum(flows.values())}  "
        + "  ".join(f"{k} {v}" for k, v in sorted(flows.items()))
    )
    # Flows per minute swing with the load of a shared machine; server CPU per flow much less.
    print(
        f"server CPU (gunicorn, nginx): {cpu * 1000 / max(1, sum(flows.values())):.1f} ms per flow"
    )
    print(f"errors: {len(errors)}  5xx: {sum(s.server_errors for s in soakers)}")
    for error, count in Counter(errors).most_common(10):
        print(f"    {count} × {error}")
    verdict = "FAILED" if problems else "every acknowledged change present exactly once"
    print(f"consistency: {verdict}")
    for problem in problems[:10]:
        print("   ", problem)


if __name__ == "__main__":
    main()
