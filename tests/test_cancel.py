"""Webビリング一括解約: [解約する] → 解約理由 → [解約] → confirm → [解約する] → 一括解約完了, and
what it leaves behind: a cancelled membership with its reason, no sessions, a notice, no login."""

import pytest

from blueprints.cancel.forms import REASONS
from models import Cancellation, ChangeHistory, LoginSession, Member, MemberLine, OutboxMail

from .conftest import HX, TEST_DATABASE_URL, delivering, in_db, log_in, make_app, post


def member(login_id="taro0001") -> Member:
    return in_db(lambda: Member.get(Member.login_id_key == login_id))


def test_eleventh_item_and_the_line_screen_lead_to_cancellation(member_client):
    page = member_client.get("/account").get_data(as_text=True)
    card = page.split('id="cancel"')[1].split("</section>")[0]
    assert 'href="/account/cancel" hx-get="/account/cancel"' in card and ">解約</a>" in card
    lines = member_client.get("/account/lines").get_data(as_text=True)
    assert '<a class="button" href="/account/cancel">Webビリング一括解約</a>' in lines


def test_start_and_reason_steps_fragment_and_full_page(member_client):
    start = member_client.get("/account/cancel", headers=HX).get_data(as_text=True)
    assert start.lstrip().startswith("<section") and "<html" not in start
    assert 'href="/account/cancel/reason"' in start and ">解約する</a>" in start
    assert "<html" in member_client.get("/account/cancel").get_data(as_text=True)
    reason = member_client.get("/account/cancel/reason").get_data(as_text=True)
    assert '<label for="reason">解約理由</label>' in reason and ">解約</button>" in reason
    for text in REASONS:
        assert f">{text}</option>" in reason
    assert ">キャンセル</a>" in reason


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "解約理由を選択してください。"), ("気分", "解約理由を一覧から選択してください。")],
)
@pytest.mark.parametrize("url", ["/account/cancel/confirm", "/account/cancel"])
def test_a_reason_from_the_list_is_needed(member_client, reason, message, url):
    response = post(member_client, url, {"reason": reason}, HX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html
    assert member().cancelled_at is None and in_db(Cancellation.select().count) == 0


def test_confirm_shows_the_reason_and_back_keeps_it(member_client):
    confirm = post(member_client, "/account/cancel/confirm", {"reason": REASONS[1]}, HX)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and f"<dd>{REASONS[1]}</dd>" in html
    assert ">解約する</button>" in html and ">戻る</button>" in html
    assert member().cancelled_at is None  # nothing happens before the final POST
    back = post(member_client, "/account/cancel/reason", {"reason": REASONS[1]}, HX)
    assert f'<option selected value="{REASONS[1]}">' in back.get_data(as_text=True)


def test_whole_cancellation_with_htmx(app, member_client):
    elsewhere = app.test_client()  # the same member, logged in on another device
    log_in(elsewhere)
    assert in_db(LoginSession.select().count) == 2
    response = post(member_client, "/account/cancel", {"reason": REASONS[0]}, HX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/account/cancel/done"

    cancelled = member()
    assert cancelled.cancelled_at is not None
    record = in_db(lambda: Cancellation.get(Cancellation.member == cancelled.id))
    assert record.reason == REASONS[0] and record.cancelled_at == cancelled.cancelled_at
    change = in_db(lambda: ChangeHistory.get())
    assert change.kind == "Webビリング一括解約" and REASONS[0] in change.detail
    assert in_db(LoginSession.select().count) == 0  # every session ended
    assert in_db(MemberLine.select().count) == 2  # kept, with the membership, for the record

    mail = in_db(lambda: OutboxMail.get())
    assert mail.to == "taro@example.com"
    assert mail.subject == "【WebBilling】Webビリング一括解約のお知らせ"
    assert "済日利 太郎 様" in mail.body and REASONS[0] in mail.body
    assert "0800-333-0030" in mail.body

    done = member_client.get("/account/cancel/done")  # no login needed
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and "Webビリング一括解約完了" in page
    assert "済日利 太郎 様" not in page and "ログアウト" not in page
    again = member_client.get("/account/cancel/done")  # shown once, to that browser only
    assert again.status_code == 303 and again.headers["Location"] == "/login"

    for client in (member_client, elsewhere):
        assert client.get("/account").status_code == 303
    refused = log_in(app.test_client())
    assert refused.status_code == 422
    assert "解約済みのため、ログインできません" in refused.get_data(as_text=True)


def test_whole_cancellation_without_javascript(member_client):
    response = post(member_client, "/account/cancel", {"reason": REASONS[-1]})
    assert response.status_code == 303 and response.headers["Location"] == "/account/cancel/done"
    page = member_client.get("/account/cancel/done").get_data(as_text=True)
    assert "<html" in page and "Webビリングの一括解約が完了しました。" in page
    assert member().is_cancelled


def test_member_without_contact_address_gets_no_mail(client):
    log_in(client, "hanako0002")
    assert post(client, "/account/cancel", {"reason": REASONS[0]}).status_code == 303
    assert member("hanako0002").is_cancelled and not member("taro0001").is_cancelled
    assert in_db(OutboxMail.select().count) == 0


def test_the_notice_is_delivered_after_the_commit(tmp_path, smtp):
    app = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    from extensions import db
    from migrations import upgrade
    from models import MODELS

    with db.database.connection_context():
        db.database.drop_tables(MODELS, safe=True, cascade=bool(TEST_DATABASE_URL))
        upgrade(db.database)
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    client = app.test_client()
    log_in(client)
    with delivering(app):  # the delivery loop each serving process runs (mail.py)
        post(client, "/account/cancel", {"reason": REASONS[0]})
        assert smtp.received.wait(5)
    assert smtp.messages[0]["To"] == "taro@example.com"


def test_steps_need_login(client):
    for url in ("/account/cancel", "/account/cancel/reason", "/account/cancel/card"):
        assert client.get(url).status_code == 303
    assert client.get("/account/cancel/done").headers["Location"] == "/login"
