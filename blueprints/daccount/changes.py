"""The d-account link, written; and the one-time values of a d-account login, spent."""

from __future__ import annotations

import hashlib

from peewee import IntegrityError

from clock import utcnow
from extensions import db
from mail import queue_mail, queue_notice
from models import DAccountUsedKey, Member, record_change

from .rules import VALID_FOR, Problem


def unlink(member: Member) -> bool:
    """Remove the member's d-account link. False when there was none: the conditional UPDATE
    makes a repeated or forged POST change nothing."""
    with db.database.atomic():
        unlinked = (
            Member.update(d_account_linked=False, d_account_issuer=None, d_account_subject=None)
            .where((Member.id == member.id) & Member.d_account_linked)
            .execute()
        )
        if unlinked:
            record_change(member, "dアカウント連携", "登録解除")
            queue_notice(
                member,
                "【WebBilling】dアカウント連携解除のお知らせ",
                "Webビリングとdアカウントの連携が解除されました。",
            )
    member.d_account_linked = False
    member.d_account_issuer = member.d_account_subject = None
    return bool(unlinked)


def link(member: Member, issuer: str, subject: str, once: str) -> Problem | None:
    """連携登録: the member's d-account becomes (issuer, subject), with its 変更履歴 row and a
    notice to the contact address, in one transaction. `once` is the pending link's one-time
    value: spent here, so the same pending link never links twice. None when linked."""
    with db.database.atomic():
        Member.lock(member.id)
        member = Member.get_by_id(member.id)
        if member.d_account_subject is not None and (
            member.d_account_issuer,
            member.d_account_subject,
        ) != (issuer, subject):
            return Problem.member_has_another
        if not spend(once):
            return Problem.link_expired
        try:
            with db.database.atomic():  # a savepoint: the unique index may refuse
                Member.update(
                    d_account_linked=True, d_account_issuer=issuer, d_account_subject=subject
                ).where(Member.id == member.id).execute()
        except IntegrityError:
            return Problem.linked_elsewhere
        record_change(member, "dアカウント連携", "登録")
        if member.email:
            queue_mail(
                member.email,
                "【WebBilling】dアカウント連携登録のお知らせ",
                "mail/daccount_linked.txt",
                member=member,
                linked_at=utcnow(),
            )
    return None


def spend(value: str) -> bool:
    """Mark a one-time value used; False when it already was (a replay, or a race lost).
    Values spent longer ago than they could still be used are forgotten here too."""
    now = utcnow()
    key = hashlib.sha256(value.encode()).hexdigest()
    with db.database.atomic():
        DAccountUsedKey.delete().where(DAccountUsedKey.used_at < now - VALID_FOR).execute()
        try:
            with db.database.atomic():
                DAccountUsedKey.create(key_hash=key, used_at=now)
        except IntegrityError:
            return False
    return True


def spent(value: str) -> bool:
    key = hashlib.sha256(value.encode()).hexdigest()
    return DAccountUsedKey.select().where(DAccountUsedKey.key_hash == key).exists()
