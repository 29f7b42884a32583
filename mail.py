"""Outgoing mail: written to the outbox in the caller's transaction, delivered by a background
loop in every app process.

A change and its notice commit together or not at all (the outbox row is part of the change's
transaction). Delivery never depends on the request that wrote the mail: each app process
(every gunicorn worker, `flask run`) runs one daemon thread, `Delivery`, that sends what the
outbox holds. The thread is woken right after a commit that queued mail in its own process,
and otherwise looks every POLL_SECONDS, so mail from another process, mail left by a process
that died, and mail whose retry is due all go out without anyone running a command. An attempt
first claims the row with a conditional UPDATE (`_claim`), so several processes or servers
never send one mail at the same time; a failed attempt is tried again after a backoff that
doubles up to RETRY_CAP (`next_attempt_at`). Mail is sent at least once: a process that dies
between the SMTP server's 250 and writing `sent_at` leaves its mail to be sent again when the
claim runs out, with the same Message-ID (`message_id`). With no MAIL_SERVER, mail just stays
there (see /dev/mail).
`flask --app app send-mail` sends everything waiting at once, backoff or not, for operators.

Why a thread and not a queue library (RQ, Celery, Huey, Dramatiq): those need a broker (Redis)
or their own process, and their enqueue does not commit with our transaction, so the outbox
would stay anyway; the loop below is the outbox's own reader, ~40 lines.
"""

from __future__ import annotations

import logging
import os
import smtplib
import threading
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template
from flask_mail import Message

from clock import utcnow
from extensions import db
from models import OutboxMail

log = logging.getLogger(__name__)
POLL_SECONDS = 2
RETRY_FIRST = timedelta(seconds=2)
RETRY_CAP = timedelta(minutes=10)


def claim_for() -> timedelta:
    """How long an attempt owns its mail. Longer than an attempt can take (each of its about
    seven SMTP steps gives up after MAIL_TIMEOUT_SECONDS), so a claim never runs out under a
    live sender; short enough that a mail claimed by a process that was killed goes out soon
    after (16 s with the default 2 s)."""
    return timedelta(seconds=8 * current_app.config["MAIL_TIMEOUT_SECONDS"])


def queue_mail(to: str, subject: str, template: str, **context) -> OutboxMail:
    """Put a mail in the outbox; call it inside the transaction of the change it reports."""
    message = OutboxMail.create(to=to, subject=subject, body=render_template(template, **context))
    delivery = current_app.extensions.get("mail_delivery")
    if delivery is not None and delivery.running():
        db.database.after_commit(delivery.wake.set)  # this process's loop sends it at once
    return message


def queue_notice(member, subject: str, happened: str) -> None:
    """Tell the member of a security-relevant change at their contact address, when they have
    one: what happened and when, no link (nothing to click if it was not them), and the
    受付担当 number to call. Inside the change's transaction, like queue_mail."""
    if member.email:
        queue_mail(
            member.email,
            subject,
            "mail/security_notice.txt",
            member=member,
            happened=happened,
            changed_at=utcnow(),
        )


