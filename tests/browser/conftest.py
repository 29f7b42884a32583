"""Browser tests: Debian's chromium driven by Playwright on a phone-sized screen, against the
real app served over HTTP on loopback, with JavaScript on and off, and axe-core on every page."""

from __future__ import annotations

import threading

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from ..conftest import PASSWORD
from ..live import free_port
from .chromium import CHROMIUM, PHONE

axe = Axe()


@pytest.fixture
def live_server(app):
    """The app's URL. It is also the app's EXTERNAL_BASE_URL: the address the browser uses is
    the site's, which POSTs must come from (extensions.CSRFProtect) and mailed links name."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    url = app.config["EXTERNAL_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def playwright():
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(**CHROMIUM)
    yield browser
    browser.close()


@pytest.fixture(params=["js", "nojs"])
def js(request) -> bool:
    return request.param == "js"


@pytest.fixture
def page(browser, live_server, js) -> Page:
    context = browser.new_context(base_url=live_server, java_script_enabled=js, **PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.axe_context = browser.new_context(base_url=live_server, **PHONE)
    yield page
    page.axe_context.close()
    context.close()


def check_a11y(page: Page) -> None:
    """Zero axe-core violations on what `page` shows now. Axe needs JavaScript, so a page
    opened with JavaScript off is re-shown, same HTML and same CSS, in a second tab."""
    target = page
    if not page.context._impl_obj._options.get("javaScriptEnabled", True):
        html = page.content()
        target = page.axe_context.new_page()
        url = page.url.split("#")[0]
        target.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
        target.goto(url)
    results = axe.run(target)
    assert results.violations_count == 0, results.generate_report()
    assert results.response["passes"], "axe ran no checks"
    if target is not page:
        target.close()


def log_in(page: Page, login_id="taro0001", password=PASSWORD) -> None:
    page.goto("/login")
    check_a11y(page)
    page.get_by_label("ログインID").fill(login_id)
    page.get_by_label("ログインパスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/")
