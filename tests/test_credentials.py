"""ログインID／ログインパスワード変更: the three variants with htmx (fragments) and without (full
pages, 303), every rule at submit, the live checklist, sessions, mail, and the unique ID race."""

import re
import threading

import pytest

import hashing
from blueprints.credentials import changes, rules
from hashing import verify_secret
from models import ChangeHistory, LoginSession, Member, OutboxMail

from .conftest import HX, PASSWORD, in_db, log_in, post, token_in
from .test_email import answer, apply, mails_to

NEW_ID = "Jiro2025x"
NEW_PASSWORD = "Shin-pass42"
VARIANTS = {
    "login_id": {
        "current_login_id": "taro0001",
        "new_login_id": NEW_ID,
        "new_login_id_confirm": NEW_ID,
        "current_password": PASSWORD,
    },
    "password": {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    },
    "both": {
        "current_login_id": "taro0001",
        "new_login_id": NEW_ID,
        "new_login_id_confirm": NEW_ID,
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    },
}
DONE = {
    "login_id": "ログインID変更完了",
    "password": "ログインパスワード変更完了",
    "both": "ログインID/パスワード変更完了",
}
LABELS = {
    "current_login_id": ("現在のログインID", "username"),
    "new_login_id": ("新しいログインID", "username"),
    "new_login_id_confirm": ("新しいログインID（確認用）", "off"),
    "current_password": ("現在のログインパスワード", "current-password"),
    "new_password": ("新しいログインパスワード", "new-password"),
    "new_password_confirm": ("新しいログインパスワード（確認用）", "new-password"),
}


def taro() -> Member:
    return in_db(lambda: Member.get(Member.customer_name == "済日利 太郎"))


def change(client, target, headers=None, **fields):
    data = {"target": target, **VARIANTS[target], **fields}
    return post(client, "/account/credentials", data, headers)


