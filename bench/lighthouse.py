"""Lighthouse (mobile form factor, Debian's chromium) on the login page, /account and the
email confirmation page: prints the four category scores per page.

    (cd bench/lighthouse && npm ci) && .venv/bin/python bench/lighthouse.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.live import Browser, email_confirmation_link, running  # noqa: E402

LIGHTHOUSE = Path(__file__).resolve().parent / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def audit(url: str, cookie: str = "") -> dict:
    with tempfile.TemporaryDirectory() as profile:
        out = Path(profile) / "report.json"
        command = [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={out}",
            "--form-factor=mobile",
            "--screenEmulation.mobile",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags=--headless=new --no-sandbox --disable-gpu --user-data-dir={profile}/c "
            "--disable-background-networking --disable-component-update --disable-sync",
        ]
        if cookie:
            command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
        subprocess.run(
            command,
            check=True,
            env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        report = json.loads(out.read_text())
    return {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}


def show(name: str, scores: dict) -> None:
    print(f"{name:<20}" + "".join(f"{scores[c]:>16}" for c in CATEGORIES))


def main() -> None:
    if not LIGHTHOUSE.exists():
        sys.exit("Run `(cd bench/lighthouse && npm ci)` first.")
    with tempfile.TemporaryDirectory() as tmp:
        database = f"{tmp}/lighthouse.sqlite3"  # ours, to read the mailed link from
        with running(database_url=f"sqlite:///{database}", workers=2) as base:
            print(f"{'page':<20}" + "".join(f"{c:>16}" for c in CATEGORIES))
            member = Browser(base)
            member.log_in()
            show("login", audit(base + "/login"))
            show("/account", audit(base + "/account", member.cookie))
            # After /account (the pending change would show on ⑥); the link needs no login.
            show("email confirmation", audit(email_confirmation_link(member, database)))


if __name__ == "__main__":
    main()
