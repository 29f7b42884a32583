"""連絡先メールアドレス変更: the ⑥ card's steps (htmx and not), the mailed link, every way a
link can be dead, the 24-hour edge, simultaneous clicks, and mail through a real SMTP server."""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from blueprints.email.rules import mask_email, normalize_email
from extensions import db
from hashing import verify_secret
from models import ChangeHistory, EmailChangeRequest, Member, OutboxMail

from .conftest import (
    HX,
    delivering,
    in_db,
    log_in,
    make_app,
    post,
    send_host,
    token_in,
    wait_for,
)

BASE = "https://billing.example.jp"
NEW = {
    "new_email": "new.taro@example.net",
    "new_email_confirm": "new.taro@example.net",
    "secret_question": "好きな食べ物は？",
    "secret_answer": "ＡＢＣ",
}
# Where the clock is moved to: 1 March, 12:00 UTC, two years after today's year — always later
# than the demo data's times (made now), whatever today is.
FUTURE = datetime(datetime.now(UTC).year + 2, 3, 1, 12, 0, 0)
RIGHT = {"secret_question": "好きな食べ物は？", "secret_answer": "ＡＢＣ"}


def taro():
    return in_db(lambda: Member.get(Member.login_id_key == "taro0001"))


def requests():
    return in_db(lambda: list(EmailChangeRequest.select().order_by(EmailChangeRequest.id)))


def mails_to(address):
    return in_db(
        lambda: list(OutboxMail.select().where(OutboxMail.to == address).order_by(OutboxMail.id))
    )


def link_in(body: str) -> str:
    """The link's path, after checking the mail names our configured site."""
    url = re.search(r"https?://\S+", body)[0]
    assert url.startswith(f"{BASE}/email/confirm/")
    return url.removeprefix(BASE)


def apply(member_client, headers=None, **changes):
    """Steps 2–3 of the guide: the form, then [登録する]; returns the new link's path."""
    response = post(member_client, "/account/email", {**NEW, **changes}, headers)
    assert response.status_code in (200, 303), response.get_data(as_text=True)
    return link_in(mails_to(changes.get("new_email", NEW["new_email"]))[-1].body)


def answer(client, path, data=RIGHT, headers=None):
    """POST on the public page the way a browser there would: its own session and token."""
    page = client.get(path).get_data(as_text=True)
    token = token_in(page) if 'name="csrf_token"' in page else token_in(client.get("/login").text)
    return client.post(path, data={"csrf_token": token, **data}, headers=headers)


@pytest.fixture
def visitor(app):
    """Whoever opens the mailed link: not logged in, maybe on another device."""
    return app.test_client()


# ---- the ⑥ card, before the mail ------------------------------------------------------


