"""Configuration, the basic-info page, the fragment pattern and the security baseline."""

import re

import pytest

from app import create_app
from extensions import db

from .conftest import HX, log_in, post, token_in


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(RuntimeError, match="FLASK_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})


def test_development_generates_a_secret_key_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    first = create_app(instance_path=str(tmp_path))
    second = create_app(instance_path=str(tmp_path))
    key_file = tmp_path / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SESSION_COOKIE_SECURE"] is False
    assert first.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'webbilling.sqlite3'}"


PRODUCTION_KEY = "k" * 32


@pytest.mark.parametrize(
    "base_url",
    [
        None,
        "",
        "http://billing.example.jp",
        "https://localhost:5000",
        "https://127.0.0.1",
        "https://[::1]:8443",
        "https://app.localhost",
        "billing.example.jp",
    ],
)
def test_production_refuses_to_start_without_a_public_https_base_url(
    tmp_path, monkeypatch, base_url
):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.delenv("FLASK_EXTERNAL_BASE_URL", raising=False)
    config = {"SECRET_KEY": PRODUCTION_KEY, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    if base_url is not None:
        config["EXTERNAL_BASE_URL"] = base_url
    with pytest.raises(RuntimeError, match="FLASK_EXTERNAL_BASE_URL"):
        create_app(config)
    create_app(config | {"EXTERNAL_BASE_URL": "https://billing.example.jp"})


def test_production_refuses_a_secret_key_shorter_than_32_bytes(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    config = {
        "EXTERNAL_BASE_URL": "https://billing.example.jp",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    with pytest.raises(RuntimeError, match="FLASK_SECRET_KEY.*32"):
        create_app(config | {"SECRET_KEY": "k" * 31})
    create_app(config | {"SECRET_KEY": "鍵" * 11})  # 33 bytes in UTF-8


def test_development_mails_links_to_the_local_server_without_a_base_url(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_EXTERNAL_BASE_URL", raising=False)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["EXTERNAL_BASE_URL"] == "http://localhost:5000"


@pytest.mark.parametrize("secure", [True, False])
def test_hsts_is_sent_exactly_when_cookies_are_secure(tmp_path, secure):
    from .conftest import make_app

    client = make_app(tmp_path, SESSION_COOKIE_SECURE=secure).test_client()
    for path in ("/login", "/static/css/site.css", "/no-such-page"):
        hsts = client.get(path).headers.get("Strict-Transport-Security")
        assert hsts == ("max-age=31536000" if secure else None)


def test_a_body_over_64_kb_is_refused_with_a_clear_page(client):
    token = token_in(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"csrf_token": token, "login_id": "taro0001", "password": "x" * 65536}
    )
    assert response.status_code == 413
    assert "送信内容が大きすぎます" in response.get_data(as_text=True)


def test_settings_come_from_flask_prefixed_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY", "from-env-" + "k" * 32)
    monkeypatch.setenv("FLASK_EXTERNAL_BASE_URL", "https://billing.example.jp")
    monkeypatch.setenv("FLASK_EMAIL_CONFIRM_HOURS", "12")
    monkeypatch.setenv("FLASK_MAIL_PORT", "2525")
    monkeypatch.setenv("FLASK_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env-" + "k" * 32
    assert app.config["EMAIL_CONFIRM_HOURS"] == 12
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["SESSION_COOKIE_SECURE"] is True  # not debug: Secure cookie
    assert str(tmp_path / "env.sqlite3") in app.config["DATABASE_URL"]


def test_database_runs_with_the_safe_settings(app):
    from peewee import PostgresqlDatabase

    if not app.config["DATABASE_URL"].startswith("sqlite"):
        assert isinstance(db.database.obj, PostgresqlDatabase)
        with db.database.connection_context():
            assert db.database.execute_sql("SELECT count(*) FROM member").fetchone()[0] == 2
        return
    with db.database.connection_context():
        pragma = lambda name: db.database.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 5000


def test_account_shows_the_eleven_items_with_real_values(member_client):
    page = member_client.get("/account").get_data(as_text=True)
    labels = [
        "Webビリングご契約状況",
        "Webビリングご登録日",
        "お客様名",
        "日中のご連絡先電話番号",
        "連絡先メールアドレス登録有無",
        "連絡先メールアドレス",
        "Webビリング対象回線追加・変更",
        "秘密の質問による認証設定",
        "dアカウント連携登録有無",
        "ログインID/パスワードの変更",
        "Webビリングの解約",
    ]
    headings = re.findall(r'<h2 id="[^"]+"><span aria-hidden="true">.</span>([^<]+)</h2>', page)
    assert headings == labels
    for value in ("ご契約中", "2022年04月01日", "済日利 太郎", "03-1234-5678", "taro@example.com"):
        assert value in page


def test_account_for_a_member_without_email(client):
    log_in(client, "hanako0002")
    page = client.get("/account").get_data(as_text=True)
    assert "請求 花子" in page
    section = page.split('id="h-has-email"')[1].split("</section>")[0]
    assert "未登録" in section


def test_pages_need_login(client):
    for path in ("/", "/account"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/login?next=")


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@pytest.mark.parametrize("path", ["/login", "/account", "/no-such-page"])
def test_security_headers_and_no_store(member_client, path):
    response = member_client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.headers["Vary"]


def test_no_inline_script_or_style(member_client):
    for path in ("/login", "/", "/account"):
        page = member_client.get(path).get_data(as_text=True)
        assert "<style" not in page and " style=" not in page
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)
        assert 'name="htmx-config"' in page or path == "/login"


def test_session_cookie_flags(client):
    log_in(client)
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_htmx_is_served_from_our_static_path_with_a_long_cache(member_client):
    page = member_client.get("/account").get_data(as_text=True)
    src = re.search(r'<script src="([^"]+)" defer>', page).group(1)
    assert src.startswith("/static/vendor/htmx/htmx.min.js?v=")
    css = re.search(r'<link rel="stylesheet" href="([^"]+)">', page).group(1)
    for url in (src, css):
        with member_client.get(url) as response:
            assert response.status_code == 200
            assert "max-age=31536000" in response.headers["Cache-Control"]
            assert "Set-Cookie" not in response.headers
            assert response.headers["Vary"] == "Accept-Encoding"  # not Cookie: shareable
    with member_client.get(src) as response:
        assert b"htmx" in response.data[:2000]


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [("gzip, deflate, br, zstd", "br"), ("gzip, deflate", "gzip"), ("", None)],
)
def test_static_files_are_compressed_when_the_client_accepts_it(client, accept, encoding):
    import gzip

    import brotli

    raw = client.get("/static/css/site.css").data
    response = client.get("/static/css/site.css", headers={"Accept-Encoding": accept})
    assert response.headers.get("Content-Encoding") == encoding
    body = response.data
    if encoding:
        assert len(body) < len(raw) / 2
        body = brotli.decompress(body) if encoding == "br" else gzip.decompress(body)
    assert body == raw


def test_static_revalidation_and_traversal(client):
    first = client.get("/static/css/site.css")
    again = client.get("/static/css/site.css", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    for path in ("/static/../app.py", "/static/vendor/htmx/../../package.json", "/static/nope.css"):
        assert client.get(path).status_code == 404


def test_htmx_pin_is_exactly_4_0_1():
    import json
    from pathlib import Path

    lock = json.loads(Path("package-lock.json").read_text())
    entry = lock["packages"]["node_modules/htmx.org"]
    assert entry["version"] == "4.0.1" and entry["integrity"].startswith("sha512-")
    installed = json.loads(Path("node_modules/htmx.org/package.json").read_text())
    assert installed["version"] == "4.0.1"


def test_error_pages_are_japanese_fragments_for_htmx(member_client):
    full = member_client.get("/no-such-page")
    assert full.status_code == 404
    assert "<html" in full.get_data(as_text=True)
    assert "お探しのページは見つかりませんでした" in full.get_data(as_text=True)
    fragment = member_client.get("/no-such-page", headers=HX)
    assert fragment.status_code == 404
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'id="error"' in fragment.get_data(as_text=True)


def test_post_without_csrf_token_is_refused_with_a_clear_page(member_client):
    response = member_client.post("/logout")
    assert response.status_code == 400
    assert "画面の有効期限が切れたか" in response.get_data(as_text=True)
    assert member_client.get("/account").status_code == 200  # still logged in


def test_post_with_a_forged_csrf_token_is_refused(member_client):
    response = member_client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400


def test_csrf_token_from_another_session_is_refused(app, member_client):
    other = app.test_client()
    log_in(other, "hanako0002")
    foreign = token_in(other.get("/account").get_data(as_text=True))
    assert member_client.post("/logout", data={"csrf_token": foreign}).status_code == 400


def test_csrf_token_has_no_time_limit(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None


def test_logout_via_htmx_header_still_needs_csrf(member_client):
    assert post(member_client, "/logout", headers=HX).status_code == 303


def test_pages_from_a_plain_get_are_compressed(member_client):
    import brotli

    plain = member_client.get("/account").data
    response = member_client.get("/account", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in response.headers["Vary"]
    # The same page, but for its CSRF token, which carries the time to the second.
    unsigned = lambda page: re.sub(rb'name="csrf_token" value="[^"]+"', b"", page)  # noqa: E731
    assert unsigned(brotli.decompress(response.data)) == unsigned(plain)
    assert len(response.data) < len(plain) / 2


def test_a_get_with_a_query_string_is_not_compressed(member_client):
    """A cross-site link chooses the query string; a page that echoed it next to a CSRF
    token must not be compressed (BREACH)."""
    headers = {"Accept-Encoding": "br, gzip"}
    response = member_client.get("/account/credentials?target=password", headers=headers)
    assert "Content-Encoding" not in response.headers


def test_answers_to_csrf_checked_posts_are_compressed(member_client):
    import brotli

    response = post(
        member_client,
        "/account/phone/confirm",
        {"new_phone": "0312"},
        {**HX, "Accept-Encoding": "br"},
    )
    assert response.status_code == 422 and response.headers["Content-Encoding"] == "br"
    assert "市外局番" in brotli.decompress(response.data).decode()


@pytest.mark.parametrize(
    "template",
    [
        "phone/_card.html",
        "email/_card.html",
        "secret/_card.html",
        "secret_auth/_card.html",
        "daccount/_card.html",
        "credentials/_card.html",
        "cancel/_card.html",
        "lines/_screen.html",
        "email/_confirm_link.html",
    ],
)
def test_a_step_no_card_knows_is_an_error_not_the_view_step(app, template):
    from flask import render_template

    from models import Member

    with app.test_request_context(), db.database.connection_context():
        member = Member.get(Member.login_id_key == "taro0001")
        with pytest.raises(ValueError, match="unknown step 'veiw'"):
            render_template(template, step="veiw", member=member)
