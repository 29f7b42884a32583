"""Schema versions (migrations.py): a new database, an upgrade of a database the first release
wrote (tests/fixtures/release-1.*: SQLite file, or the PostgreSQL dump when
FLASK_TEST_DATABASE_URL names a database), and the refusals."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import pytest
import time_machine
from peewee import IntegrityError

import migrations
from extensions import db
from migrations import LATEST, SchemaError, current_version
from models import MODELS, Member, SchemaVersion

from .conftest import TEST_DATABASE_URL, log_in, make_app, token_in
from .live import BIN, ROOT, app_env

FIXTURES = Path(__file__).parent / "fixtures"
# The tables of the first release, and each one's rows as the upgrade must keep them.
RELEASE_1_TABLES = (
    "member",
    "loginsession",
    "credentialhistory",
    "emailchangerequest",
    "company",
    "linerecord",
    "memberline",
    "cancellation",
    "changehistory",
    "outboxmail",
)


def fresh_database(tmp_path) -> str:
    """An empty database: a new SQLite file, or the PostgreSQL test database emptied."""
    if not TEST_DATABASE_URL:
        tmp_path.mkdir(exist_ok=True)
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    with psycopg2.connect(TEST_DATABASE_URL) as connection, connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    return TEST_DATABASE_URL


def release_1_database(tmp_path) -> str:
    """A database as the first release left it (init-db, seed-demo, a few members' changes)."""
    url = fresh_database(tmp_path)
    if not TEST_DATABASE_URL:
        shutil.copy(FIXTURES / "release-1.sqlite3", tmp_path / "db.sqlite3")
        return url
    with psycopg2.connect(TEST_DATABASE_URL) as connection, connection.cursor() as cursor:
        cursor.execute((FIXTURES / "release-1.pg.sql").read_text())
    return url


# The first release's fixture was written on 2026-11-27 at 19:42 UTC (its rows' times). Tests
# that load it run an hour after that, the clock ticking, so its pending link (valid 24 hours)
# is as live as on the day it was made, whatever today's date.
RELEASE_1_WRITTEN = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)


@pytest.fixture
def release_1(tmp_path):
    """The URL of a first-release database, under the clock of the day it was written."""
    with time_machine.travel(RELEASE_1_WRITTEN):
        yield release_1_database(tmp_path)


def rows(table: str) -> list[tuple]:
    """Every row of a first-release table, its first-release columns only, in id order."""
    with db.database.connection_context():
        cursor = db.database.execute_sql(f'SELECT * FROM "{table}" ORDER BY id')  # noqa: S608
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def schema() -> dict:
    """Each table's columns and indexes, as the database reports them."""
    database = db.database
    with database.connection_context():
        return {
            table: (
                sorted(
                    (c.name, c.data_type.lower(), c.null, c.primary_key)
                    for c in database.get_columns(table)
                ),
                sorted((tuple(i.columns), i.unique) for i in database.get_indexes(table)),
                sorted(
                    (f.column, f.dest_table, f.dest_column)
                    for f in database.get_foreign_keys(table)
                ),
            )
            for table in database.get_tables()
        }


def init_db(app):
    return app.test_cli_runner().invoke(args=["init-db"])


def test_a_new_database_is_created_at_the_latest_version_and_init_db_is_idempotent(tmp_path):
    app = make_app(tmp_path, DATABASE_URL=fresh_database(tmp_path))
    result = init_db(app)
    assert result.exit_code == 0 and f"作成しました（スキーマ {LATEST}）" in result.output
    created = schema()
    with db.database.connection_context():
        assert current_version(db.database) == LATEST
    again = init_db(app)
    assert again.exit_code == 0 and f"最新です（スキーマ {LATEST}）" in again.output
    assert schema() == created
    assert {m._meta.table_name for m in MODELS} == set(created)