def test_card_on_basic_info_and_as_fragment(member_client):
    page = member_client.get("/account").get_data(as_text=True)
    card = page.split('id="email"')[1].split("</section>")[0]
    assert "taro@example.com" in card and 'href="/account/email"' in card
    fragment = member_client.get("/account/email/card", headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith("<section") and "<html" not in fragment
    assert 'aria-labelledby="h-email"' in fragment


def test_change_offers_change_or_keep(member_client):
    fragment = member_client.get("/account/email", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment
    assert ">変更する</a>" in fragment and 'href="/account/email/edit"' in fragment
    assert ">変更しない</a>" in fragment and 'href="/account/secret"' in fragment
    assert ">キャンセル</a>" in fragment
    assert "<html" in member_client.get("/account/email").get_data(as_text=True)


def test_no_address_yet_goes_straight_to_the_form(client):
    log_in(client, "hanako0002")
    fragment = client.get("/account/email", headers=HX).get_data(as_text=True)
    assert "新しい連絡先メールアドレス（確認用）" in fragment and "変更しない" not in fragment


def test_form_fields_by_their_labels(member_client):
    form = member_client.get("/account/email/edit", headers=HX).get_data(as_text=True)
    for label in (
        "新しい連絡先メールアドレス",
        "新しい連絡先メールアドレス（確認用）",
        "秘密の質問",
        "秘密の質問の回答",
    ):
        assert f">{label}</label>" in form
    assert 'type="email"' in form and 'autocomplete="email"' in form
    assert '<option value="">質問内容を選択してください</option>' in form
    assert "※連絡先メールアドレス本登録時に使用します。" in form
    assert "※全角20文字、半角40文字まで入力可能です。" in form
    assert ">登録</button>" in form and 'action="/account/email/confirm"' in form


def test_request_with_htmx(member_client):
    confirm = post(member_client, "/account/email/confirm", NEW, HX)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "<html" not in html
    assert "new.taro@example.net" in html and "好きな食べ物は？" in html
    assert ">登録する</button>" in html and ">戻る</button>" in html
    assert requests() == [] and in_db(OutboxMail.select().count) == 0
    done = post(member_client, "/account/email", NEW, HX)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "<html" not in html
    assert "連絡先メールアドレス登録/変更受付完了" in html and "受信メールをご確認ください" in html
    [change] = requests()
    assert change.status == "pending" and change.new_email == "new.taro@example.net"
    assert change.expires_at - change.created_at == timedelta(hours=24)
    assert change.secret_answer_hash.startswith("$argon2id$")
    assert verify_secret(change.secret_answer_hash, "ＡＢＣ")
    assert taro().email == "taro@example.com"  # the old address stays until the link is used
    [mail] = mails_to("new.taro@example.net")
    assert mail.subject == "【WebBilling】お申し込みURLのご連絡"
    for text in (
        "まだ手続きは完了していません",
        "有効期限は24時間",
        "お心当たりのない方",
        "0800-333-0030",
    ):
        assert text in mail.body
    link_in(mail.body)
    assert "ＡＢＣ" not in mail.body
    history = in_db(lambda: ChangeHistory.get())
    assert "n***@example.net" in history.detail and "new.taro" not in history.detail


def test_request_without_javascript(member_client):
    assert "<html" in post(member_client, "/account/email/confirm", NEW).get_data(as_text=True)
    done = post(member_client, "/account/email", NEW)
    assert done.status_code == 303 and done.headers["Location"] == "/account/email/sent"
    page = member_client.get("/account/email/sent").get_data(as_text=True)
    assert "<html" in page and "連絡先メールアドレス登録/変更受付完了" in page
    assert "new.taro@example.net" in page and len(requests()) == 1
    post(member_client, "/account/email/cancel")
    later = member_client.get("/account/email/sent").get_data(as_text=True)
    assert "受付完了" not in later and "taro@example.com" in later


def test_registering_a_first_address(client):
    log_in(client, "hanako0002")
    path = apply(client, new_email="hanako@example.org", new_email_confirm="hanako@example.org")
    assert client.get("/account/email/sent").status_code == 200
    assert answer(client.application.test_client(), path).status_code == 303
    member = in_db(lambda: Member.get(Member.login_id_key == "hanako0002"))
    assert member.email == "hanako@example.org"
    assert in_db(OutboxMail.select().count) == 1  # no old address to notify


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"new_email": "", "new_email_confirm": ""},
            "新しい連絡先メールアドレスを入力してください。",
        ),
        (
            {"new_email": "taro@", "new_email_confirm": "taro@"},
            "メールアドレスの形式が正しくありません",
        ),
        (
            {"new_email": "ｔａｒｏ＠example.com", "new_email_confirm": "ｔａｒｏ＠example.com"},
            "半角英数字と記号で入力してください",
        ),
        (
            {"new_email": "たろう@example.com", "new_email_confirm": "たろう@example.com"},
            "メールアドレスの形式が正しくありません",
        ),
        (
            {"new_email_confirm": "new.taro@example.com"},
            "新しい連絡先メールアドレスと一致しません。",
        ),
        (
            {"new_email_confirm": ""},
            "確認のため、新しい連絡先メールアドレスをもう一度入力してください。",
        ),
        (
            {"new_email": "Taro@Example.com", "new_email_confirm": "Taro@Example.com"},
            "現在の連絡先メールアドレスと同じです。",
        ),
        ({"secret_question": ""}, "秘密の質問を選択してください。"),
        ({"secret_question": "<b>好きな色は？</b>"}, "秘密の質問を選択してください。"),
        ({"secret_answer": ""}, "秘密の質問の回答を入力してください。"),
        ({"secret_answer": "あ" * 21}, "全角20文字、半角40文字まで"),
        ({"secret_answer": "a" * 41}, "全角20文字、半角40文字まで"),
    ],
)
@pytest.mark.parametrize("headers", [HX, None])
def test_bad_input_is_explained_next_to_the_field(member_client, changes, message, headers):
    for url in ("/account/email/confirm", "/account/email"):
        response = post(member_client, url, {**NEW, **changes}, headers)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html and 'aria-invalid="true"' in html
        assert "<b>好きな色" not in html
    assert requests() == [] and in_db(OutboxMail.select().count) == 0