def retry_delay(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: 2 s, 4 s, 8 s … up to RETRY_CAP."""
    return min(RETRY_CAP, RETRY_FIRST * 2 ** min(attempts - 1, 20))


def deliver_outbox(due_only: bool = False) -> tuple[int, int]:
    """Send waiting mail (with `due_only`, not before its retry time). Returns (sent, failed)."""
    query = OutboxMail.select(OutboxMail.id).where(OutboxMail.sent_at.is_null())
    if due_only:
        waited = OutboxMail.next_attempt_at.is_null() | (OutboxMail.next_attempt_at <= utcnow())
        query = query.where(waited)
    # Read the ids first: on SQLite (WAL) a read still open when the claim writes fails at once
    # ("database is locked") if another process wrote since the read began.
    waiting = [message_id for (message_id,) in query.order_by(OutboxMail.id).tuples()]
    sent = failed = 0
    for message_id in waiting:
        message = _claim(message_id)
        if message is None:
            continue
        try:
            _send(message)
        except Exception as error:  # noqa: BLE001 — any SMTP/socket failure leaves it queued
            failed += 1
            log.warning("mail %s not delivered: %s", message_id, type(error).__name__)
            OutboxMail.update(
                last_error=type(error).__name__,
                claimed_until=None,
                next_attempt_at=utcnow() + retry_delay(message.attempts),
            ).where(OutboxMail.id == message_id).execute()
        else:
            sent += 1
            OutboxMail.update(sent_at=utcnow(), last_error=None, claimed_until=None).where(
                OutboxMail.id == message_id
            ).execute()
    return sent, failed


def _claim(message_id: int) -> OutboxMail | None:
    now = utcnow()
    claimed = (
        OutboxMail.update(claimed_until=now + claim_for(), attempts=OutboxMail.attempts + 1)
        .where(
            (OutboxMail.id == message_id)
            & OutboxMail.sent_at.is_null()
            & (OutboxMail.claimed_until.is_null() | (OutboxMail.claimed_until < now))
        )
        .execute()
    )
    return OutboxMail.get_by_id(message_id) if claimed else None


def _send(outbox: OutboxMail) -> None:
    """Hand one mail to the SMTP server. Flask-Mail composes it; smtplib sends it here because
    Flask-Mail gives smtplib no timeout, and a server that never answers would hold the loop
    (and outlive the claim)."""
    config = current_app.config
    message = Message(outbox.subject, recipients=[outbox.to], body=outbox.body)
    message.msgId = message_id(outbox)
    timeout = config["MAIL_TIMEOUT_SECONDS"]
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME") and config.get("MAIL_PASSWORD"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.sendmail(message.sender, [outbox.to], message.as_bytes())


def message_id(outbox: OutboxMail) -> str:
    """The mail's one Message-ID, the same on every attempt, so that the copies of a mail sent
    again after a crash (see the module's doc) are seen as one. Its row id with the row's
    creation time to the microsecond: ids alone start again at 1 after a QA reset, or go to new
    mail again after a restored backup, and a mail system that drops a Message-ID it has seen
    would then drop a different mail. Under the site's domain (EXTERNAL_BASE_URL's host)."""
    domain = urlsplit(current_app.config["EXTERNAL_BASE_URL"]).hostname
    return f"<outbox-{outbox.id}.{outbox.created_at:%Y%m%d%H%M%S%f}@{domain}>"


class Delivery:
    """The delivery loop of one app in one process (app.extensions["mail_delivery"])."""

    def __init__(self, app: Flask):
        self.app = app
        self.pid: int | None = None
        self.wake = threading.Event()
        self.stopping = False
        self.lock = threading.Lock()

    def running(self) -> bool:
        return self.pid == os.getpid()

    def start(self) -> None:
        """Start the thread, once per process: a forked child (a gunicorn worker of a preloaded
        app) has no thread of its parent's, so its pid decides."""
        if self.running():
            return
        with self.lock:
            if self.running():
                return
            self.wake, self.stopping = threading.Event(), False
            self.thread = threading.Thread(target=self._run, name="mail-delivery", daemon=True)
            self.thread.start()
            self.pid = os.getpid()

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        self.thread.join()
        self.pid = None

    def _run(self) -> None:
        while not self.stopping:
            try:
                with self.app.app_context(), db.database.connection_context():
                    deliver_outbox(due_only=True)
            except Exception:  # the database away for a moment: log it, look again later
                log.exception("mail delivery loop")
            self.wake.wait(POLL_SECONDS)
            self.wake.clear()


def init_app(app: Flask) -> None:
    """Every process that serves requests delivers mail: gunicorn starts the loop as a worker
    starts (gunicorn.conf.py post_worker_init), any other server at its first request. Never
    in CLI commands, nor in `flask run`'s reloader parent, which serves nothing."""
    delivery = app.extensions["mail_delivery"] = Delivery(app)
    if app.config["MAIL_SERVER"] and app.config["MAIL_DELIVERY_THREAD"]:
        app.before_request(delivery.start)


def start_delivery(app) -> None:
    """Start `app`'s loop now when it has one and the settings ask for it."""
    delivery = getattr(app, "extensions", {}).get("mail_delivery")
    if delivery and app.config["MAIL_SERVER"] and app.config["MAIL_DELIVERY_THREAD"]:
        delivery.start()
