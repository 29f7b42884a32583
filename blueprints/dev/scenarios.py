"""Scenarios: each puts a demo member into the state one guide screen needs, starting from
the reset demo data, and says which login to use. They call the features' own functions
(changes.py, login.py) rather than writing rows, so they stay true when a feature changes.
Call them inside a request (the QA page) or a test request context (the CLI): a mailed link
takes the request's address in development (blueprints/email/changes.site_url)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from blueprints.auth.login import record_failure
from blueprints.cancel.changes import cancel_membership
from blueprints.cancel.forms import REASONS
from blueprints.email.changes import request_email_change, valid_hours
from blueprints.lines.changes import change_lines
from blueprints.lines.registry import store_registry_rows
from blueprints.lines.rules import MAX_LINES, Staged
from blueprints.secret.changes import change_secret
from blueprints.secret_auth.changes import set_secret_auth
from cli import DEMO_PASSWORD
from clock import format_jst, shifted
from extensions import db
from models import Company, Member

from .changes import reset_demo

TARO = f"taro0001 / {DEMO_PASSWORD}"
HANAKO = f"hanako0002 / {DEMO_PASSWORD}"
# The secret question and answer the scenarios give (the answer as typed: full-width kana).
QUESTION, ANSWER = "好きな食べ物は？", "カレー"
NEW_EMAIL = "qa.taro@example.com"


@dataclass(frozen=True)
class Scenario:
    name: str  # for `flask dev scenario NAME`
    title: str  # the button on the QA page
    login: str  # which login to use
    screen: str  # the guide screen it is for
    run: Callable[[], list[str]]  # makes the state; returns what else the tester needs to know


def _member(login_id: str) -> Member:
    return Member.get(Member.login_id_key == login_id)


def _locked() -> list[str]:
    member = _member("taro0001")
    for _ in range(current_app.config["LOGIN_MAX_FAILURES"]):
        record_failure(member)
    until = _member("taro0001").locked_until
    minutes = current_app.config["LOGIN_LOCK_MINUTES"]
    return [
        f"ロック解除：{format_jst(until)}（QAツールの時計を{minutes}分以上進めると解除されます）"
    ]


def _email_request() -> list[str]:
    request_email_change(_member("taro0001"), NEW_EMAIL, QUESTION, ANSWER)
    return [
        f"確認メールは開発用メールボックスの宛先 {NEW_EMAIL} にあります。",
        f"URLを開いたら（ログイン不要）、秘密の質問「{QUESTION}」、回答「{ANSWER}」を入力します。",
    ]


def _email_expired() -> list[str]:
    # Requested one hour more than the link's validity ago: the row, its mail and the link's
    # signed time are all of then, exactly as if the member had waited.
    with shifted(-timedelta(hours=valid_hours() + 1)):
        return _email_request()


def _secret_auth() -> list[str]:
    member = _member("hanako0002")
    change_secret(member, QUESTION, ANSWER)
    set_secret_auth(member, True)
    return [f"秘密の質問「{QUESTION}」、回答「{ANSWER}」"]


def _lines_199() -> list[str]:
    member = _member("taro0001")
    have = len(member.lines)
    # New registry lines under his name, enough to reach 199 registered (one step from 200).
    rows = [
        ("NTT東日本", f"03990{i:05d}", member.customer_name, "") for i in range(1, MAX_LINES - have)
    ]
    with db.database.atomic():
        store_registry_rows(rows)
    company_id = Company.get(Company.name == "NTT東日本").id
    change = change_lines(member, [Staged(company_id, row[1]) for row in rows], set())
    if not change.ok:
        raise RuntimeError(f"the lines scenario no longer fits the line rules: {change.error}")
    return [
        f"登録回線 {MAX_LINES - 1}回線。追加できる回線：NTT東日本 03-1234-5679、"
        "NTT西日本 06-1234-5678、NTTドコモ 090-1234-5678（1回線で200回線、2回線目は上限超え）"
    ]


def _cancelled() -> list[str]:
    cancel_membership(_member("taro0001"), REASONS[0])
    return ["解約のお知らせメールは開発用メールボックスにあります。"]


def _no_email() -> list[str]:
    # No feature removes a contact address, so this one row is written here.
    Member.update(email=None).where(Member.login_id_key == "taro0001").execute()
    return []


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("locked", "ログインロック中", TARO, "ログイン（5回失敗で30分ロック）", _locked),
        Scenario(
            "email-pending",
            "メールアドレス変更の確認待ち",
            TARO,
            "メールのURLの画面、基本情報⑥の変更手続き中の表示",
            _email_request,
        ),
        Scenario(
            "email-expired",
            "確認メールのURL期限切れ",
            TARO,
            "メールのURLの有効期限切れ、基本情報⑥の再送・取消",
            _email_expired,
        ),
        Scenario(
            "secret-auth",
            "秘密の質問による認証あり",
            HANAKO,
            "ログイン後の秘密の質問",
            _secret_auth,
        ),
        Scenario(
            "lines-199",
            "対象回線199回線",
            TARO,
            "Webビリング対象回線の変更（200回線の上限）",
            _lines_199,
        ),
        Scenario("cancelled", "一括解約済み", TARO, "ログイン（解約済み）", _cancelled),
        Scenario(
            "no-email",
            "連絡先メールアドレス未登録",
            TARO,
            "連絡先メールアドレス登録（⑥［変更］で入力画面へ）",
            _no_email,
        ),
    )
}


def run_scenario(name: str) -> tuple[Scenario, list[str]]:
    """Reset the demo data, then make scenario `name`'s state; (the scenario, its notes)."""
    scenario = SCENARIOS[name]
    reset_demo()
    return scenario, scenario.run()
