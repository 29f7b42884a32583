"""Schema versions, and the one way to reach the latest: `flask --app app init-db`.

Version 1 is the schema of the first release (commit 8894110, which had no version table).
Each later version is one function in MIGRATIONS, written with playhouse.migrate and applied in
order. A new database is created from the current models and stamped with the latest version;
tests/test_migrations.py proves that upgrading a database the first release wrote gives the
same schema, with every row kept. Every schema change adds a migration here and extends that
test.

An upgrade runs in one transaction (SQLite and PostgreSQL both have transactional DDL), so it
commits whole or not at all. On SQLite, foreign keys are off while it runs — a table that
playhouse.migrate rebuilds must not cascade deletes to its children — and are checked before
it commits. Several app servers may run init-db at the same moment: SQLite's BEGIN IMMEDIATE
already lets one at a time in; on PostgreSQL a transaction-scoped advisory lock does, so the
others wait, then find the database up to date.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import (
    CharField,
    Database,
    DateTimeField,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    Model,
    OperationalError,
    PostgresqlDatabase,
    SqliteDatabase,
    TextField,
)
from playhouse.migrate import SchemaMigrator, migrate

from models import MODELS, SchemaVersion

# A migration that creates a table declares the table as it was at that version (a model of
# its own, bound to the migrator's database), never through models.py, which moves on.


def _v2_d_account_identity(migrator: SchemaMigrator) -> None:
    """d-account login (#15): the linked d-account's issuer and subject, unique together, and
    the spent one-time values. A first-release link (d_account_linked set) stays linked, its
    issuer and subject unknown (NULL) until the member links a d-account again."""
    migrate(
        migrator.add_column("member", "d_account_issuer", CharField(null=True)),
        migrator.add_column("member", "d_account_subject", CharField(null=True)),
        migrator.add_index("member", ("d_account_issuer", "d_account_subject"), unique=True),
    )

    class DAccountUsedKey(Model):
        key_hash = CharField(max_length=64, unique=True)
        used_at = DateTimeField(index=True)

        class Meta:
            database = migrator.database
            table_name = "daccountusedkey"

    migrator.database.create_tables([DAccountUsedKey])


def _v3_rate_limit_counters(migrator: SchemaMigrator) -> None:
    """Rate-limit counters in the database (ratelimit.DatabaseStorage, #11)."""

    class RateLimitCounter(Model):
        key = CharField(primary_key=True)
        hits = IntegerField()
        expires_at = DoubleField(index=True)

        class Meta:
            database = migrator.database
            table_name = "ratelimitcounter"

    migrator.database.create_tables([RateLimitCounter])


def _v4_pending_logins(migrator: SchemaMigrator) -> None:
    """The secret-question login step held on the server, and the row that unknown login IDs
    and locked accounts write (#11)."""

    class Member(Model):
        class Meta:
            database = migrator.database
            table_name = "member"

    class PendingLogin(Model):
        token_hash = CharField(max_length=64, unique=True)
        member = ForeignKeyField(Member, on_delete="CASCADE")
        created_at = DateTimeField(index=True)
        next_url = TextField(null=True)

        class Meta:
            database = migrator.database
            table_name = "pendinglogin"

    class LoginDecoy(Model):
        writes = IntegerField(default=0)

        class Meta:
            database = migrator.database
            table_name = "logindecoy"

    migrator.database.create_tables([PendingLogin, LoginDecoy])


def _v5_mail_retry_and_links(migrator: SchemaMigrator) -> None:
    """Mail delivered by a background loop with backoff (#11): when a failed mail is tried
    again; and which mail carries an email-change request's link, so the link can be cut out
    of the stored body once the request has ended or expired."""
    migrate(
        migrator.add_column("outboxmail", "next_attempt_at", DateTimeField(null=True)),
        migrator.add_column("emailchangerequest", "link_mail_id", IntegerField(null=True)),
    )


def _v6_spent_tokens(migrator: SchemaMigrator) -> None:
    """Final steps safe to repeat (once.py, #12): the one-time tokens already used."""

    class SpentToken(Model):
        key_hash = CharField(max_length=64, unique=True)
        spent_at = DateTimeField(index=True)

        class Meta:
            database = migrator.database
            table_name = "spenttoken"

    migrator.database.create_tables([SpentToken])


# version → the function that brings the version before it up to it, applied in order.
MIGRATIONS: dict[int, Callable[[SchemaMigrator], None]] = {
    2: _v2_d_account_identity,
    3: _v3_rate_limit_counters,
    4: _v4_pending_logins,
    5: _v5_mail_retry_and_links,
    6: _v6_spent_tokens,
}
LATEST = max(MIGRATIONS)
UPGRADE_LOCK = 0x77620001  # pg_advisory_xact_lock's key: any number no other code uses


class SchemaError(RuntimeError):
    pass


def current_version(database: Database) -> int | None:
    """The schema version of `database`; None for an empty one."""
    tables = set(database.get_tables())
    if SchemaVersion._meta.table_name in tables:
        return SchemaVersion.select(SchemaVersion.version).scalar()
    return 1 if "member" in tables else None


def refuse_newer(database: Database) -> None:
    """Code older than the database it is given must not run on it (a rolled-back release
    would misread or damage what the newer one wrote). A database that cannot be reached yet
    is not refused here: /healthz reports it."""
    try:
        with database.connection_context():
            version = current_version(database)
    except OperationalError:
        return
    if version is not None and version > LATEST:
        raise SchemaError(
            f"The database is at schema version {version}, newer than this code ({LATEST}): "
            "run the release that wrote it."
        )


def upgrade(database: Database) -> tuple[int | None, int]:
    """Create or upgrade the schema; returns (version before, version after)."""
    refuse_newer(database)
    with database.connection_context():
        engine = getattr(database, "obj", database)  # (a Proxy)
        sqlite = isinstance(engine, SqliteDatabase)
        if sqlite:
            database.pragma("foreign_keys", 0)
        try:
            with database.atomic():
                if isinstance(engine, PostgresqlDatabase):
                    database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (UPGRADE_LOCK,))
                before = current_version(database)
                if before is None:
                    database.create_tables(MODELS)
                    SchemaVersion.create(version=LATEST)
                    return None, LATEST
                migrator = SchemaMigrator.from_database(database)
                for version in sorted(v for v in MIGRATIONS if v > before):
                    MIGRATIONS[version](migrator)
                if before < LATEST or not SchemaVersion.table_exists():
                    database.create_tables([SchemaVersion])  # the first release had none
                    SchemaVersion.delete().execute()
                    SchemaVersion.create(version=LATEST)
                if sqlite and database.execute_sql("PRAGMA foreign_key_check").fetchall():
                    raise SchemaError("The upgrade would leave rows without their parent.")
                return before, LATEST
        finally:
            if sqlite:
                database.pragma("foreign_keys", 1)