def test_answer_of_twenty_full_width_characters_is_accepted(member_client):
    path = apply(member_client, secret_answer="あ" * 20)
    assert requests()[0].status == "pending" and path


def test_back_keeps_the_input(member_client):
    back = post(member_client, "/account/email/edit", NEW, HX).get_data(as_text=True)
    assert 'value="new.taro@example.net"' in back and 'value="ＡＢＣ"' in back
    assert '<option selected value="好きな食べ物は？">' in back


def test_link_uses_the_configured_base_url_never_the_host_header(app):
    client = app.test_client()
    send_host(client, "evil.example")  # every request, login included
    log_in(client)
    assert post(client, "/account/email", NEW).status_code == 303
    body = mails_to("new.taro@example.net")[0].body
    assert "evil.example" not in body and f"{BASE}/email/confirm/" in body


def test_address_rules():
    assert normalize_email(" taro@ＥＸＡＭＰＬＥ.com".strip()) == "taro@example.com"
    assert normalize_email("taro@例え.jp") == "taro@xn--r8jz45g.jp"
    assert normalize_email("a..b@example.com") is None
    assert mask_email("taro@example.com") == "t***@example.com"


# ---- the pending change on the card: resend and cancel ---------------------------------


def test_card_shows_the_pending_change_with_its_expiry_in_japan_time(client):
    # Frozen in the future, logged in there: the signed session cookie must not look older.
    with time_machine.travel(FUTURE.replace(hour=1, minute=30), tick=False):
        log_in(client)
        apply(client)
        page = client.get("/account").get_data(as_text=True)
    card = page.split('id="email"')[1].split("</section>")[0]
    assert "taro@example.com" in card  # still the address in force
    assert "変更手続き中" in card and "new.taro@example.net" in card
    assert f"{FUTURE.year}年03月02日 10時30分" in card  # 01:30 UTC + 24 h, in JST
    assert ">確認メールを再送する</button>" in card and ">変更を取り消す</button>" in card
    assert "登録済" in page.split('id="h-has-email"')[1].split("</section>")[0]


@pytest.mark.parametrize("headers", [HX, None])
def test_resend_sends_a_new_link_and_kills_the_old(member_client, visitor, headers):
    old = apply(member_client)
    response = post(member_client, "/account/email/resend", headers=headers)
    if headers:
        assert "受信メールをご確認ください" in response.get_data(as_text=True)
    else:
        assert response.status_code == 303
        assert response.headers["Location"] == "/account/email/sent"
    first, second = requests()
    assert (first.status, second.status) == ("replaced", "pending")
    assert second.secret_answer_hash == first.secret_answer_hash
    new = link_in(mails_to("new.taro@example.net")[-1].body)
    assert new != old
    assert visitor.get(old).status_code == 410
    assert answer(visitor, new).status_code == 303


@pytest.mark.parametrize("headers", [HX, None])
def test_cancel_keeps_the_address_and_kills_the_link(member_client, visitor, headers):
    path = apply(member_client)
    response = post(member_client, "/account/email/cancel", headers=headers)
    if headers:
        html = response.get_data(as_text=True)
        assert "お手続きを取り消しました" in html and "変更手続き中" not in html
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/account#email"
        assert "お手続きを取り消しました" in member_client.get("/account").get_data(as_text=True)
    assert requests()[0].status == "cancelled" and taro().email == "taro@example.com"
    page = visitor.get(path)
    assert page.status_code == 410 and "取り消されたため" in page.get_data(as_text=True)


def test_resend_and_cancel_with_nothing_pending(member_client):
    assert "お手続き中の変更はありません" in post(
        member_client, "/account/email/resend", headers=HX
    ).get_data(as_text=True)
    assert "お手続き中の変更はありません" in post(
        member_client, "/account/email/cancel", headers=HX
    ).get_data(as_text=True)
    assert in_db(OutboxMail.select().count) == 0


def test_a_newer_request_replaces_the_older(member_client, visitor):
    old = apply(member_client)
    new = apply(member_client, new_email="other@example.net", new_email_confirm="other@example.net")
    page = visitor.get(old)
    assert page.status_code == 410 and "このURLより後に" in page.get_data(as_text=True)
    assert answer(visitor, old).status_code == 410
    assert answer(visitor, new).status_code == 303
    assert taro().email == "other@example.net"


