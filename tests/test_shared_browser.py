"""A shared phone: the pages one login session leaves in the browser's cache for Back go when the
browser changes hands (`Clear-Site-Data: "cache"`): at every login, whichever way it is made, at
logout, and when a session is found ended; never within the member's own live session, whose
Back keeps every step (tests/browser/test_repeat_and_back.py shows both in a real browser)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from clock import utcnow
from models import LoginSession, Member

from .conftest import PASSWORD, in_db, log_in, post, token_in
from .oidc_provider import UNLINKED, provider
from .test_daccount_login import d_login, link_form

CLEARS = '"cache"'


@pytest.fixture
def op():
    with provider() as op:
        yield op


@pytest.fixture
def app_config(op):
    return op.settings


def clears(response) -> bool:
    return response.headers.get("Clear-Site-Data") == CLEARS


def test_a_password_login_clears_and_the_member_s_own_pages_do_not(client):
    assert not clears(client.get("/login"))
    assert clears(log_in(client))
    assert not clears(client.get("/account/phone"))
    confirm = post(
        client, "/account/phone/confirm", {"new_phone": "090-1234-5678"}, page="/account/phone"
    )
    assert confirm.status_code == 200 and not clears(confirm)  # a page kept for Back
    assert clears(post(client, "/logout", page="/"))


def test_the_secret_question_step_clears_when_it_logs_in(client):
    in_db(lambda: Member.update(secret_auth_enabled=True).execute())
    log_in(client)
    token = token_in(client.get("/login/secret").get_data(as_text=True))
    wrong = client.post("/login/secret", data={"csrf_token": token, "answer": "ちがう"})
    assert wrong.status_code == 422 and not clears(wrong)
    assert clears(client.post("/login/secret", data={"csrf_token": token, "answer": "やまだ"}))


def test_a_d_account_login_and_a_d_account_link_clear(client):
    assert clears(d_login(client))
    post(client, "/logout", page="/")
    arrival = d_login(client, UNLINKED)  # not a login yet: 連携登録 asks who it is
    assert arrival.headers["Location"] == "/login/d-account/link" and not clears(arrival)
    assert clears(link_form(client, "hanako0002", PASSWORD))


@pytest.mark.parametrize("ended", ["timed_out", "purged"])
def test_a_session_found_ended_clears_once(client, ended):
    log_in(client)
    if ended == "purged":  # `flask purge`, or a password change elsewhere
        in_db(lambda: LoginSession.delete().execute())
        assert clears(client.get("/account"))
    else:
        with time_machine.travel(utcnow() + timedelta(minutes=31)):
            assert clears(client.get("/account"))
    assert not clears(client.get("/login"))  # nothing more to clear: no session any more


def test_a_credential_change_keeps_the_member_s_pages(client):
    log_in(client)
    changed = post(
        client,
        "/account/credentials",
        {
            "target": "password",
            "current_password": PASSWORD,
            "new_password": "Shin-pass42",
            "new_password_confirm": "Shin-pass42",
        },
        page="/account/credentials",
    )
    assert changed.status_code == 303 and not clears(changed)
