"""Scenarios: each puts a demo member into the state one guide screen needs, starting from
the reset demo data, and says which login to use and what it did to that login. They call the
features' own functions (changes.py, login.py) rather than writing rows, so they stay true when
a feature changes.
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

# The secret question and answer the scenarios give (the answer as typed: full-width kana).
QUESTION, ANSWER = "好きな食べ物は？", "カレー"
NEW_EMAIL = "qa.taro@example.com"


@dataclass(frozen=True)
class Scenario:
    name: str  # for `flask dev scenario NAME`
    title: str  # the button on the QA page
    login_id: str  # the demo member it puts into the state: the login to use
    screen: str  # the guide screen it is for
    # Makes the member's state; returns what else the tester needs to know, first what it did
    # to that login (「taro0001 をロックしました」), so the tester never has to guess which.
    run: Callable[[Member], list[str]]

    @property
    def login(self) -> str:
        return f"{self.login_id} / {DEMO_PASSWORD}"


def _member(login_id: str) -> Member:
    return Member.get(Member.login_id_key == login_id)


def _locked(member: Member) -> list[str]:
    failures = current_app.config["LOGIN_MAX_FAILURES"]
    for _ in range(failures):
        record_failure(member)
    until = _member(member.login_id).locked_until
    minutes = current_app.config["LOGIN_LOCK_MINUTES"]
    return [
        f"{member.login_id} をロックしました（パスワード誤り{failures}回）。",
        f"ロック解除：{format_jst(until)}（QAツールの時計を{minutes}分以上進めると解除されます）",
    ]


def _email_request(member: Member) -> list[str]:
    request_email_change(member, NEW_EMAIL, QUESTION, ANSWER)
    return [
        f"{member.login_id} の連絡先メールアドレスを {NEW_EMAIL} に変更する手続き中です。",
        f"確認メールは開発用メールボックスの宛先 {NEW_EMAIL} にあります。",
        f"URLを開いたら（ログイン不要）、秘密の質問「{QUESTION}」、回答「{ANSWER}」を入力します。",
    ]


def _email_expired(member: Member) -> list[str]:
    # Requested one hour more than the link's validity ago: the row, its mail and the link's
    # signed time are all of then, exactly as if the member had waited.
    with shifted(-timedelta(hours=valid_hours() + 1)):
        return _email_request(member)


def _secret_auth(member: Member) -> list[str]:
    change_secret(member, QUESTION, ANSWER)
    set_secret_auth(member, True)
    return [
        f"{member.login_id} に秘密の質問による認証を設定しました。",
        f"秘密の質問「{QUESTION}」、回答「{ANSWER}」",
    ]


def _lines_199(member: Member) -> list[str]:
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
        f"{member.login_id} の登録回線を {MAX_LINES - 1}回線にしました。",
        "追加できる回線：NTT東日本 03-1234-5679、NTT西日本 06-1234-5678、NTTドコモ 090-1234-5678"
        "（1回線で200回線、2回線目は上限超え）",
    ]


def _cancelled(member: Member) -> list[str]:
    cancel_membership(member, REASONS[0])
    return [
        f"{member.login_id} を一括解約しました。",
        "解約のお知らせメールは開発用メールボックスにあります。",
    ]


def _no_email(member: Member) -> list[str]:
    # No feature removes a contact address, so this one row is written here.
    Member.update(email=None).where(Member.id == member.id).execute()
    return [f"{member.login_id} の連絡先メールアドレスを未登録にしました。"]


SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "locked", "ログインロック中", "taro0001", "ログイン（5回失敗で30分ロック）", _locked
        ),
        Scenario(
            "email-pending",
            "メールアドレス変更の確認待ち",
            "taro0001",
            "メールのURLの画面、基本情報⑥の変更手続き中の表示",
            _email_request,
        ),
        Scenario(
            "email-expired",
            "確認メールのURL期限切れ",
            "taro0001",
            "メールのURLの有効期限切れ、基本情報⑥の再送・取消",
            _email_expired,
        ),
        Scenario(
            "secret-auth",
            "秘密の質問による認証あり",
            "hanako0002",
            "ログイン後の秘密の質問",
            _secret_auth,
        ),
        Scenario(
            "lines-199",
            "対象回線199回線",
            "taro0001",
            "Webビリング対象回線の変更（200回線の上限）",
            _lines_199,
        ),
        Scenario("cancelled", "一括解約済み", "taro0001", "ログイン（解約済み）", _cancelled),
        Scenario(
            "no-email",
            "連絡先メールアドレス未登録",
            "taro0001",
            "連絡先メールアドレス登録（⑥［変更］で入力画面へ）",
            _no_email,
        ),
    )
}


def run_scenario(name: str) -> tuple[Scenario, list[str]]:
    """Reset the demo data, then make scenario `name`'s state; (the scenario, its notes)."""
    scenario = SCENARIOS[name]
    reset_demo()
    return scenario, scenario.run(_member(scenario.login_id))