# ---- the public page the link opens ---------------------------------------------------


def test_link_page_needs_no_login_and_follows_the_guide(member_client, visitor):
    path = apply(member_client)
    page = visitor.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert "連絡先メールアドレス登録/変更 確定" in html
    for step in ("① 入力", "② 秘密の質問を選択", "③ 秘密の質問の回答を入力", "④ 完了"):
        assert f">{step}</li>" in html
    assert ">秘密の質問</label>" in html and ">秘密の質問の回答</label>" in html
    assert ">登録</button>" in html and 'name="csrf_token"' in html
    assert "new.taro@example.net" not in html  # the link alone tells nobody the address


@pytest.mark.parametrize("headers", [HX, None])
def test_right_answer_completes_the_change(member_client, visitor, headers):
    path = apply(member_client)
    response = answer(visitor, path, headers=headers)
    if headers:
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "<html" not in html
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/email/done"
        html = visitor.get("/email/done").get_data(as_text=True)
    assert "連絡先メールアドレス登録/変更のお手続きが完了しました。" in html
    assert ">ログインページへ戻る</a>" in html and 'href="/login"' in html
    member = taro()
    assert member.email == "new.taro@example.net"
    assert member.secret_question == "好きな食べ物は？"
    assert verify_secret(member.secret_answer_hash, "ＡＢＣ")
    assert requests()[0].status == "used"
    [notice] = mails_to("taro@example.com")
    assert "連絡先メールアドレスが変更されました" in notice.body and "0800-333-0030" in notice.body
    assert "n***@example.net" in notice.body
    assert "/email/confirm/" not in notice.body and "http" not in notice.body
    kinds = [c.kind for c in in_db(lambda: list(ChangeHistory.select()))]
    assert kinds == ["連絡先メールアドレス変更受付", "連絡先メールアドレス"]
    # The card now shows the new address and nothing pending.
    card = member_client.get("/account/email/card", headers=HX).get_data(as_text=True)
    assert "new.taro@example.net" in card and "変更手続き中" not in card


