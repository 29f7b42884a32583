"""Operator commands: flask --app app init-db | seed-demo | import-lines FILE.csv | send-mail."""

from __future__ import annotations

import csv
import unicodedata
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from extensions import db
from hashing import hash_secret
from models import MODELS, Company, CredentialHistory, LineRecord, Member, MemberLine
from phones import any_number

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
    for command in (init_db, seed_demo, import_lines, send_mail):
        app.cli.add_command(command)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the tables (existing ones are kept)."""
    with db.database.connection_context():
        db.database.create_tables(MODELS)
    click.echo("データベースを初期化しました。")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Add the demo members and registry lines; running it again changes nothing."""
    with db.database.connection_context(), db.database.atomic():
        db.database.create_tables(MODELS)
        store_registry_rows(DEMO_REGISTRY)
        for spec in DEMO_MEMBERS:
            if Member.get_or_none(Member.login_id_key == spec["login_id"]) is None:
                _create_demo_member(spec)
    click.echo(f"デモデータを用意しました（パスワードはいずれも {DEMO_PASSWORD}）。")


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
    )
    CredentialHistory.create(member=member, kind="login_id", value=member.login_id_key)
    CredentialHistory.create(member=member, kind="password", value=password_hash)
    for company, number in spec["lines"]:
        line = LineRecord.get(
            (LineRecord.company == Company.get(Company.name == company))
            & (LineRecord.number == number)
        )
        MemberLine.create(member=member, line=line)


@click.command("import-lines")
@with_appcontext
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_lines(csv_file: Path) -> None:
    """Import the carriers' line registry from CSV: company,number,holder,representative."""
    try:
        rows, errors = parse_registry_csv(csv_file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as error:
        raise click.ClickException(
            "ファイルがUTF-8ではありません。何も取り込んでいません。"
        ) from error
    if errors:
        for error in errors:
            click.echo(error, err=True)
        raise click.ClickException(f"{len(errors)}件の誤りがあるため、何も取り込んでいません。")
    with db.database.connection_context(), db.database.atomic():
        store_registry_rows(rows)
    click.echo(f"{len(rows)}件の回線を取り込みました。")


HEADER = ["company", "number", "holder", "representative"]


def parse_registry_csv(text: str) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """Rows as (company, number, holder, representative) with numbers as digits, plus one
    message per bad row. Representatives must be in the file or already in the registry."""
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if [h.strip() for h in header or []] != HEADER:
        return [], [f"1行目: 見出し行は {','.join(HEADER)} にしてください。"]
    rows, errors, seen = [], [], {}
    for line_no, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != 4:
            errors.append(f"{line_no}行目: 項目が4つではありません（{len(cells)}個）。")
            continue
        company, raw_number, holder, raw_rep = (
            unicodedata.normalize("NFKC", c).strip() for c in cells
        )
        number = any_number(raw_number)
        representative = any_number(raw_rep) if raw_rep else ""
        problems = []
        if not company:
            problems.append("ご契約会社が空です")
        if number is None:
            problems.append(f"電話番号「{raw_number}」が正しくありません")
        if not holder:
            problems.append("名義が空です")
        if representative is None:
            problems.append(f"代表番号「{raw_rep}」が正しくありません")
        if number and (company, number) in seen:
            problems.append(f"{seen[(company, number)]}行目と同じ回線です")
        if problems:
            errors.append(f"{line_no}行目: " + "、".join(problems) + "。")
            continue
        seen[(company, number)] = line_no
        rows.append((company, number, cells[2].strip(), representative))
    representatives = {(c, n) for c, n, _, r in rows if r == n}
    for company, number, _, rep in rows:
        if (
            rep
            and rep != number
            and (company, rep) not in representatives
            and not _is_registered_representative(company, rep)
        ):
            errors.append(
                f"{seen[(company, number)]}行目: 代表番号「{rep}」が代表回線として見つかりません。"
            )
    return rows, errors


def _is_registered_representative(company: str, number: str) -> bool:
    with db.database.connection_context():
        return (
            LineRecord.select()
            .join(Company)
            .where(
                (Company.name == company)
                & (LineRecord.number == number)
                & (LineRecord.representative_number == number)
            )
            .exists()
        )


def store_registry_rows(rows) -> None:
    """Insert or update registry lines (one transaction is the caller's)."""
    companies = {}
    for company, number, holder, representative in rows:
        if company not in companies:
            companies[company] = Company.get_or_create(name=company)[0]
        LineRecord.insert(
            company=companies[company],
            number=number,
            holder_name=holder,
            representative_number=representative or None,
        ).on_conflict(
            conflict_target=[LineRecord.company, LineRecord.number],
            update={
                LineRecord.holder_name: holder,
                LineRecord.representative_number: representative or None,
            },
        ).execute()


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
