"""A member's browser without the browser: cookies, CSRF tokens and form posts over real
HTTP, for benchmarks and for tests that run the real server."""

from __future__ import annotations

import http.cookiejar
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request

TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        self.token = ""

    def request(self, path: str, data: dict | None = None, headers: dict | None = None):
        """(status, body, headers); remembers the page's CSRF token for the next POST."""
        body = None
        if data is not None:
            body = urllib.parse.urlencode({"csrf_token": self.token, **data}).encode()
        request = urllib.request.Request(self.base + path, body, headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                status, text, got = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, text, got = error.code, error.read().decode(), error.headers
        if match := TOKEN.search(text):
            self.token = match[1]
        return status, text, got

    def get(self, path: str, **kwargs):
        return self.request(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.request(path, data or {}, **kwargs)

    def log_in(self, login_id: str = "taro0001", password: str = "Webbill#2024") -> int:
        self.get("/login")
        status, _, _ = self.post("/login", {"login_id": login_id, "password": password})
        if status == 303:
            self.get("/account")
        return status

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def email_confirmation_link(
    member: Browser, database: str, new_email: str = "bench.new@example.net"
) -> str:
    """Apply for a contact-address change as `member` would (⑥ [変更] → [変更する] → 登録する,
    as form posts), then read the link mailed to the new address from the outbox of the SQLite
    file `database` (the bench server runs without debug, so /dev/mail is not there). The
    link names EXTERNAL_BASE_URL; the one returned points at the member's server."""
    member.get("/account/email/edit")
    status, _, _ = member.post(
        "/account/email",
        {
            "new_email": new_email,
            "new_email_confirm": new_email,
            "secret_question": "母親の旧姓は？",
            "secret_answer": "やまだ",
        },
    )
    if status != 303:
        raise RuntimeError(f"email change request answered {status}")
    with sqlite3.connect(database) as db:
        (body,) = db.execute(
            'SELECT body FROM outboxmail WHERE "to" = ? ORDER BY id DESC LIMIT 1', (new_email,)
        ).fetchone()
    return member.base + re.search(r"https?://[^/\s]+(/email/confirm/\S+)", body)[1]