@pytest.mark.parametrize(
    "data",
    [
        {"secret_question": "好きな食べ物は？", "secret_answer": "ABC"},  # half-width ≠ full-width
        {"secret_question": "好きな食べ物は？", "secret_answer": "ＡＢＣ "},
        {
            "secret_question": "母親の旧姓は？",
            "secret_answer": "ＡＢＣ",
        },  # right answer, wrong question
    ],
)
def test_only_the_same_question_and_answer_as_typed_pass(member_client, visitor, data):
    path = apply(member_client)
    response = answer(visitor, path, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "秘密の質問または秘密の質問の回答が正しくありません。" in html
    assert "あと4回誤ると" in html and 'value="ＡＢＣ' not in html
    assert taro().email == "taro@example.com" and requests()[0].failed_attempts == 1


def test_an_empty_answer_is_not_a_try(member_client, visitor):
    path = apply(member_client)
    response = answer(visitor, path, {"secret_question": "", "secret_answer": ""})
    assert response.status_code == 422
    assert "秘密の質問を選択してください。" in response.get_data(as_text=True)
    assert requests()[0].failed_attempts == 0


def test_five_wrong_answers_kill_the_link(member_client, visitor):
    path = apply(member_client)
    wrong = {**RIGHT, "secret_answer": "abc"}
    for tries_left in (4, 3, 2, 1):
        response = answer(visitor, path, wrong, HX)
        assert response.status_code == 422
        assert f"あと{tries_left}回誤ると" in response.get_data(as_text=True)
    assert "あと1回誤ると" in visitor.get(path).get_data(as_text=True)  # also when reopened
    fifth = answer(visitor, path, wrong, HX)
    assert fifth.status_code == 410 and "5回誤ったため" in fifth.get_data(as_text=True)
    assert requests()[0].status == "killed"
    assert answer(visitor, path).status_code == 410  # even the right answer, now
    assert taro().email == "taro@example.com"


def test_opening_the_link_changes_nothing(member_client, visitor):
    path = apply(member_client)
    before = requests()[0].__data__
    for _ in range(3):
        visitor.get(path)
    assert requests()[0].__data__ == before


def tampered(path: str) -> str:
    """The same link naming another request (payload "2" instead of "1")."""
    payload, timestamp, signature = path.removeprefix("/email/confirm/").split(".")
    assert payload == "MQ"  # base64 of "1"
    return f"/email/confirm/Mg.{timestamp}.{signature}"


@pytest.mark.parametrize(
    ("case", "status", "text"),
    [
        ("forged", 404, "このURLは正しくありません"),
        ("garbage", 404, "このURLは正しくありません"),
        ("other-salt", 404, "このURLは正しくありません"),
        ("deleted", 404, "このURLは正しくありません"),
        ("used", 410, "すでに完了しています"),
        ("replaced", 410, "このURLより後に"),
        ("killed", 410, "5回誤ったため"),
        ("cancelled", 410, "取り消されたため"),
        ("expired", 410, "有効期限（24時間）が切れています"),
        ("closed", 410, "解約済み"),
    ],
)
@pytest.mark.parametrize("headers", [HX, None])
def test_each_dead_link_has_its_own_page(app, member_client, visitor, case, status, text, headers):
    path = apply(member_client)
    if case == "forged":
        path = tampered(path)
    elif case == "garbage":
        path = "/email/confirm/not-a-token"
    elif case == "other-salt":
        from itsdangerous import URLSafeTimedSerializer

        path = "/email/confirm/" + URLSafeTimedSerializer("test-secret", salt="x").dumps(1)
    elif case == "deleted":
        in_db(lambda: EmailChangeRequest.delete().execute())
    elif case == "used":
        assert answer(app.test_client(), path).status_code == 303
    elif case == "replaced":
        apply(member_client, new_email="b@example.net", new_email_confirm="b@example.net")
    elif case == "killed":
        in_db(lambda: EmailChangeRequest.update(status="killed").execute())
    elif case == "cancelled":
        post(member_client, "/account/email/cancel")
    elif case == "expired":
        in_db(lambda: EmailChangeRequest.update(expires_at=datetime(2000, 1, 1)).execute())
    elif case == "closed":
        in_db(lambda: Member.update(cancelled_at=datetime(2026, 1, 1)).execute())
    before = taro().email
    for response in (visitor.get(path, headers=headers), answer(visitor, path, headers=headers)):
        html = response.get_data(as_text=True)
        assert response.status_code == status
        assert text in html and "0800-333-0030" in html
        assert ("<html" in html) is (headers is None)
    assert taro().email == before


@pytest.mark.parametrize("token", ["あ", "a.b.c", "MQ..", "MQ.%FF%FE.abc", "x" * 5000])
def test_malformed_links_are_not_found_never_an_error(visitor, token):
    response = visitor.get(f"/email/confirm/{token}")
    assert response.status_code == 404
    assert "このURLは正しくありません" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("after", "works"),
    [(timedelta(hours=24, seconds=-1), True), (timedelta(hours=24, seconds=1), False)],
)
def test_the_link_lasts_exactly_24_hours(client, visitor, after, works):
    with time_machine.travel(FUTURE, tick=False) as clock:
        log_in(client)
        path = apply(client)
        clock.shift(after)
        page = visitor.get(path)
        response = answer(visitor, path)
    if works:
        assert page.status_code == 200 and response.status_code == 303
        assert taro().email == "new.taro@example.net"
    else:
        assert page.status_code == 410 and response.status_code == 410
        assert "有効期限" in response.get_data(as_text=True)
        assert taro().email == "taro@example.com"


def test_validity_hours_come_from_configuration(tmp_path, app):
    short = make_app(tmp_path, EMAIL_CONFIRM_HOURS=2)
    client, visitor = short.test_client(), short.test_client()
    with time_machine.travel(FUTURE, tick=False) as clock:
        log_in(client)
        path = apply(client)
        assert "有効期限は2時間" in mails_to(NEW["new_email"])[0].body
        clock.shift(timedelta(hours=2, seconds=1))
        assert visitor.get(path).status_code == 410


def test_public_page_needs_its_csrf_token(member_client, visitor):
    path = apply(member_client)
    visitor.get(path)
    assert visitor.post(path, data=RIGHT).status_code == 400
    assert taro().email == "taro@example.com"


