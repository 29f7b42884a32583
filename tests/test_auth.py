"""Login, lock-out, the secret-question step, logout and session lifetime (SPEC §2.0)."""

from datetime import timedelta

import pytest
import time_machine

from clock import utcnow
from hashing import hash_secret, hasher
from models import LoginSession, Member

from .conftest import HX, PASSWORD, in_db, log_in, make_app, post, token_in
from .oidc_provider import LINKED, path_of, provider, sign_in

NEUTRAL = "ログインIDまたはログインパスワードが正しくありません。"


def member(login_id="taro0001") -> Member:
    return in_db(lambda: Member.get(Member.login_id_key == login_id))


def test_login_page_has_the_guide_labels(client):
    page = client.get("/login").get_data(as_text=True)
    for text in ("ログインID", "ログインパスワード", ">ログイン</button>"):
        assert text in page
    assert 'autocomplete="current-password"' in page


def test_login_lands_on_top_and_shows_the_header(client):
    response = log_in(client)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "済日利 太郎 様" in page
    assert "前回ログイン日時：なし（初回ログイン）" in page
    assert "基本情報 (対象回線追加など)" in page


def test_login_id_is_case_insensitive(client):
    assert log_in(client, "TARO0001").status_code == 303


@pytest.mark.parametrize(
    ("login_id", "password"),
    [("taro0001", "wrong-password"), ("nobody99", PASSWORD), ("nobody99", "wrong-password")],
)
def test_wrong_or_unknown_gets_one_neutral_answer(client, login_id, password):
    response = log_in(client, login_id, password)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert NEUTRAL in page
    assert "taro0001" not in page or login_id == "taro0001"


def test_previous_login_time_is_the_one_before_this_login(client, app):
    with time_machine.travel("2026-05-06 00:00:00+09:00", tick=False):
        log_in(client)
        client.post(
            "/logout", data={"csrf_token": token_in(client.get("/").get_data(as_text=True))}
        )
    with time_machine.travel("2026-05-07 12:30:00+09:00", tick=False):
        log_in(client)
        page = client.get("/account").get_data(as_text=True)
    assert "前回ログイン日時：2026年05月06日 00時00分" in page


def test_five_failures_lock_the_account_for_30_minutes(client):
    for _ in range(5):
        assert log_in(client, password="wrong-password").status_code == 422
    locked = log_in(client)
    assert locked.status_code == 422 and NEUTRAL in locked.get_data(as_text=True)
    assert member().locked_until is not None
    with time_machine.travel(utcnow() + timedelta(minutes=31)):
        assert log_in(client).status_code == 303
    assert member().failed_logins == 0


def test_a_success_resets_the_failure_count(client):
    for _ in range(4):
        log_in(client, password="wrong-password")
    assert log_in(client).status_code == 303
    assert member().failed_logins == 0


def test_cancelled_member_is_refused(client):
    in_db(lambda: Member.update(cancelled_at=utcnow()).execute())
    response = log_in(client)
    assert response.status_code == 422
    assert "解約済みのため、ログインできません" in response.get_data(as_text=True)
    assert in_db(LoginSession.select().count) == 0


def test_old_hashes_are_upgraded_at_login(client):
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    in_db(lambda: Member.update(password_hash=weak).where(Member.login_id == "taro0001").execute())
    assert log_in(client).status_code == 303
    upgraded = member().password_hash
    assert upgraded != weak and not hasher.check_needs_rehash(upgraded)


def enable_secret_auth():
    in_db(
        lambda: (
            Member.update(secret_auth_enabled=True).where(Member.login_id == "taro0001").execute()
        )
    )


def answer_secret(client, answer):
    token = token_in(client.get("/login/secret").get_data(as_text=True))
    return client.post("/login/secret", data={"csrf_token": token, "answer": answer})


def test_secret_question_step_when_enabled(client):
    enable_secret_auth()
    response = log_in(client)
    assert response.headers["Location"] == "/login/secret"
    page = client.get("/login/secret").get_data(as_text=True)
    assert "母親の旧姓は？" in page and "秘密の質問の回答" in page
    assert client.get("/account").status_code == 303  # not logged in yet
    wrong = answer_secret(client, "ヤマダ")
    assert wrong.status_code == 422
    assert "秘密の質問の回答が正しくありません。" in wrong.get_data(as_text=True)
    assert answer_secret(client, "やまだ").status_code == 303
    assert client.get("/account").status_code == 200


def test_secret_question_failures_count_toward_the_lock(client):
    enable_secret_auth()
    for _ in range(2):
        log_in(client, password="wrong-password")
    log_in(client)
    for _ in range(3):
        answer_secret(client, "ちがう")
    assert member().is_locked(utcnow())
    assert client.get("/login/secret").headers["Location"] == "/login"


def test_secret_step_cannot_be_skipped(client):
    enable_secret_auth()
    assert client.get("/login/secret").status_code == 303
    assert client.get("/account").status_code == 303


def test_each_login_gets_a_new_session(client, app):
    log_in(client)
    first = client.get_cookie("session").value
    post(client, "/logout")
    log_in(client)
    assert client.get_cookie("session").value != first
    assert in_db(LoginSession.select().count) == 1


