"""A form on another origin that posts to the app by itself is refused, even with the member's
valid CSRF token copied in: chromium names the page's origin in `Origin`, which is not the
site's (extensions.CSRFProtect). The other origin is another port of the same host, a sibling
on the same site, so SameSite=Lax still sends the session cookie and only the origin check
stands between that page and the change."""

from __future__ import annotations

import threading

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from models import Member

from ..conftest import in_db
from ..live import free_port
from .conftest import log_in


@pytest.fixture
def js() -> bool:
    return True  # the other page submits its form from a script


@pytest.fixture
def other_site():
    """Serves one page (`other_site.page = html`) at another origin on loopback."""

    def serve(environ, start_response):
        return Response(server.page, mimetype="text/html")(environ, start_response)

    server = make_server("127.0.0.1", free_port(), serve)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join()


def test_a_form_posted_from_another_origin_is_refused(page: Page, live_server, other_site):
    log_in(page)
    page.goto("/account/phone")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    other_site.page = (
        f'<body onload="document.forms[0].submit()">'
        f'<form method="post" action="{live_server}/account/phone">'
        f'<input name="csrf_token" value="{token}"><input name="new_phone" value="09012345678">'
        f"</form></body>"
    )
    with page.expect_request(lambda r: r.method == "POST") as sent:
        page.goto(other_site.url)
    assert sent.value.header_value("origin") == other_site.url
    assert sent.value.header_value("sec-fetch-site") == "same-site"
    assert sent.value.response().status == 400
    expect(page.get_by_text("画面の有効期限が切れたか")).to_be_visible()
    member = in_db(lambda: Member.get(Member.login_id_key == "taro0001"))
    assert member.daytime_phone == "0312345678"
    page.goto(live_server + "/account")  # the member is still logged in
    expect(page.get_by_role("heading", name="基本情報")).to_be_visible()