def test_choose_step_fragment_and_full_page(member_client):
    fragment = member_client.get("/account/credentials", headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith("<section") and "<html" not in fragment
    assert 'id="credentials"' in fragment and "<legend" in fragment
    for label in ("ログインID", "ログインパスワード", "ログインID/パスワード"):
        assert f">{label}</label>" in fragment
    assert fragment.count('type="radio"') == 3 and ">次へ</button>" in fragment
    assert ">キャンセル</a>" in fragment
    page = member_client.get("/account/credentials").get_data(as_text=True)
    assert "<html" in page and 'action="/account/credentials/edit"' in page


@pytest.mark.parametrize("headers", [HX, None])
def test_next_needs_a_choice(member_client, headers):
    for target in ("", "everything"):
        response = post(member_client, "/account/credentials/edit", {"target": target}, headers)
        assert response.status_code == 422
        assert "変更する項目を選択してください。" in response.get_data(as_text=True)


@pytest.mark.parametrize("target", VARIANTS)
@pytest.mark.parametrize("headers", [HX, None])
def test_fields_of_each_variant_with_the_guide_labels(member_client, target, headers):
    response = post(member_client, "/account/credentials/edit", {"target": target}, headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in html) is (headers is None)
    for name, (label, autocomplete) in LABELS.items():
        shown = f'<label for="{name}">{label}</label>' in html
        assert shown is (name in VARIANTS[target]), name
        if shown:
            assert re.search(f'<input [^>]*autocomplete="{autocomplete}"[^>]*id="{name}"', html)
    assert ">更新</button>" in html and ">戻る</a>" in html and ">キャンセル</a>" in html
    assert f'href="/account/credentials?target={target}"' in html  # 戻る keeps the choice


@pytest.mark.parametrize("target", VARIANTS)
def test_each_variant_with_htmx(member_client, target):
    response = change(member_client, target, HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert DONE[target] in html and 'id="credentials"' in html
    assert_changed(target)


@pytest.mark.parametrize("target", VARIANTS)
def test_each_variant_without_javascript(app, member_client, target):
    response = change(member_client, target)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/account/credentials/done/{target}"
    page = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in page and DONE[target] in page
    assert_changed(target)
    # The member logs in with what is now in force, and not with what was.
    login_id = NEW_ID if target != "password" else "taro0001"
    password = NEW_PASSWORD if target != "login_id" else PASSWORD
    assert log_in(app.test_client(), login_id, password).status_code == 303
    if target != "login_id":
        assert log_in(app.test_client(), login_id, PASSWORD).status_code == 422


def assert_changed(target):
    member = taro()
    changes_id, changes_password = target != "password", target != "login_id"
    assert member.login_id == (NEW_ID if changes_id else "taro0001")
    assert member.login_id_key == member.login_id.lower()
    assert verify_secret(member.password_hash, NEW_PASSWORD if changes_password else PASSWORD)
    history = in_db(lambda: list(member.credential_history))
    assert sum(h.kind == "login_id" for h in history) == (2 if changes_id else 1)
    assert sum(h.kind == "password" for h in history) == (2 if changes_password else 1)
    assert all(NEW_PASSWORD not in h.value for h in history)  # hashes only
    change_row = in_db(lambda: ChangeHistory.get(ChangeHistory.member == member.id))
    assert change_row.detail == f"{DONE[target].removesuffix('変更完了')}を変更"
    assert NEW_ID not in change_row.detail and NEW_PASSWORD not in change_row.detail
    mail = in_db(lambda: OutboxMail.get())
    assert mail.to == "taro@example.com" and "変更のお知らせ" in mail.subject
    assert "済日利 太郎 様" in mail.body and "0800-333-0030" in mail.body
    for secret in (NEW_ID, NEW_PASSWORD, PASSWORD, "taro0001"):
        assert secret not in mail.body and secret not in mail.subject


def test_no_mail_without_a_contact_address(app):
    client = app.test_client()
    log_in(client, "hanako0002")
    response = change(client, "password", HX)
    assert response.status_code == 200
    assert in_db(OutboxMail.select().count) == 0


@pytest.mark.parametrize(
    ("target", "fields", "field", "message"),
    [
        ("login_id", {"current_login_id": "taro0002"}, "current_login_id", changes.WRONG_LOGIN_ID),
        (
            "password",
            {"current_password": "Wrong#pass1"},
            "current_password",
            changes.WRONG_PASSWORD,
        ),
        (
            "both",
            {"current_password": ""},
            "current_password",
            "現在のログインパスワードを入力してください。",
        ),
        (
            "login_id",
            {"new_login_id_confirm": "Jiro2025y"},
            "new_login_id_confirm",
            "新しいログインID（確認用）が新しいログインIDと一致しません。",
        ),
        (
            "password",
            {"new_password_confirm": "Shin-pass43"},
            "new_password_confirm",
            "新しいログインパスワード（確認用）が新しいログインパスワードと一致しません。",
        ),
        (
            "login_id",
            {"new_login_id": "TARO0001", "new_login_id_confirm": "TARO0001"},
            "new_login_id",
            rules.LOGIN_ID_REUSED,
        ),
        (
            "password",
            {"new_password": PASSWORD, "new_password_confirm": PASSWORD},
            "new_password",
            rules.PASSWORD_REUSED,
        ),
        (
            "login_id",
            {"new_login_id": "Hanako0002", "new_login_id_confirm": "Hanako0002"},
            "new_login_id",
            rules.LOGIN_ID_TAKEN,
        ),
        (
            "login_id",
            {"new_login_id": "xWebbill#2024", "new_login_id_confirm": "xWebbill#2024"},
            "new_login_id",
            rules.OVERLAP_MESSAGE,
        ),  # against the current password
        (
            "password",
            {"new_password": "TARO0001#x", "new_password_confirm": "TARO0001#x"},
            "new_password",
            rules.OVERLAP_MESSAGE,
        ),  # against the current ID
        (
            "both",
            {"new_password": "Jiro2025x#", "new_password_confirm": "Jiro2025x#"},
            "new_password",
            rules.OVERLAP_MESSAGE,
        ),  # against the new ID
        (
            "both",
            {"new_login_id": "ｊｉｒｏ２０２５", "new_login_id_confirm": "ｊｉｒｏ２０２５"},
            "new_login_id",
            "半角英数字と記号",
        ),
    ],
)
@pytest.mark.parametrize("headers", [HX, None])
def test_each_problem_is_shown_next_to_its_field(
    member_client, target, fields, field, message, headers
):
    response = change(member_client, target, headers, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = html.split(f'id="{field}-error">', 1)[1].split("</ul>", 1)[0]
    assert message in errors
    assert re.search(f'<input [^>]*aria-invalid="true"[^>]*id="{field}"', html)
    assert taro().login_id == "taro0001" and verify_secret(taro().password_hash, PASSWORD)
    assert in_db(ChangeHistory.select().count) == 0 and in_db(OutboxMail.select().count) == 0


def test_every_failing_rule_is_reported_at_once(member_client):
    response = change(
        member_client,
        "both",
        HX,
        new_login_id="ｔａｒｏ",
        new_login_id_confirm="x",
        new_password="taro",
        new_password_confirm="y",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    expected = rules.login_id_problems("ｔａｒｏ", "taro") + rules.password_problems(
        "taro", "ｔａｒｏ"
    )
    for message in expected:
        assert message in html
    assert html.count("一致しません。") == 2


def test_a_tampered_choice_goes_back_to_step_1(member_client):
    response = post(
        member_client, "/account/credentials", {"target": "all", **VARIANTS["both"]}, HX
    )
    assert response.status_code == 422
    assert "変更する項目を選択してください。" in response.get_data(as_text=True)
    assert taro().login_id == "taro0001" and verify_secret(taro().password_hash, PASSWORD)


def test_a_wrong_current_password_counts_toward_the_lock(member_client):
    change(member_client, "password", HX, current_password="Wrong#pass1")
    assert taro().failed_logins == 1
    assert taro().locked_until is None


@pytest.mark.parametrize("headers", [HX, None])
def test_locking_the_account_ends_the_session(app, member_client, headers):
    app.config["LOGIN_MAX_FAILURES"] = 2
    assert change(member_client, "password", headers, current_password="Wrong#1").status_code == 422
    response = change(member_client, "password", headers, current_password="Wrong#2")
    if headers:
        assert response.headers["HX-Redirect"] == "/login"
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "ログアウトしました" in member_client.get("/login").get_data(as_text=True)
    assert taro().locked_until is not None
    assert member_client.get("/account").status_code == 303  # logged out
    assert verify_secret(taro().password_hash, PASSWORD)


def test_history_and_uniqueness_wait_for_the_right_current_password(member_client):
    """Someone holding only the session learns nothing about old passwords or others' IDs."""
    response = change(
        member_client,
        "both",
        HX,
        current_password="Wrong#pass1",
        new_login_id="Hanako0002",
        new_login_id_confirm="Hanako0002",
        new_password=PASSWORD,
        new_password_confirm=PASSWORD,
    )
    html = response.get_data(as_text=True)
    assert changes.WRONG_PASSWORD in html
    assert rules.LOGIN_ID_TAKEN not in html and rules.PASSWORD_REUSED not in html


def test_the_4th_oldest_password_and_id_may_be_used_again(member_client):
    passwords = [PASSWORD, "Second#22", "Third#333", "Fourth#44"]
    for old, new in zip(passwords, passwords[1:], strict=False):
        response = change(
            member_client,
            "password",
            HX,
            current_password=old,
            new_password=new,
            new_password_confirm=new,
        )
        assert response.status_code == 200
    for reused in passwords[1:]:
        response = change(
            member_client,
            "password",
            HX,
            current_password="Fourth#44",
            new_password=reused,
            new_password_confirm=reused,
        )
        assert rules.PASSWORD_REUSED in response.get_data(as_text=True)
    response = change(
        member_client,
        "password",
        HX,
        current_password="Fourth#44",
        new_password=PASSWORD,
        new_password_confirm=PASSWORD,
    )
    assert response.status_code == 200
    ids = ["taro0001", "Second22", "Third333", "Fourth44"]
    for old, new in zip(ids, ids[1:], strict=False):
        response = change(
            member_client,
            "login_id",
            HX,
            current_login_id=old,
            new_login_id=new,
            new_login_id_confirm=new,
        )
        assert response.status_code == 200
    response = change(
        member_client,
        "login_id",
        HX,
        current_login_id="fourth44",
        new_login_id="SECOND22",
        new_login_id_confirm="SECOND22",
    )
    assert rules.LOGIN_ID_REUSED in response.get_data(as_text=True)
    response = change(
        member_client,
        "login_id",
        HX,
        current_login_id="fourth44",
        new_login_id="TARO0001",
        new_login_id_confirm="TARO0001",
    )
    assert response.status_code == 200 and taro().login_id == "TARO0001"
    # Only what the rule needs is kept: 3 values of each kind.
    member = taro()
    kinds = in_db(lambda: [h.kind for h in member.credential_history])
    assert kinds.count("password") == 3 and kinds.count("login_id") == 3


class CountingHasher:
    def __init__(self, hasher):
        self.hasher, self.calls = hasher, 0

    def hash(self, secret):
        self.calls += 1
        return self.hasher.hash(secret)

    def verify(self, secret_hash, secret):
        self.calls += 1
        return self.hasher.verify(secret_hash, secret)


def test_a_password_change_hashes_at_most_4_times(member_client, monkeypatch):
    # Two earlier changes, so the history holds three passwords.
    for old, new in ((PASSWORD, "Second#22"), ("Second#22", "Third#333")):
        change(
            member_client,
            "password",
            HX,
            current_password=old,
            new_password=new,
            new_password_confirm=new,
        )
    counter = CountingHasher(hashing.hasher)
    monkeypatch.setattr(hashing, "hasher", counter)
    response = change(
        member_client, "both", HX, current_login_id="taro0001", current_password="Third#333"
    )
    assert response.status_code == 200
    assert counter.calls == 4


def test_other_sessions_are_logged_out_and_this_one_stays(app, member_client):
    other = app.test_client()
    log_in(other)
    assert other.get("/account").status_code == 200
    hanako = app.test_client()
    log_in(hanako, "hanako0002")
    assert change(member_client, "password", HX).status_code == 200
    assert other.get("/account").status_code == 303  # sent to the login page
    assert member_client.get("/account").status_code == 200
    assert hanako.get("/account").status_code == 200  # other members are untouched
    assert in_db(LoginSession.select().where(LoginSession.member == taro().id).count) == 1


def checklist(client, what, **fields):
    response = post(client, f"/account/credentials/check/{what}", {"target": "both", **fields}, HX)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_checklist_marks_each_rule_while_typing(member_client):
    html = checklist(member_client, "password", new_login_id="jiro2025", new_password="jiro2025#")
    assert html.lstrip().startswith('<ul class="rules">') and "<html" not in html
    assert '<li class="met"><span aria-hidden="true">✓ </span>8～32文字' in html
    assert '<li class="unmet"><span aria-hidden="true">✗ </span>ログインIDを含まず、' in html
    assert "過去3回以内に使用していない（［更新］時に確認します）" in html
    empty = checklist(member_client, "login_id")
    assert 'class="met"' not in empty and 'class="unmet"' not in empty


def test_checklist_never_tells_whose_an_id_is(member_client):
    taken = checklist(member_client, "login_id", new_login_id="hanako0002", new_password="x")
    free = checklist(member_client, "login_id", new_login_id="hanako0003", new_password="x")
    assert taken == free
    assert "他のお客様に使用されていない（［更新］時に確認します）" in taken


def test_the_fields_ask_for_the_checklist_while_typing(member_client):
    response = post(member_client, "/account/credentials/edit", {"target": "login_id"}, HX)
    html = response.get_data(as_text=True)
    assert 'hx-post="/account/credentials/check/login_id"' in html
    trigger = "input changed delay:400ms, input changed delay:400ms from:#current_password"
    assert f'hx-trigger="{trigger}"' in html
    assert 'hx-target="#new_login_id-more"' in html and 'hx-sync="replace"' in html
    assert 'aria-describedby="new_login_id-more"' in html


def test_cancel_returns_the_view_card(member_client):
    view = member_client.get("/account/credentials/card", headers=HX).get_data(as_text=True)
    assert 'id="credentials"' in view and ">変更</a>" in view


def test_steps_need_login(client):
    assert client.get("/account/credentials").status_code == 303
    response = client.get("/account/credentials", headers=HX)
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_two_members_claiming_one_id_at_the_same_moment(app, monkeypatch):
    """Both pass the friendly check before either writes: the unique index decides, and the
    loser gets the same clear message, never a 500."""
    clients = {}
    for login_id in ("taro0001", "hanako0002"):
        clients[login_id] = client = app.test_client()
        log_in(client, login_id)
    tokens = {k: token_in(c.get("/account").get_data(as_text=True)) for k, c in clients.items()}
    barrier = threading.Barrier(2, timeout=30)
    real_check = changes.login_id_taken

    def racing_check(login_id, member):
        taken = real_check(login_id, member)
        barrier.wait()  # both have looked; now both write
        return taken

    monkeypatch.setattr(changes, "login_id_taken", racing_check)
    responses = {}

    def claim(login_id):
        data = {
            "csrf_token": tokens[login_id],
            "target": "login_id",
            "current_login_id": login_id,
            "new_login_id": "Same2026id",
            "new_login_id_confirm": "Same2026id",
            "current_password": PASSWORD,
        }
        responses[login_id] = clients[login_id].post("/account/credentials", data=data, headers=HX)

    threads = [threading.Thread(target=claim, args=(login_id,)) for login_id in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in responses.values())
    assert statuses == [200, 422]
    loser = next(r for r in responses.values() if r.status_code == 422)
    assert rules.LOGIN_ID_TAKEN in loser.get_data(as_text=True)
    owners = in_db(lambda: Member.select().where(Member.login_id_key == "same2026id").count())
    assert owners == 1
    assert in_db(ChangeHistory.select().count) == 1


# What a credential change ends (issue 25): everything a session before it started.


@pytest.mark.parametrize("target", ["password", "login_id"])
def test_a_credential_change_cancels_a_pending_address_change(app, member_client, target):
    # With a stolen session, someone applies for an address and a secret Q/A of their own.
    thief = app.test_client()
    log_in(thief)
    path = apply(thief, new_email="thief@example.net", new_email_confirm="thief@example.net")
    # The member changes the password (or the ID): the stolen session ends, and the request.
    assert change(member_client, target, HX).status_code == 200
    assert thief.get("/account").status_code == 303
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 410 and "取り消されたため" in page.get_data(as_text=True)
    assert answer(visitor, path).status_code == 410
    member = taro()
    assert member.email == "taro@example.com" and member.secret_question == "母親の旧姓は？"
    assert verify_secret(member.secret_answer_hash, "やまだ")
    # 変更履歴, the ⑥ card and the notice say so; the stored mail keeps no live link.
    history = in_db(lambda: [(c.kind, c.detail) for c in ChangeHistory.select()])
    what = DONE[target].removesuffix("変更完了")
    assert ("連絡先メールアドレス変更取消", f"{what}の変更により取り消し") in history
    card = member_client.get("/account/email/card", headers=HX).get_data(as_text=True)
    assert "変更手続き中" not in card
    [notice] = mails_to("taro@example.com")
    assert "連絡先メールアドレス変更（t***@example.net 宛）を取り消しました" in notice.body
    [link_mail] = mails_to("thief@example.net")
    assert "/email/confirm/" not in link_mail.body


@pytest.mark.parametrize("linked", [True, False])
def test_the_notice_lists_what_was_ended_and_tells_of_the_d_account(app, member_client, linked):
    if not linked:
        post(member_client, "/account/d-account/unlink")
        in_db(OutboxMail.delete().execute)
    for _ in range(2):
        log_in(app.test_client())
    response = change(member_client, "password", HX)
    [notice] = in_db(lambda: list(OutboxMail.select()))
    assert "ほかの端末・ブラウザでのログイン（2件）をログアウトしました" in notice.body
    assert "連絡先メールアドレス変更" not in notice.body  # none was pending
    assert "ログインやdアカウント連携登録の途中のお手続きも無効にしました" in notice.body
    page = response.get_data(as_text=True)
    if linked:
        for text in (notice.body, page):
            assert "dアカウントが連携登録されています" in text
            assert "基本情報の⑨「dアカウント連携登録有無」の［解除］" in text
        assert 'href="/account#d-account"' in page
    else:
        assert "dアカウントは連携登録されていません" in notice.body
        assert "dアカウントが連携登録されています" not in page


def test_the_notice_says_when_no_other_session_was_there(member_client):
    change(member_client, "login_id", HX)
    [notice] = in_db(lambda: list(OutboxMail.select()))
    assert "ほかの端末・ブラウザでのログインはありませんでした" in notice.body
