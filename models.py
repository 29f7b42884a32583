"""Peewee models: members and everything a member can change (SPEC §3).

Times are stored as naive UTC datetimes and shown in Japan time (see `clock.py`).
"""

from __future__ import annotations

from datetime import datetime

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from clock import utcnow
from extensions import db

# The secret questions a member can pick (order is the select's order).
SECRET_QUESTIONS = (
    "母親の旧姓は？",
    "最初に飼ったペットの名前は？",
    "出身小学校の名前は？",
    "子供の頃のあだ名は？",
    "好きな食べ物は？",
    "初めて買った車の車種は？",
)


class Member(db.Model):
    login_id = CharField(max_length=31)
    # Lower-cased login ID: the unique index makes "unused by any other member,
    # ignoring case" a database guarantee, not only a check.
    login_id_key = CharField(max_length=31, unique=True)
    password_hash = CharField()
    customer_name = CharField()
    registered_at = DateTimeField(default=utcnow)
    cancelled_at = DateTimeField(null=True)
    daytime_phone = CharField(max_length=11, null=True)
    email = CharField(null=True)
    secret_question = CharField(null=True)
    secret_answer_hash = CharField(null=True)
    secret_auth_enabled = BooleanField(default=False)
    # ⑨: linked or not. The linked d-account is its OpenID provider's issuer and subject (one
    # d-account per member, one member per d-account: the unique index below). A link made by
    # the first release has no issuer/subject: still linked, known once linked again.
    d_account_linked = BooleanField(default=False)
    d_account_issuer = CharField(null=True)
    d_account_subject = CharField(null=True)
    last_login_at = DateTimeField(null=True)
    failed_logins = IntegerField(default=0)
    locked_until = DateTimeField(null=True)

    class Meta:
        indexes = ((("d_account_issuer", "d_account_subject"), True),)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    @classmethod
    def lock(cls, member_id: int) -> None:
        """Serialise the changes of one member inside the caller's transaction: PostgreSQL
        locks the member's row; SQLite's BEGIN IMMEDIATE already holds the write lock."""
        if db.database.for_update:
            cls.select(cls.id).where(cls.id == member_id).for_update().execute()


class LoginSession(db.Model):
    """One logged-in browser. The cookie carries a random token; only its SHA-256 is stored,
    so deleting the row really ends that session wherever the cookie is replayed."""

    token_hash = CharField(max_length=64, unique=True)
    member = ForeignKeyField(Member, backref="login_sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    # The member's login before this one, as shown in this session's header.
    previous_login_at = DateTimeField(null=True)


class PendingLogin(db.Model):
    """A login waiting for its secret question (SPEC §2.0): the member proved their password
    (or d-account) and has 10 minutes to answer. The browser holds a random token; only its
    SHA-256 is stored. Used once; deleted when the member's login ID or password changes."""

    token_hash = CharField(max_length=64, unique=True)
    member = ForeignKeyField(Member, backref="pending_logins", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow, index=True)
    next_url = TextField(null=True)


class LoginDecoy(db.Model):
    """One row, changed by every check of a secret that reserved nothing (an unknown login ID,
    a locked account), so that it costs the same write as a wrong password's reservation and
    the answers take the same time (blueprints/auth/login.py). `writes` means nothing else."""

    writes = IntegerField(default=0)


class CredentialHistory(db.Model):
    """Past and current login IDs (lower-cased) and password hashes, newest last."""

    member = ForeignKeyField(Member, backref="credential_history", on_delete="CASCADE")
    kind = CharField(max_length=16)  # "login_id" | "password"
    value = CharField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("member", "kind", "created_at"), False),)


class EmailChangeRequest(db.Model):
    """A requested contact-address change waiting for its mailed link (SPEC §2.3)."""

    member = ForeignKeyField(Member, backref="email_requests", on_delete="CASCADE")
    new_email = CharField()
    secret_question = CharField()
    secret_answer_hash = CharField()
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    # pending → used | replaced | killed | cancelled
    status = CharField(max_length=16, default="pending", index=True)
    failed_attempts = IntegerField(default=0)
    finished_at = DateTimeField(null=True)
    # The OutboxMail carrying this request's link, until the link is cut out of its body (the
    # request ended or expired: see email.changes.forget_links).
    link_mail_id = IntegerField(null=True)


class Company(db.Model):
    name = CharField(unique=True)


class LineRecord(db.Model):
    """The carriers' line registry: who holds which number, and its bulk-billing group."""

    company = ForeignKeyField(Company, backref="lines")
    number = CharField(max_length=11)
    holder_name = CharField()
    # Number of the bulk-billing (一括請求) group's representative; None outside any group.
    representative_number = CharField(max_length=11, null=True, index=True)

    class Meta:
        indexes = ((("company", "number"), True), (("number",), False))


class MemberLine(db.Model):
    member = ForeignKeyField(Member, backref="lines", on_delete="CASCADE")
    line = ForeignKeyField(LineRecord, backref="members")
    registered_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("member", "line"), True),)


class Cancellation(db.Model):
    member = ForeignKeyField(Member, backref="cancellations", unique=True, on_delete="CASCADE")
    reason = CharField()
    cancelled_at = DateTimeField(default=utcnow)


class ChangeHistory(db.Model):
    """変更履歴: one row per change a member made; `detail` is already masked."""

    member = ForeignKeyField(Member, backref="changes", on_delete="CASCADE")
    kind = CharField(max_length=32)
    detail = CharField(default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("member", "created_at"), False),)


class OutboxMail(db.Model):
    """Mail written in the same transaction as the change that causes it (see mail.py)."""

    to = CharField()
    subject = CharField()
    body = TextField()
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True, index=True)
    attempts = IntegerField(default=0)
    last_error = CharField(null=True)
    # Set while one process is delivering it, so two never send the same mail.
    claimed_until = DateTimeField(null=True)
    # After a failed attempt, not tried again before this (a backoff growing to a cap).
    next_attempt_at = DateTimeField(null=True)


class DAccountUsedKey(db.Model):
    """One-time values of a d-account login already spent (a callback's `state`, a pending
    link): a replay finds its row. Kept 10 minutes, after which the value has expired anyway."""

    key_hash = CharField(max_length=64, unique=True)
    used_at = DateTimeField(default=utcnow, index=True)


class SpentToken(db.Model):
    """A final step's one-time token already used (once.py): a repeat of the same submission
    finds its row and is answered with the step's 完了. Kept as long as a token is accepted."""

    key_hash = CharField(max_length=64, unique=True)
    spent_at = DateTimeField(default=utcnow, index=True)


class RateLimitCounter(db.Model):
    """One counter of the `limits` library (ratelimit.DatabaseStorage): the hits of one client
    in one window of one limit, until `expires_at` (seconds since the epoch)."""

    key = CharField(primary_key=True)
    hits = IntegerField()
    expires_at = DoubleField(index=True)


class SchemaVersion(db.Model):
    """One row: the schema version this database is at (see migrations.py)."""

    version = IntegerField()


MODELS = [
    SchemaVersion,
    Member,
    LoginSession,
    PendingLogin,
    LoginDecoy,
    CredentialHistory,
    EmailChangeRequest,
    Company,
    LineRecord,
    MemberLine,
    Cancellation,
    ChangeHistory,
    OutboxMail,
    DAccountUsedKey,
    RateLimitCounter,
    SpentToken,
]


def record_change(member: Member, kind: str, detail: str = "") -> None:
    """Add a 変更履歴 row; call it inside the transaction that makes the change."""
    ChangeHistory.create(member=member, kind=kind, detail=detail)