def test_the_first_releases_database_upgrades_keeping_every_row_and_is_served(tmp_path, release_1):
    app = make_app(tmp_path, DATABASE_URL=release_1, SECRET_KEY="release-1-fixture")
    before = {table: rows(table) for table in RELEASE_1_TABLES}
    assert len(before["member"]) == 2 and len(before["emailchangerequest"]) == 1
    assert len(before["loginsession"]) == 2 and len(before["memberline"]) == 4
    with db.database.connection_context():
        assert current_version(db.database) == 1

    result = init_db(app)
    said = f"スキーマ 1 → {LATEST}" if LATEST > 1 else "最新です（スキーマ 1）"
    assert result.exit_code == 0 and said in result.output, result.output
    with db.database.connection_context():
        assert current_version(db.database) == LATEST
    for table, kept in before.items():
        now = rows(table)
        assert [{k: row[k] for k in old} for row, old in zip(now, kept, strict=True)] == kept

    # It is served: the member whose password changed logs in with the new one, and the
    # pending contact-address link still opens its form.
    client = app.test_client()
    assert log_in(client, "hanako0002", "Hanako#2025x").status_code == 303
    assert "出身小学校の名前は？" not in client.get("/account").get_data(as_text=True)
    assert "請求 花子" in client.get("/account").get_data(as_text=True)
    with db.database.connection_context():
        body = db.database.execute_sql("SELECT body FROM outboxmail").fetchone()[0]
    link = body.split("https://billing.example.jp", 1)[1].split()[0]
    assert "秘密の質問の回答" in app.test_client().get(link).get_data(as_text=True)

    # And it has exactly the schema a new database gets.
    upgraded = schema()
    init_db(make_app(tmp_path, DATABASE_URL=fresh_database(tmp_path / "new")))
    assert schema() == upgraded


def test_a_failing_migration_changes_nothing(tmp_path, release_1, monkeypatch):
    app = make_app(tmp_path, DATABASE_URL=release_1)
    before = schema()

    def half_done(migrator):
        from peewee import IntegerField
        from playhouse.migrate import migrate

        migrate(migrator.add_column("member", "half_done", IntegerField(null=True)))
        raise RuntimeError("the migration fails half-way")

    monkeypatch.setattr(migrations, "MIGRATIONS", {**migrations.MIGRATIONS, LATEST + 1: half_done})
    monkeypatch.setattr(migrations, "LATEST", LATEST + 1)
    result = init_db(app)
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert schema() == before
    with db.database.connection_context():
        assert current_version(db.database) == 1


def test_code_older_than_the_database_refuses_to_start_and_to_upgrade(tmp_path):
    app = make_app(tmp_path, DATABASE_URL=fresh_database(tmp_path))
    init_db(app)
    with db.database.connection_context():
        SchemaVersion.update(version=LATEST + 1).execute()
    try:
        result = init_db(app)
        assert result.exit_code != 0 and f"newer than this code ({LATEST})" in result.output
        with pytest.raises(SchemaError, match=f"schema version {LATEST + 1}"):
            make_app(tmp_path, DATABASE_URL=app.config["DATABASE_URL"])
    finally:  # the PostgreSQL test database is shared by the tests that follow
        with db.database.connection_context():
            SchemaVersion.update(version=LATEST).execute()


def test_several_servers_running_init_db_at_once_all_succeed(tmp_path):
    """A deployment may run init-db on every app server at the same moment: one creates (or
    upgrades), the others wait for it and find the database up to date."""
    env = app_env(fresh_database(tmp_path))
    runs = [
        subprocess.Popen(
            [BIN / "flask", "--app", "app", "init-db"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    said = [run.communicate()[0] for run in runs]
    assert [run.returncode for run in runs] == [0] * 4, said
    assert sum("作成しました" in text for text in said) == 1
    assert sum("最新です" in text for text in said) == 3
    make_app(tmp_path, DATABASE_URL=env["FLASK_DATABASE_URL"])
    with db.database.connection_context():
        assert SchemaVersion.select().count() == 1


def test_a_first_release_d_account_link_stays_linked_and_one_d_account_has_one_member(
    tmp_path, release_1
):
    app = make_app(tmp_path, DATABASE_URL=release_1)
    assert init_db(app).exit_code == 0
    with db.database.connection_context():
        taro = Member.get(Member.login_id_key == "taro0001")
        hanako = Member.get(Member.login_id_key == "hanako0002")
    # Linked in the first release: still linked (⑨ 登録済 with [解除]), the d-account unknown.
    assert taro.d_account_linked and (taro.d_account_issuer, taro.d_account_subject) == (None, None)
    client = app.test_client()
    assert log_in(client).headers["Location"] == "/login/secret"  # his setting is on
    token = token_in(client.get("/login/secret").get_data(as_text=True))
    client.post("/login/secret", data={"csrf_token": token, "answer": "やまだ"})
    card = client.get("/account").get_data(as_text=True).split('id="d-account"')[1]
    assert "登録済" in card.split("</section>")[0] and ">解除</button>" in card
    # The database, not only the code, keeps one d-account to one member.
    identity = {"d_account_issuer": "https://id.example.jp", "d_account_subject": "abc"}
    with db.database.connection_context():
        Member.update(**identity).where(Member.id == taro.id).execute()
        with pytest.raises(IntegrityError), db.database.atomic():
            Member.update(**identity).where(Member.id == hanako.id).execute()
