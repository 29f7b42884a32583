"""Operator commands: flask --app app init-db | seed-demo | send-mail | purge | backup FILE, and
import-lines FILE.csv (in blueprints/lines/registry.py, with the registry it fills); the QA
tools' `dev …` commands are in blueprints/dev/cli.py."""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from peewee import SqliteDatabase

import ratelimit
from blueprints.daccount.rules import VALID_FOR
from blueprints.email.changes import forget_links
from blueprints.lines.registry import import_lines, store_registry_rows
from clock import utcnow
from extensions import db
from hashing import hash_secret
from migrations import SchemaError, upgrade
from models import (
    Company,
    CredentialHistory,
    DAccountUsedKey,
    EmailChangeRequest,
    LineRecord,
    LoginSession,
    Member,
    MemberLine,
)

DEMO_PASSWORD = "Webbill#2024"
DEMO_MEMBERS = (
    {
        "login_id": "taro0001",
        "customer_name": "済日利 太郎",
        "daytime_phone": "0312345678",
        "email": "taro@example.com",
        "secret_question": "母親の旧姓は？",
        "secret_answer": "やまだ",
        "d_account_linked": True,
        # The demo provider's d-account linked to him (make run; README "dアカウントでログイン").
        "d_account_subject": "demo-taro",
        "lines": (("NTT東日本", "0312345678"),),
    },
    {
        "login_id": "hanako0002",
        "customer_name": "請求 花子",
        "daytime_phone": "0752345678",
        "lines": (("NTT西日本", "0752345678"),),
    },
)
# company, number, holder, representative
DEMO_REGISTRY = (
    ("NTT東日本", "0312345678", "済日利 太郎", ""),
    ("NTT東日本", "0312345679", "済日利 太郎", ""),
    ("NTT西日本", "0612345678", "済日利　太郎", ""),
    ("NTTドコモ", "09012345678", "済日利太郎", ""),
    # A bulk-billing group of his: the representative and three lines.
    ("NTT東日本", "0452223333", "済日利 太郎", "0452223333"),
    ("NTT東日本", "0452223334", "済日利 太郎", "0452223333"),
    ("NTT東日本", "0452223335", "済日利 太郎", "0452223333"),
    ("NTT東日本", "0452223336", "済日利 太郎", "0452223333"),
    # Other holders.
    ("NTT西日本", "0752345678", "請求 花子", ""),
    ("NTTドコモ", "08011112222", "請求 花子", ""),
    ("NTT東日本", "0311112222", "山田 一郎", ""),
)


