"""The two-phase contact-address change (SPEC §2.3), apart from HTTP.

A request is an `EmailChangeRequest` row; the mailed link carries only a signed, timed token
naming that row. The row's status is the one truth about the link:
pending → used (confirmed) | replaced (a newer request) | killed (5 wrong answers) |
cancelled (the member cancelled it). Every move out of `pending` is a conditional UPDATE
(`… WHERE status = 'pending'`), so of two simultaneous clicks exactly one wins.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, timedelta
from enum import Enum

from flask import current_app, has_request_context, request, url_for
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

import once
from clock import utcnow
from extensions import db
from hashing import hash_secret, verify_secret
from mail import queue_mail
from models import EmailChangeRequest, Member, OutboxMail, record_change
from prepared import Prepared

from .rules import mask_email

TOKEN_SALT = "email-change-confirm"
MAX_WRONG_ANSWERS = 5
LINK_SUBJECT = "【WebBilling】お申し込みURLのご連絡"
LINK = re.compile(r"\S*/email/confirm/\S+")
LINK_REMOVED = "（このURLは、お手続きが終わったか有効期限が切れたため、削除しました）"
NOTICE_SUBJECT = "【WebBilling】連絡先メールアドレス変更のお知らせ"


class DeadLink(Enum):
    """Why a mailed link cannot be used, and what its page says: the status (404 for a link we
    never issued or whose row is gone, 410 Gone for one we issued that can no longer be used),
    the title and the text ({hours} and {max_tries} filled in). The names are the request's
    statuses, plus `forged`, `expired` and `closed` (membership cancelled)."""

    forged = (
        404,
        "URLが正しくありません",
        "このURLは正しくありません。メールに記載のURLが途中で切れていないかご確認のうえ、"
        "URL全体を開いてください。",
        "解決しない場合は、ログインして基本情報の連絡先メールアドレス［変更］から、"
        "もう一度お手続きをお願いいたします。",
    )
    expired = (
        410,
        "URLの有効期限切れ",
        "このURLは有効期限（{hours}時間）が切れています。",
        "お手数ですが、ログインして基本情報の連絡先メールアドレス［変更］から、もう一度お手続きを"
        "お願いいたします（お手続き中の変更があれば、確認メールを再送できます）。",
    )
    used = (
        410,
        "お手続き済みのURLです",
        "このURLのお手続きはすでに完了しています。同じURLは一度しか使えません。",
        "ご登録内容は、ログインして基本情報でご確認いただけます。",
    )
    replaced = (
        410,
        "新しいお申し込みにより無効になったURLです",
        "このURLより後に、連絡先メールアドレス登録/変更のお申し込み（または確認メールの再送）が"
        "あったため、このURLは使えなくなりました。",
        "最後にお送りしたメールのURLを開いてください。",
    )
    killed = (
        410,
        "無効になったURLです",
        "秘密の質問の回答を{max_tries}回誤ったため、このURLは使えなくなりました。",
        "お手数ですが、ログインして基本情報の連絡先メールアドレス［変更］から、もう一度お手続きを"
        "お願いいたします。",
    )
    cancelled = (
        410,
        "取り消されたお申し込みのURLです",
        "このお申し込みは取り消されたため、このURLは使えません。",
        "変更をご希望の場合は、ログインして基本情報の連絡先メールアドレス［変更］から、"
        "もう一度お手続きをお願いいたします。",
    )
    closed = (
        410,
        "お手続きできません",
        "Webビリングは解約済みのため、このお手続きはできません。",
    )

    def __init__(self, status: int, title: str, *paragraphs: str):
        self.status, self.title = status, title
        self.paragraphs = paragraphs

    def text(self) -> list[str]:
        return [p.format(hours=valid_hours(), max_tries=MAX_WRONG_ANSWERS) for p in self.paragraphs]


class _ClockSigner(TimestampSigner):
    """Stamps and checks the link's age with the app's clock (clock.utcnow), not time.time(),
    so the link's hours follow the QA clock in development as its row's expires_at does."""

    def get_timestamp(self) -> int:
        return int(utcnow().replace(tzinfo=UTC).timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"],
        salt=TOKEN_SALT,
        signer=_ClockSigner,
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def valid_hours() -> int:
    return int(current_app.config["EMAIL_CONFIRM_HOURS"])


def site_url() -> str:
    """Scheme, host and port of the links in mail; the one place that chooses them.
    Production: EXTERNAL_BASE_URL, never the request's Host header (the client chooses that
    header, so a link built from it could point anywhere). Development: the address the
    browser used for the request that causes the mail, so a link in /dev/mail opens on
    whatever host and port QA is testing (`flask dev scenario --base` gives one from the CLI)."""
    if current_app.debug and has_request_context():
        return request.host_url
    return current_app.config["EXTERNAL_BASE_URL"]


def confirm_url(change: EmailChangeRequest) -> str:
    """The link for the mail (see site_url)."""
    path = url_for("email.confirm_link", token=_serializer().dumps(change.id))
    return site_url().rstrip("/") + path


# Asked on every view of 基本情報 (the ⑥ card), hence prepared.
_pending = Prepared(
    lambda member_id: (
        EmailChangeRequest.select()
        .where((EmailChangeRequest.member == member_id) & (EmailChangeRequest.status == "pending"))
        .order_by(EmailChangeRequest.id.desc())
        .limit(1)
    ),
    int,
)


def pending_change(member_id: int) -> EmailChangeRequest | None:
    """The member's request still waiting for its link, if any; `is_expired` says whether
    its link is past its time (the card then offers only to resend or cancel)."""
    change = next(iter(_pending(member_id)), None)
    if change is not None:
        change.is_expired = change.expires_at <= utcnow()
    return change


def forget_links(where) -> int:
    """Cut the confirmation link out of the stored mail of the requests matching `where`, which
    have ended (used, replaced, killed, cancelled, the membership cancelled) or expired: the
    outbox keeps mail bodies, and a live link there would be a key lying around. Call it in
    the transaction that ends them. How many mails were changed."""
    changes = list(
        EmailChangeRequest.select(EmailChangeRequest.id, EmailChangeRequest.link_mail_id).where(
            where & EmailChangeRequest.link_mail_id.is_null(False)
        )
    )
    for change in changes:
        mail = OutboxMail.get_or_none(OutboxMail.id == change.link_mail_id)
        if mail is not None:
            mail.body = LINK.sub(LINK_REMOVED, mail.body)
            mail.save(only=[OutboxMail.body])
    ids = [change.id for change in changes]
    EmailChangeRequest.update(link_mail_id=None).where(EmailChangeRequest.id.in_(ids)).execute()
    return len(changes)


def _pending_of(member_id: int):
    return (EmailChangeRequest.member == member_id) & (EmailChangeRequest.status == "pending")


def _replace_pending(member_id: int) -> None:
    forget_links(_pending_of(member_id))
    EmailChangeRequest.update(status="replaced", finished_at=utcnow()).where(
        (EmailChangeRequest.member == member_id) & (EmailChangeRequest.status == "pending")
    ).execute()


def _new_request(member: Member, new_email: str, question: str, answer_hash: str):
    """Replace any pending request with a new one and mail its link (in the caller's
    transaction, which has locked the member)."""
    _replace_pending(member.id)
    now = utcnow()
    change = EmailChangeRequest.create(
        member=member,
        new_email=new_email,
        secret_question=question,
        secret_answer_hash=answer_hash,
        created_at=now,
        expires_at=now + timedelta(hours=valid_hours()),
    )
    change.link_mail_id = queue_mail(
        new_email,
        LINK_SUBJECT,
        "mail/confirm_link.txt",
        url=confirm_url(change),
        hours=valid_hours(),
        expires_at=change.expires_at,
    ).id
    change.save(only=[EmailChangeRequest.link_mail_id])
    return change


def request_email_change(
    member: Member, new_email: str, question: str, answer: str, once_token: str | None = None
):
    """受付: store the request (the answer only as argon2id) and mail the link to `new_email`.
    The member's address does not change until the link is used. A repeat of the same
    submission (`once_token` spent) raises once.Repeated: no second mail, and the first
    link stays valid."""
    answer_hash = hash_secret(answer)  # slow: outside the transaction
    with db.database.atomic():
        Member.lock(member.id)  # two requests at once cannot both stay pending
        once.spend(once_token, "email")
        change = _new_request(member, new_email, question, answer_hash)
        record_change(
            member, "連絡先メールアドレス変更受付", f"{mask_email(new_email)} 宛に確認メールを送信"
        )
    return change


def resend_email_change(member: Member, once_token: str | None = None) -> EmailChangeRequest | None:
    """Send the link again as a new request with a fresh validity, so the old link (maybe
    expired, maybe lost) stops working. None if nothing is pending. A repeat of the same
    [再送] (`once_token` spent) raises once.Repeated: the link just sent stays valid."""
    with db.database.atomic():
        Member.lock(member.id)  # two requests at once cannot both stay pending
        once.spend(once_token, "resend")
        old = pending_change(member.id)
        if old is None:
            return None
        change = _new_request(member, old.new_email, old.secret_question, old.secret_answer_hash)
        record_change(
            member,
            "連絡先メールアドレス変更受付",
            f"{mask_email(old.new_email)} 宛に確認メールを再送",
        )
    return change


def cancel_email_change(member: Member, why: str = "変更のお手続きを取り消し") -> str | None:
    """Cancel the pending request (its link then answers as a cancelled one), with a 変更履歴
    row saying `why`. The address it was for; None if nothing was pending."""
    with db.database.atomic():
        forget_links(_pending_of(member.id))
        cancelled = list(
            EmailChangeRequest.update(status="cancelled", finished_at=utcnow())
            .where(_pending_of(member.id))
            .returning(EmailChangeRequest.new_email)
            .execute()
        )
        if cancelled:
            record_change(member, "連絡先メールアドレス変更取消", why)
    return cancelled[0].new_email if cancelled else None


def open_link(token: str) -> tuple[EmailChangeRequest | None, DeadLink | None]:
    """The request a link names and what stops it being used, if anything. Reads only:
    opening a link changes nothing."""
    expired = False
    try:
        change_id = _serializer().loads(token, max_age=valid_hours() * 3600)
    except SignatureExpired as error:
        # The signature is ours, only too old: still say "used" if it was used.
        expired = True
        try:
            change_id = _serializer().load_payload(error.payload)
        except BadData:
            return None, DeadLink.forged
    except BadData:
        return None, DeadLink.forged
    if not isinstance(change_id, int):
        return None, DeadLink.forged
    change = (
        EmailChangeRequest.select(EmailChangeRequest, Member)
        .join(Member)
        .where(EmailChangeRequest.id == change_id)
        .first()
    )
    if change is None:  # never issued, or expired and purged (flask purge)
        return None, DeadLink.expired if expired else DeadLink.forged
    return change, _problem(change, expired)


def _problem(change: EmailChangeRequest, expired: bool = False) -> DeadLink | None:
    if change.status != "pending":
        return DeadLink[change.status]
    if expired or change.expires_at <= utcnow():
        return DeadLink.expired
    if change.member.is_cancelled:
        return DeadLink.closed
    return None


def confirm_email_change(change: EmailChangeRequest, question: str, answer: str):
    """本登録: with the question AND answer given when applying (exactly as typed), make the
    address and the secret Q/A the member's, once. Returns (problem, tries_left): (None, 0)
    done; (None, n) a wrong pair with n tries left; (problem, 0) the link is dead now."""
    right = verify_secret(change.secret_answer_hash, answer)  # slow: outside the transaction
    right = right and question == change.secret_question
    now = utcnow()
    with db.database.atomic():
        if not right:
            return _count_wrong_answer(change)
        won = (
            EmailChangeRequest.update(status="used", finished_at=now)
            .where(
                (EmailChangeRequest.id == change.id)
                & (EmailChangeRequest.status == "pending")
                & (EmailChangeRequest.expires_at > now)
            )
            .execute()
        )
        if won != 1:  # someone else used, replaced, cancelled or killed it first
            return _problem(EmailChangeRequest.get_by_id(change.id), expired=True), 0
        forget_links(EmailChangeRequest.id == change.id)
        member = Member.get_by_id(change.member_id)
        Member.update(
            email=change.new_email,
            secret_question=change.secret_question,
            secret_answer_hash=change.secret_answer_hash,
        ).where(Member.id == member.id).execute()
        record_change(
            member,
            "連絡先メールアドレス",
            f"{mask_email(change.new_email)} に変更（秘密の質問と回答も更新）",
        )
        if member.email and member.email.lower() != change.new_email.lower():
            # The old address hears of it, with no link in it: nothing to click if it was not them.
            queue_mail(
                member.email,
                NOTICE_SUBJECT,
                "mail/changed_notice.txt",
                changed_at=now,
                new_email=mask_email(change.new_email),
            )
    return None, 0


def _count_wrong_answer(change: EmailChangeRequest):
    counted = (
        EmailChangeRequest.update(failed_attempts=EmailChangeRequest.failed_attempts + 1)
        .where((EmailChangeRequest.id == change.id) & (EmailChangeRequest.status == "pending"))
        .execute()
    )
    fresh = EmailChangeRequest.get_by_id(change.id)
    if not counted:
        return _problem(fresh, expired=True), 0
    if fresh.failed_attempts >= MAX_WRONG_ANSWERS:
        fresh.status, fresh.finished_at = "killed", utcnow()
        fresh.save(only=[EmailChangeRequest.status, EmailChangeRequest.finished_at])
        forget_links(EmailChangeRequest.id == change.id)
        record_change(
            fresh.member_id,
            "連絡先メールアドレス変更無効",
            "秘密の質問の回答を5回誤り、URLを無効化",
        )
        return DeadLink.killed, 0
    return None, MAX_WRONG_ANSWERS - fresh.failed_attempts
