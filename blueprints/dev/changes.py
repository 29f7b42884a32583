"""What the QA tools write: the demo data reset, the QA clock, the mailbox cleared."""

from __future__ import annotations

import time
from datetime import timedelta

from peewee import SqliteDatabase

import clock
from cli import seed_demo_data
from extensions import db
from models import MODELS, OutboxMail


def reset_demo() -> float:
    """Everything back to the demo data of SPEC §4: every table of models.MODELS dropped and
    created again through the migrations (so a table added later is covered without a list
    kept here), then seed-demo. Sessions, pending requests and mail go with their tables.
    Returns the seconds it took."""
    started = time.perf_counter()
    database = db.database
    with database.connection_context(), database.atomic():
        sqlite = isinstance(getattr(database, "obj", database), SqliteDatabase)
        # CASCADE (PostgreSQL): a table no longer in MODELS must not block the drop.
        database.drop_tables(MODELS, safe=True, cascade=not sqlite)
    seed_demo_data()
    return time.perf_counter() - started


def advance_clock(delta: timedelta) -> timedelta:
    """Move the app's clock `delta` further ahead, for every process; the new offset."""
    clock.set_dev_offset(clock.dev_offset() + delta)
    return clock.dev_offset()


def reset_clock() -> None:
    clock.set_dev_offset(clock.ZERO)


def clear_mail() -> int:
    """Delete every mail in the outbox; how many there were."""
    return OutboxMail.delete().execute()