def test_logout_really_ends_the_session(client, app):
    log_in(client)
    stolen = client.get_cookie("session").value
    response = post(client, "/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/account").status_code == 303


def test_logout_is_post_only(member_client):
    assert member_client.get("/logout").status_code == 405
    assert member_client.get("/account").status_code == 200


def test_idle_timeout_then_back_where_they_were(client):
    log_in(client)
    with time_machine.travel(utcnow() + timedelta(minutes=31)):
        response = client.get("/account")
        assert response.status_code == 303
        assert response.headers["Location"] == "/login?next=/account"
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "ログアウトしました" in page
        token = token_in(page)
        again = client.post(
            "/login",
            data={
                "csrf_token": token,
                "login_id": "taro0001",
                "password": PASSWORD,
                "next": "/account",
            },
        )
        assert again.headers["Location"] == "/account"


def test_activity_keeps_the_session_alive(client):
    log_in(client)
    start = utcnow()
    for minutes in (20, 40, 60):
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert client.get("/account").status_code == 200


def test_absolute_timeout(client):
    log_in(client)
    start = utcnow()
    for minutes in range(20, 24 * 60, 20):  # active all day, never idle for 30 minutes
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert client.get("/account").status_code == 200
    with time_machine.travel(start + timedelta(hours=24, minutes=1)):
        assert client.get("/account").status_code == 303


def test_timeouts_are_configurable(tmp_path):
    from .conftest import make_app

    app = make_app(tmp_path, IDLE_TIMEOUT_MINUTES=5, ABSOLUTE_TIMEOUT_HOURS=1)
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 5


def test_htmx_request_after_timeout_redirects_the_whole_page(client):
    log_in(client)
    with time_machine.travel(utcnow() + timedelta(minutes=31)):
        response = client.get("/account", headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/login?next=/account"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_next_never_leaves_the_site(client, target):
    token = token_in(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"csrf_token": token, "login_id": "taro0001", "password": PASSWORD, "next": target},
    )
    assert response.headers["Location"] == "/"


def test_logged_in_member_visiting_login_goes_to_top(member_client):
    assert member_client.get("/login").headers["Location"] == "/"


def test_secret_answer_hash_is_argon2id():
    assert hash_secret("やまだ").startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_login_posts_are_rate_limited_per_client(app):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    client = app.test_client()
    codes = [log_in(client, "nobody99", "x").status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    page = log_in(client, "nobody99", "x").get_data(as_text=True)
    assert "短時間に操作が繰り返されたため" in page
    assert client.get("/login").status_code == 200  # only POSTs count
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"  # another phone
    assert log_in(other, "nobody99", "x").status_code == 422


# A malformed address where the app reads one (next, HX-Current-URL, Referer) is ignored: the
# member lands on the page they would without it. urlsplit() raises on "[" without "]".
MALFORMED = ["http://[", "http://[x", "//[", "http://[::1"]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_next_is_ignored(client, url):
    page = client.get("/login", query_string={"next": url})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="next" type="hidden" value=""' in html
    token = token_in(html)
    data = {"csrf_token": token, "login_id": "taro0001", "password": PASSWORD, "next": url}
    assert client.post("/login", data=data).headers["Location"] == "/"


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_hx_current_url_or_referer_is_ignored(client, url):
    hx = client.get("/account", headers={**HX, "HX-Current-URL": url})
    assert hx.status_code == 200 and hx.headers["HX-Redirect"] == "/login?next=/account"
    log_in(client)
    token = token_in(client.get("/account/phone").get_data(as_text=True))
    in_db(lambda: LoginSession.delete().execute())  # the session ends meanwhile
    ended = client.post(
        "/account/phone/confirm",
        data={"csrf_token": token, "new_phone": "090-1234-5678"},
        headers={"Referer": url},
    )
    assert ended.status_code == 303 and ended.headers["Location"] == "/login?next=/account"


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_next_is_ignored_by_the_d_account_login(tmp_path, app, url):
    with provider() as op:
        taro = Member.login_id == "taro0001"
        in_db(
            lambda: (
                Member.update(d_account_issuer=op.issuer, d_account_subject=LINKED)
                .where(taro)
                .execute()
            )
        )
        with_op = make_app(tmp_path, DATABASE_URL=app.config["DATABASE_URL"], **op.settings)
        client = with_op.test_client()
        authorization = client.get("/login/d-account", query_string={"next": url})
        assert authorization.status_code == 303
        back = client.get(path_of(sign_in(authorization.headers["Location"])))
        assert back.status_code == 303 and back.headers["Location"] == "/"


@pytest.mark.parametrize("state", ["é", "\x00", "あ" * 100], ids=["latin", "nul", "kana"])
def test_a_state_of_any_characters_from_the_provider_is_a_mismatch(tmp_path, app, state):
    """The callback's state is compared as bytes: hmac.compare_digest refuses non-ASCII text."""
    with provider() as op:
        with_op = make_app(tmp_path, DATABASE_URL=app.config["DATABASE_URL"], **op.settings)
        client = with_op.test_client()
        client.get("/login/d-account")
        back = client.get("/login/d-account/callback", query_string={"state": state, "code": "x"})
        assert back.status_code == 400
        assert "ログインの手続きを確認できません" in back.get_data(as_text=True)
