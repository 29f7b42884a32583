"""Retention: a confirmation link leaves the stored mail once its request has ended or
expired, and `flask purge` removes what has outlived its use (README "Operations")."""

from datetime import timedelta

import pytest
import time_machine

from blueprints.cancel.forms import REASONS
from blueprints.daccount.changes import spend
from blueprints.email.changes import LINK_REMOVED
from models import DAccountUsedKey, EmailChangeRequest, LoginSession, RateLimitCounter

from .conftest import in_db, log_in, post
from .test_email import FUTURE, NEW, RIGHT, answer, apply, mails_to

WRONG = {**RIGHT, "secret_answer": "ちがう"}


def link_mails():
    return mails_to(NEW["new_email"])


def ended_by(case, member_client):
    """End the pending request the way `case` says; returns its link's path."""
    path = apply(member_client)
    visitor = member_client.application.test_client()
    if case == "used":
        assert answer(visitor, path).status_code == 303
    elif case == "replaced":
        assert post(member_client, "/account/email/resend").status_code == 303
    elif case == "cancelled":
        assert post(member_client, "/account/email/cancel").status_code == 303
    elif case == "killed":
        for _ in range(5):
            answer(visitor, path, WRONG)
    elif case == "membership cancelled":
        assert post(member_client, "/account/cancel", {"reason": REASONS[0]}).status_code == 303
    return path


@pytest.mark.parametrize(
    "case", ["used", "replaced", "cancelled", "killed", "membership cancelled"]
)
def test_an_ended_requests_link_is_cut_out_of_its_stored_mail(member_client, case):
    path = ended_by(case, member_client)
    first = link_mails()[0]
    assert "/email/confirm/" not in first.body and LINK_REMOVED in first.body
    assert "お申し込み時に入力した秘密の質問" in first.body  # the rest of the mail is kept
    assert in_db(lambda: EmailChangeRequest.get_by_id(1).link_mail_id) is None
    if case == "replaced":  # the new request's mail keeps its live link
        assert path.split("/")[-1] not in link_mails()[1].body
        assert "/email/confirm/" in link_mails()[1].body
    assert member_client.application.test_client().get(path).status_code == 410


def test_purge_cuts_expired_links_then_deletes_old_requests(app, client, cli):
    with time_machine.travel(FUTURE, tick=False) as clock:
        log_in(client)
        path = apply(client)
        clock.shift(timedelta(hours=23))
        assert cli("purge").exit_code == 0
        assert "/email/confirm/" in link_mails()[0].body  # not expired yet: kept
        clock.shift(timedelta(hours=1, seconds=1))
        result = cli("purge")
        assert result.exit_code == 0 and "確認URLを削除したメール 1件" in result.output
        assert "/email/confirm/" not in link_mails()[0].body
        assert LINK_REMOVED in link_mails()[0].body
        assert in_db(EmailChangeRequest.select().count) == 1  # the card still offers a resend
        clock.shift(timedelta(days=7))
        assert "期限切れの変更申込 1件" in cli("purge").output
        assert in_db(EmailChangeRequest.select().count) == 0
        page = app.test_client().get(path)  # the link's page: expired, not "never issued"
    assert page.status_code == 410 and "有効期限" in page.get_data(as_text=True)


def test_purge_deletes_expired_sessions_counters_and_spent_values(app, cli):
    """Idle 31 minutes or 25 hours old: gone; a session in use stays. The clock is moved with
    time_machine, which also moves the rate-limit windows (time.time)."""
    with time_machine.travel(FUTURE, tick=False) as clock:
        idle, busy, fresh = (app.test_client() for _ in range(3))
        for client in (idle, busy):
            log_in(client)
        in_db(lambda: spend("a d-account state"))
        for _ in range(24):
            clock.shift(timedelta(minutes=29))
            busy.get("/account")  # in use: never idle 30 minutes, but 11.6 hours old
        log_in(fresh)
        before = in_db(lambda: (LoginSession.select().count(), RateLimitCounter.select().count()))
        assert before[0] == 3 and before[1] > 0
        result = cli("purge")
        assert result.exit_code == 0, result.output
        assert "期限切れのログインセッション 1件" in result.output  # idle
        assert "dアカウントの使用済み値 1件" in result.output
        assert busy.get("/account").status_code == 200
        clock.shift(timedelta(hours=13))  # busy is now past 24 hours, fresh idle
        result = cli("purge")
        assert "期限切れのログインセッション 2件" in result.output
        assert f"回数制限の記録 {before[1]}件" in result.output  # their hour is over
        assert in_db(RateLimitCounter.select().count) == 0
        assert in_db(LoginSession.select().count) == 0
        assert in_db(DAccountUsedKey.select().count) == 0
