"""Page weight on a phone: bytes transferred per screen (first load and repeat visit) and per
htmx fragment, as headless chromium receives them from the real server.

Budget (the issue): first load of /account at most 20 KB transferred in total, each htmx
fragment at most 1.5 KB, a repeat visit revalidating nothing.

    .venv/bin/python bench/weight.py
"""

from __future__ import annotations

import sys
import tempfile
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.browser.chromium import CHROMIUM, PHONE  # noqa: E402
from tests.live import (  # noqa: E402
    SITE,
    Browser,
    chromium_at_site,
    email_confirmation_link,
    running,
)

PASSWORD = "Webbill#2024"
NEW_PASSWORD = "Newpass#2025x"
ACCOUNT_BUDGET = 20_480
FRAGMENT_BUDGET = 1_536
# The member's screens, each opened in a brand-new browser (nothing cached) with the session
# cookie. The flows' first steps are also URLs of their own: what a phone without JavaScript
# gets (the card inside the full page), so those are opened with JavaScript off.
SCREENS = ["/", "/account", "/account/history", "/account/lines"]
# A d-account provider configured, so that /login has its [dアカウントでログイン] (the login
# page does not ask the provider anything: none needs to run).
D_ACCOUNT = {
    "FLASK_DACCOUNT_ISSUER": "https://id.example.jp",
    "FLASK_DACCOUNT_CLIENT_ID": "bench",
    "FLASK_DACCOUNT_CLIENT_SECRET": "bench",
}
NO_JS_FIRST_STEPS = [
    "/account/phone",
    "/account/email",
    "/account/email/edit",
    "/account/secret",
    "/account/secret-auth",
    "/account/credentials",
    "/account/cancel",
]


class Meter:
    """What the network delivered (headers + encoded body) per response since the last take.
    A response served from the browser's cache counts 0 bytes."""

    def __init__(self, page):
        self.rows = []
        page.on("requestfinished", self.finished)

    def finished(self, request):
        sizes = request.sizes()
        response = request.response()
        self.rows.append(
            {
                "method": request.method,
                "url": request.url,
                "path": "/" + request.url.split("/", 3)[-1],
                "type": request.resource_type,
                "bytes": sizes["responseHeadersSize"] + sizes["responseBodySize"],
                "status": response.status if response else 0,
                "encoding": (response.headers.get("content-encoding") if response else None),
            }
        )

    def take(self):
        rows, self.rows = self.rows, []
        return rows


