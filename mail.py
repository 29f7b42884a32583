"""Outgoing mail: written to the outbox in the caller's transaction, delivered after commit.

A change and its notice commit together or not at all. Delivery happens once the response has
gone out (so a slow SMTP server never slows the page); a failed delivery stays in the outbox
for `flask --app app send-mail`. With no MAIL_SERVER, mail just stays there (see /dev/mail).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import after_this_request, current_app, has_request_context, render_template
from flask_mail import Message

from clock import utcnow
from extensions import db, mail
from models import OutboxMail

log = logging.getLogger(__name__)
CLAIM_FOR = timedelta(minutes=5)


def queue_mail(to: str, subject: str, template: str, **context) -> OutboxMail:
    """Put a mail in the outbox; call it inside the transaction of the change it reports."""
    message = OutboxMail.create(to=to, subject=subject, body=render_template(template, **context))
    if current_app.config["MAIL_SERVER"] and has_request_context():
        db.database.after_commit(lambda: _deliver_after_response(message.id))
    return message


def _deliver_after_response(message_id: int) -> None:
    app = current_app._get_current_object()

    @after_this_request
    def deliver_on_close(response):
        def deliver():
            with app.app_context(), db.database.connection_context():
                deliver_outbox([message_id])

        response.call_on_close(deliver)
        return response


def deliver_outbox(ids: list[int] | None = None) -> tuple[int, int]:
    """Send waiting mail (all of it, or just `ids`). Returns (sent, failed)."""
    query = OutboxMail.select(OutboxMail.id).where(OutboxMail.sent_at.is_null())
    if ids is not None:
        query = query.where(OutboxMail.id.in_(ids))
    sent = failed = 0
    for (message_id,) in query.order_by(OutboxMail.id).tuples():
        message = _claim(message_id)
        if message is None:
            continue
        try:
            mail.send(Message(message.subject, recipients=[message.to], body=message.body))
        except Exception as error:  # noqa: BLE001 — any SMTP/socket failure leaves it queued
            failed += 1
            log.warning("mail %s not delivered: %s", message_id, type(error).__name__)
            OutboxMail.update(last_error=type(error).__name__, claimed_until=None).where(
                OutboxMail.id == message_id
            ).execute()
        else:
            sent += 1
            OutboxMail.update(sent_at=utcnow(), last_error=None).where(
                OutboxMail.id == message_id
            ).execute()
    return sent, failed


def _claim(message_id: int) -> OutboxMail | None:
    now = utcnow()
    claimed = (
        OutboxMail.update(claimed_until=now + CLAIM_FOR, attempts=OutboxMail.attempts + 1)
        .where(
            (OutboxMail.id == message_id)
            & OutboxMail.sent_at.is_null()
            & (OutboxMail.claimed_until.is_null() | (OutboxMail.claimed_until < now))
        )
        .execute()
    )
    return OutboxMail.get_by_id(message_id) if claimed else None
