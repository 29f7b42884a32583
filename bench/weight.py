"""Page weight on a phone: bytes transferred per screen (first load and repeat visit) and per
htmx fragment, as headless chromium receives them from the real server.

    .venv/bin/python bench/weight.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.server import running  # noqa: E402

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "ja-JP",
}


class Meter:
    """Sums what the network delivered (headers + encoded body) since the last reset."""

    def __init__(self, page):
        self.rows = []
        page.on("requestfinished", self.finished)

    def finished(self, request):
        sizes = request.sizes()
        response = request.response()
        self.rows.append(
            (
                request.url,
                sizes["responseHeadersSize"] + sizes["responseBodySize"],
                response.status if response else 0,
                (response.headers.get("content-encoding") if response else None),
            )
        )

    def take(self):
        rows, self.rows = self.rows, []
        return rows


def report(name, rows):
    total = sum(size for _, size, _, _ in rows)
    print(f"{name:<34} {total:>7,} B  ({len(rows)} responses)")
    for url, size, status, encoding in rows:
        short = url.split("/", 3)[-1][:60]
        print(f"    {size:>7,} B  {status}  {encoding or '-':<5} /{short}")
    return total


def main() -> None:
    with running() as base, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(base_url=base, **PHONE)
        page = context.new_page()
        meter = Meter(page)
        page.goto("/login")
        page.wait_for_load_state("networkidle")
        report("first load: /login", meter.take())
        page.get_by_label("ログインID").fill("taro0001")
        page.get_by_label("ログインパスワード").fill("Webbill#2024")
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url("**/")
        page.wait_for_load_state("networkidle")
        report("after login: / (cached assets)", meter.take())

        # A brand-new phone opening /account: nothing cached yet.
        cold = browser.new_context(base_url=base, storage_state=context.storage_state(), **PHONE)
        cold_page = cold.new_page()
        cold_meter = Meter(cold_page)
        cold_page.goto("/account")
        cold_page.wait_for_load_state("networkidle")
        account = report("first load: /account", cold_meter.take())
        cold_page.goto("/account")
        cold_page.wait_for_load_state("networkidle")
        repeat = cold_meter.take()
        report("repeat visit: /account", repeat)
        revalidated = [u for u, _, status, _ in repeat if "/static/" in u]
        print(f"static requests on repeat visit: {len(revalidated)}")

        page.goto("/account")
        page.wait_for_load_state("networkidle")
        meter.take()
        steps = [
            (
                "phone: [変更]",
                lambda: page.locator("#phone").get_by_role("link", name="変更").click(),
            ),
            (
                "phone: error",
                lambda: (
                    page.get_by_label("新しい日中のご連絡先電話番号").fill("12"),
                    page.locator("#phone").get_by_role("button", name="変更").click(),
                ),
            ),
            (
                "phone: confirm",
                lambda: (
                    page.get_by_label("新しい日中のご連絡先電話番号").fill("09012345678"),
                    page.locator("#phone").get_by_role("button", name="変更").click(),
                ),
            ),
            (
                "phone: [変更する] → 完了",
                lambda: page.get_by_role("button", name="変更する").click(),
            ),
        ]
        print("htmx fragments:")
        largest = 0
        for name, action in steps:
            action()
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)
            rows = meter.take()
            size = sum(s for _, s, _, _ in rows)
            largest = max(largest, size)
            print(f"    {name:<28} {size:>6,} B  {[r[2] for r in rows]}")
        print(
            f"\nbudget: /account first load {account:,} B of 20,480 B; "
            f"largest fragment {largest:,} B of 1,536 B"
        )
        browser.close()


if __name__ == "__main__":
    main()