def pad(text: str, width: int) -> str:
    """`text` left-aligned in `width` columns of a terminal (full-width characters take 2)."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "FW" else 1 for c in text)
    return text + " " * max(width - columns, 0)


def from_network(row) -> bool:
    """False for a response the browser took from its cache without asking the server."""
    return row["bytes"] > 0 or row["status"] == 304


def report(name, rows):
    total = sum(r["bytes"] for r in rows)
    print(f"{pad(name, 52)} {total:>7,} B  ({len(rows)} responses)")
    for r in rows:
        cached = "" if from_network(r) else "  (from cache)"
        print(
            f"    {r['bytes']:>7,} B  {r['status']}  {r['encoding'] or '-':<5} "
            f"{r['path'][:60]}{cached}"
        )
    return total


def settle(page):
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)


def first_load(browser, base, path, state=None, js=True):
    """Bytes of `path` opened in a fresh browser context: nothing cached."""
    context = browser.new_context(
        base_url=base, storage_state=state, java_script_enabled=js, **PHONE
    )
    page = context.new_page()
    meter = Meter(page)
    page.goto(path)
    settle(page)
    rows = meter.take()
    context.close()
    return rows


def run_steps(page, meter, flow, steps):
    """Each step: (label, action, what is on screen afterwards). Prints one row per response
    the step caused; returns [(label, row)] for the budget."""
    print(f"  {flow}")
    fragments = []
    for label, action, shows in steps:
        action()
        expect(shows).to_be_visible()
        settle(page)
        rows = meter.take()
        if not rows:
            print(f"    {pad(label, 40)} (no request)")
        for i, r in enumerate(rows):
            kind = "  (a whole page, not a fragment)" if r["type"] == "document" else ""
            print(
                f"    {pad(label if i == 0 else '', 40)} {r['bytes']:>6,} B  {r['status']}  "
                f"{r['method']:<4} {r['path']}{kind}"
            )
            if r["type"] in ("fetch", "xhr"):
                fragments.append((f"{flow}: {label}", r))
    return fragments


def flows(page, meter):
    """Every inline flow, driven by its visible labels as QA does (tests/browser/*.py)."""
    fragments = []
    page.goto("/account")
    settle(page)
    meter.take()

    phone = page.locator("#phone")
    new_phone = page.get_by_label("新しい日中のご連絡先電話番号")
    fragments += run_steps(
        page,
        meter,
        "ご連絡先電話番号変更 (④)",
        [
            ("[変更] → edit", lambda: phone.get_by_role("link", name="変更").click(), new_phone),
            (
                "[変更] with 12 → error (422)",
                lambda: (new_phone.fill("12"), phone.get_by_role("button", name="変更").click()),
                page.get_by_text("市外局番から正しく入力してください"),
            ),
            (
                "[変更] with 09012345678 → confirm",
                lambda: (
                    new_phone.fill("09012345678"),
                    phone.get_by_role("button", name="変更").click(),
                ),
                page.get_by_role("button", name="変更する"),
            ),
            (
                "[変更する] → 完了",
                lambda: page.get_by_role("button", name="変更する").click(),
                page.get_by_text("連絡先電話番号変更完了"),
            ),
        ],
    )

    secret_auth = page.locator("#secret-auth")
    fragments += run_steps(
        page,
        meter,
        "秘密の質問による認証設定 (⑧)",
        [
            (
                "[変更] → edit",
                lambda: secret_auth.get_by_role("link", name="変更").click(),
                page.get_by_label("設定する", exact=True),
            ),
            (
                "設定する + [次へ] → confirm",
                lambda: (
                    page.get_by_label("設定する", exact=True).check(),
                    secret_auth.get_by_role("button", name="次へ").click(),
                ),
                secret_auth.get_by_role("button", name="登録する"),
            ),
            (
                "[登録する] → 完了",
                lambda: secret_auth.get_by_role("button", name="登録する").click(),
                page.get_by_text("秘密の質問による認証設定完了"),
            ),
        ],
    )

    daccount = page.get_by_role("region", name="dアカウント連携登録有無")
    fragments += run_steps(
        page,
        meter,
        "dアカウント連携登録解除 (⑨)",
        [
            (
                "[解除] → 未登録",
                lambda: daccount.get_by_role("button", name="解除").click(),
                page.get_by_text("dアカウント連携登録を解除しました。"),
            ),
        ],
    )

    email = page.get_by_role("region", name="連絡先メールアドレス", exact=True)
    address = "weight.new@example.net"
    fragments += run_steps(
        page,
        meter,
        "連絡先メールアドレス変更 (⑥)",
        [
            (
                "[変更] → choice",
                lambda: email.get_by_role("link", name="変更", exact=True).click(),
                email.get_by_role("link", name="変更しない"),
            ),
            (
                "[変更する] → form",
                lambda: email.get_by_role("link", name="変更する").click(),
                page.get_by_label("新しい連絡先メールアドレス", exact=True),
            ),
            (
                "fill form + [登録] → confirm",
                lambda: (
                    page.get_by_label("新しい連絡先メールアドレス", exact=True).fill(address),
                    page.get_by_label("新しい連絡先メールアドレス（確認用）").fill(address),
                    page.get_by_label("秘密の質問", exact=True).select_option("母親の旧姓は？"),
                    page.get_by_label("秘密の質問の回答").fill("やまだ"),
                    email.get_by_role("button", name="登録", exact=True).click(),
                ),
                email.get_by_role("button", name="登録する"),
            ),
            (
                "[登録する] → 受付完了",
                lambda: email.get_by_role("button", name="登録する").click(),
                page.get_by_text("連絡先メールアドレス登録/変更受付完了"),
            ),
        ],
    )

    credentials = page.get_by_role("region", name="ログインID/パスワードの変更")
    fragments += run_steps(
        page,
        meter,
        "ログインID/パスワードの変更 (⑩)",
        [
            (
                "[変更] → choice",
                lambda: credentials.get_by_role("link", name="変更").click(),
                page.get_by_label("ログインパスワード", exact=True),
            ),
            (
                "ログインパスワード + [次へ] → fields",
                lambda: (
                    page.get_by_label("ログインパスワード", exact=True).check(),
                    credentials.get_by_role("button", name="次へ").click(),
                ),
                page.get_by_label("新しいログインパスワード", exact=True),
            ),
            (
                "fill fields (live checklist)",
                lambda: (
                    page.get_by_label("現在のログインパスワード", exact=True).fill(PASSWORD),
                    page.get_by_label("新しいログインパスワード", exact=True).fill(NEW_PASSWORD),
                    page.get_by_label("新しいログインパスワード（確認用）").fill(NEW_PASSWORD),
                    page.wait_for_timeout(1000),  # the checklist waits 400 ms after typing
                ),
                credentials.get_by_role("button", name="更新"),
            ),
            (
                "[更新] → 完了",
                lambda: credentials.get_by_role("button", name="更新").click(),
                page.get_by_text("ログインパスワード変更完了"),
            ),
        ],
    )

    # The line screen is a page of its own (⑦ [変更] is a plain link); its steps are htmx.
    page.goto("/account/lines")
    settle(page)
    meter.take()
    company = page.get_by_label("ご契約会社")
    number = page.get_by_label("お客様電話番号")
    staged = page.get_by_role("list", name="追加する回線")

    def add():
        company.select_option(label="NTT東日本")
        number.fill("03-1234-5679")
        page.get_by_role("button", name="追加").click()

    fragments += run_steps(
        page,
        meter,
        "Webビリング対象回線の変更 (/account/lines)",
        [
            ("NTT東日本 03-1234-5679 + [追加]", add, staged),
            (
                "[削除]",
                lambda: staged.get_by_role("button", name="削除").click(),
                page.get_by_text("追加する回線はまだありません。"),
            ),
            ("[追加] again", add, staged),
            (
                "[登録] → confirm",
                lambda: page.get_by_role("button", name="登録", exact=True).click(),
                page.get_by_role("heading", name="入力内容の確認"),
            ),
            (
                "[登録する] → 完了",
                lambda: page.get_by_role("button", name="登録する").click(),
                page.get_by_text("Webビリング対象回線情報の変更が完了しました。"),
            ),
        ],
    )
    return fragments


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(database_url=f"sqlite:///{tmp}/weight.sqlite3", nginx=True, **D_ACCOUNT) as url,
        sync_playwright() as p,
    ):
        # As a member's phone gets it: the site's address, through nginx (the app accepts POSTs
        # from the site's origin only).
        base = SITE
        args = CHROMIUM["args"] + chromium_at_site(url)
        browser = p.chromium.launch(**{**CHROMIUM, "args": args})
        context = browser.new_context(base_url=base, **PHONE)
        page = context.new_page()
        meter = Meter(page)
        page.goto("/login")
        settle(page)
        loads = {"/login": report("first load: /login", meter.take())}
        assert page.get_by_role("link", name="dアカウントでログイン").is_visible()
        page.get_by_label("ログインID").fill("taro0001")
        page.get_by_label("ログインパスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url("**/")
        settle(page)
        report("after login: / (assets cached)", meter.take())
        state = context.storage_state()

        print("\nfirst load, brand-new phone (nothing cached), logged in:")
        for path in SCREENS:
            loads[path] = report(f"first load: {path}", first_load(browser, base, path, state))
        for path in NO_JS_FIRST_STEPS:
            rows = first_load(browser, base, path, state, js=False)
            loads[path] = report(f"first load, JavaScript off: {path}", rows)

        # Repeat visit on a phone that has been here: static assets from cache, no request.
        repeat_context = browser.new_context(base_url=base, storage_state=state, **PHONE)
        repeat_page = repeat_context.new_page()
        repeat_meter = Meter(repeat_page)
        repeat_page.goto("/account")
        settle(repeat_page)
        repeat_meter.take()
        repeat_page.goto("/account")
        settle(repeat_page)
        repeat = repeat_meter.take()
        print()
        report("repeat visit: /account", repeat)
        revalidated = [r for r in repeat if "/static/" in r["url"] and from_network(r)]
        repeat_context.close()

        # Public, opened from the mail: apply for a new address as the member (a second
        # session of the same member), read the link from the outbox, open it cold.
        print("\npublic, no login (the link in the mail), brand-new phone:")
        member = Browser(url)
        member.log_in()
        link = email_confirmation_link(member, f"{tmp}/weight.sqlite3", "w@example.net")
        rows = first_load(browser, base, link.removeprefix(url))
        loads["/email/confirm/<token>"] = report("first load: /email/confirm/<token>", rows)
        assert next(r for r in rows if r["type"] == "document")["status"] == 200

        print("\nhtmx fragments (bytes per response; JavaScript on, page stays put):")
        fragments = flows(page, meter)
        browser.close()

    print("\nbudget:")
    account = loads["/account"]
    verdict = "ok" if account <= ACCOUNT_BUDGET else "OVER"
    print(f"  /account first load        {account:>7,} B of {ACCOUNT_BUDGET:,} B  {verdict}")
    heavy = [(path, size) for path, size in loads.items() if size > ACCOUNT_BUDGET]
    print(
        f"  other screens over {ACCOUNT_BUDGET:,} B: "
        + (", ".join(f"{p} {s:,} B" for p, s in heavy) or "none")
    )
    name, largest = max(fragments, key=lambda f: f[1]["bytes"])
    verdict = "ok" if largest["bytes"] <= FRAGMENT_BUDGET else "OVER"
    print(
        f"  largest fragment           {largest['bytes']:>7,} B of {FRAGMENT_BUDGET:,} B  "
        f"{verdict}  ({name})"
    )
    over = [(n, r) for n, r in fragments if r["bytes"] > FRAGMENT_BUDGET]
    print(f"  fragments over {FRAGMENT_BUDGET:,} B: {len(over)} of {len(fragments)}")
    for n, r in over:
        print(f"      {r['bytes']:>6,} B  {n}  ({r['method']} {r['path']})")
    print(
        f"  static requests revalidated on a repeat visit: {len(revalidated)}"
        f"  {'ok' if not revalidated else 'OVER'}"
    )
    for r in revalidated:
        print(f"      {r['status']}  {r['bytes']:,} B  {r['path']}")


if __name__ == "__main__":
    main()