def register(app: Flask) -> None:
    # The QA commands live with the QA tools they drive (imported here: they use this module).
    from blueprints.dev.cli import dev

    for command in (init_db, seed_demo, import_lines, send_mail, purge, backup, dev):
        app.cli.add_command(command)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database, or upgrade it to this release's schema keeping every row."""
    try:
        before, after = upgrade(db.database)
    except SchemaError as error:
        raise click.ClickException(str(error)) from error
    if before is None:
        click.echo(f"データベースを作成しました（スキーマ {after}）。")
    elif before < after:
        click.echo(f"データベースを更新しました（スキーマ {before} → {after}）。")
    else:
        click.echo(f"データベースは最新です（スキーマ {after}）。")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Add the demo members and registry lines; running it again changes nothing."""
    seed_demo_data()
    click.echo(f"デモデータを用意しました（パスワードはいずれも {DEMO_PASSWORD}）。")


def seed_demo_data() -> None:
    """The demo data of SPEC §4, added where missing (also the QA tools' reset)."""
    upgrade(db.database)
    with db.database.connection_context(), db.database.atomic():
        store_registry_rows(DEMO_REGISTRY)
        for spec in DEMO_MEMBERS:
            if Member.get_or_none(Member.login_id_key == spec["login_id"]) is None:
                _create_demo_member(spec)


def _create_demo_member(spec: dict) -> None:
    password_hash = hash_secret(DEMO_PASSWORD)
    member = Member.create(
        login_id=spec["login_id"],
        login_id_key=spec["login_id"].lower(),
        password_hash=password_hash,
        customer_name=spec["customer_name"],
        registered_at=datetime(2022, 4, 1, 0, 0),
        daytime_phone=spec["daytime_phone"],
        email=spec.get("email"),
        secret_question=spec.get("secret_question"),
        secret_answer_hash=hash_secret(spec["secret_answer"]) if "secret_answer" in spec else None,
        d_account_linked=spec.get("d_account_linked", False),
        **_demo_d_account(spec),
    )
    CredentialHistory.create(member=member, kind="login_id", value=member.login_id_key)
    CredentialHistory.create(member=member, kind="password", value=password_hash)
    for company, number in spec["lines"]:
        line = LineRecord.get(
            (LineRecord.company == Company.get(Company.name == company))
            & (LineRecord.number == number)
        )
        MemberLine.create(member=member, line=line)


def _demo_d_account(spec: dict) -> dict:
    """The demo d-account of the configured provider; with none configured, linked as the
    first release linked (the d-account unknown)."""
    issuer = current_app.config["DACCOUNT_ISSUER"]
    if not (issuer and spec.get("d_account_subject")):
        return {}
    return {"d_account_issuer": str(issuer), "d_account_subject": spec["d_account_subject"]}


@click.command("send-mail")
@with_appcontext
def send_mail() -> None:
    """Deliver the mail still waiting in the outbox."""
    if not current_app.config["MAIL_SERVER"]:
        raise click.ClickException("FLASK_MAIL_SERVER が設定されていないため、送信できません。")
    from mail import deliver_outbox

    with db.database.connection_context():
        sent, failed = deliver_outbox()
    click.echo(f"送信 {sent}件、失敗 {failed}件。")
    if failed:
        raise SystemExit(1)


# An expired address-change request is kept this long after its expiry (its link is cut out of
# the mail at once): the ⑥ card still offers to resend it, and its link's page still tells
# "used" from "expired". Then it goes (its answer hash with it).
KEEP_EXPIRED_REQUESTS = timedelta(days=7)


@click.command("purge")
@with_appcontext
def purge() -> None:
    """Remove what has outlived its use (run it from cron, README "Operations")."""
    with db.database.connection_context(), db.database.atomic():
        counts = purge_expired()
    click.echo(
        "確認URLを削除したメール {links}件、期限切れの変更申込 {requests}件、"
        "期限切れのログインセッション {sessions}件、回数制限の記録 {counters}件、"
        "dアカウントの使用済み値 {spent}件を削除しました。".format(**counts)
    )


def purge_expired() -> dict[str, int]:
    """In the caller's transaction: confirmation links cut out of the mail of expired requests;
    requests expired more than KEEP_EXPIRED_REQUESTS ago, login sessions past their idle or
    absolute timeout, ended rate-limit windows and spent d-account values deleted."""
    now, config = utcnow(), current_app.config
    idle = timedelta(minutes=config["IDLE_TIMEOUT_MINUTES"])
    absolute = timedelta(hours=config["ABSOLUTE_TIMEOUT_HOURS"])
    return {
        "links": forget_links(EmailChangeRequest.expires_at <= now),
        "requests": EmailChangeRequest.delete()
        .where(EmailChangeRequest.expires_at <= now - KEEP_EXPIRED_REQUESTS)
        .execute(),
        "sessions": LoginSession.delete()
        .where(
            (LoginSession.last_seen_at < now - idle) | (LoginSession.created_at < now - absolute)
        )
        .execute(),
        "counters": ratelimit.purge_expired(),
        "spent": DAccountUsedKey.delete()
        .where(DAccountUsedKey.used_at < now - VALID_FOR)
        .execute(),
    }


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite FILE if it exists.")
@with_appcontext
def backup(file: Path, replace: bool) -> None:
    """Copy the SQLite database to FILE while the app keeps serving (PostgreSQL: pg_dump).

    SQLite's online backup API (sqlite3 Connection.backup), all pages in one step: one read
    transaction, so the copy is the database as of one moment, and in WAL mode writers carry
    on meanwhile. (VACUUM INTO would also be one snapshot, but it rebuilds every table and
    index, and SQLite does not fsync its output.) The copy is written next to FILE and renamed
    only when whole, so FILE is never a half-written backup."""
    database = getattr(db.database, "obj", db.database)  # (a Proxy)
    if not isinstance(database, SqliteDatabase):
        raise click.ClickException(
            "PostgreSQL のデータベースは pg_dump でバックアップしてください（README「Backups」）。"
        )
    source = Path(database.database).resolve()
    if file.exists() and file.resolve() == source:
        raise click.ClickException("バックアップ先がデータベースそのものです。")
    if file.exists() and not replace:
        raise click.ClickException(
            f"{file} はすでにあります。上書きするときは --replace を付けてください。"
        )
    started = time.monotonic()
    partial = file.with_name(file.name + ".partial")
    partial.unlink(missing_ok=True)
    # Read-only: a mistyped FLASK_DATABASE_URL must not create an empty database to back up.
    with (
        closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)) as live,
        closing(sqlite3.connect(partial)) as copy,
    ):
        live.backup(copy)
    os.replace(partial, file)
    size = file.stat().st_size / 1_000_000
    took = time.monotonic() - started
    click.echo(f"バックアップを作成しました：{file}（{size:.1f} MB、{took:.1f} 秒）。")