def test_simultaneous_clicks_succeed_exactly_once(app, member_client):
    """Several browsers submit the right answer on one link at the same moment."""
    path = apply(member_client)
    clients = [app.test_client() for _ in range(6)]
    tokens = [token_in(c.get(path).get_data(as_text=True)) for c in clients]
    start = threading.Barrier(len(clients))
    statuses = []

    def confirm(client, token):
        start.wait()
        response = client.post(path, data={"csrf_token": token, **RIGHT})
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=confirm, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303] + [410] * (len(clients) - 1)
    assert taro().email == "new.taro@example.net"
    assert len(mails_to("taro@example.com")) == 1
    assert (
        in_db(ChangeHistory.select().where(ChangeHistory.kind == "連絡先メールアドレス").count) == 1
    )


def test_simultaneous_requests_leave_one_pending(app):
    """[登録する] sent twice at once (two tabs): one request stays pending, one is replaced."""
    clients = [app.test_client() for _ in range(4)]
    tokens = []
    for client in clients:
        log_in(client)
        tokens.append(token_in(client.get("/account").get_data(as_text=True)))
    start = threading.Barrier(len(clients))
    statuses = []

    def request(client, token):
        start.wait()
        response = client.post("/account/email", data={"csrf_token": token, **NEW})
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=request, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [303] * len(clients)
    assert sorted(r.status for r in requests()) == ["pending"] + ["replaced"] * (len(clients) - 1)


def test_the_answer_is_never_logged_or_kept(member_client, visitor, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "ひみつのこたえ"
    path = apply(member_client, secret_answer=secret)
    answer(visitor, path, {**RIGHT, "secret_answer": "ちがう"})
    answer(visitor, path, {**RIGHT, "secret_answer": secret})
    assert secret not in caplog.text
    assert secret not in path
    stored = in_db(
        lambda: [
            *(m.body for m in OutboxMail.select()),
            *(c.detail for c in ChangeHistory.select()),
            *(str(r.__data__) for r in EmailChangeRequest.select()),
            str(Member.get(Member.login_id_key == "taro0001").__data__),
        ]
    )
    assert not any(secret in text for text in stored)


def test_member_steps_need_login(client):
    for url in (
        "/account/email",
        "/account/email/edit",
        "/account/email/card",
        "/account/email/sent",
    ):
        assert client.get(url).status_code == 303


# ---- real mail, through a real SMTP server --------------------------------------------


def test_mail_arrives_through_smtp_and_its_link_works(app, tmp_path, smtp):
    mailing = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    member, visitor = mailing.test_client(), mailing.test_client()
    log_in(member)
    token = token_in(member.get("/account").get_data(as_text=True))
    with delivering(mailing):  # the loop each serving process runs (mail.py)
        assert member.post("/account/email", data={"csrf_token": token, **NEW}).status_code == 303
        assert smtp.received.wait(5)
        [message] = smtp.messages
        assert message["To"] == "new.taro@example.net"
        assert message["Subject"] == "【WebBilling】お申し込みURLのご連絡"
        assert message["From"] == "webbilling_info@example.jp"
        path = link_in(message.get_content())
        wait_for(lambda: in_db(lambda: OutboxMail.get().sent_at), 5)

        smtp.received.clear()
        page_token = token_in(visitor.get(path).get_data(as_text=True))
        assert visitor.post(path, data={"csrf_token": page_token, **RIGHT}).status_code == 303
        assert smtp.received.wait(5)
    notice = smtp.messages[-1]
    assert notice["To"] == "taro@example.com"
    assert notice["Subject"] == "【WebBilling】連絡先メールアドレス変更のお知らせ"
    assert "/email/confirm/" not in notice.get_content()
    with db.database.connection_context():
        assert Member.get(Member.login_id_key == "taro0001").email == "new.taro@example.net"


def test_email_change_requests_are_rate_limited_per_client(app, member_client):
    app.config["EMAIL_CHANGE_RATE_LIMIT"] = "2 per hour"
    data = {
        "new_email": "new@example.net",
        "new_email_confirm": "new@example.net",
        "secret_question": "母親の旧姓は？",
        "secret_answer": "やまだ",
    }
    statuses = [post(member_client, "/account/email", data).status_code for _ in range(3)]
    assert statuses == [303, 303, 429]
    refused = post(member_client, "/account/email/resend", headers=HX)
    assert refused.status_code == 429
    assert "短時間に操作が繰り返されたため" in refused.get_data(as_text=True)
    assert in_db(OutboxMail.select().count) == 2


def test_the_confirmation_page_is_rate_limited_per_client(app, client):
    app.config["EMAIL_LINK_RATE_LIMIT"] = "3 per minute"
    statuses = [client.get("/email/confirm/not-a-token").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
