"""Per-client rate limits on the few routes that need them, with the `limits` library (the
engine of Flask-Limiter). Flask-Limiter itself checks every request for app-wide limits we
do not have, which cost 10% of a basic-info page view; this checks only the limited routes.

`limits` does the counting (fixed windows); its counters live where RATELIMIT_STORAGE_URI
says: `database://` (the default) is DatabaseStorage below, a table in our own database, so
every worker and every app server on that database counts together and a restart forgets
nothing; `redis://…` is the library's own Redis store.
"""

from __future__ import annotations

import time
from functools import cache, wraps

from flask import Flask, abort, current_app, request
from limits import parse_many, storage, strategies
from peewee import EXCLUDED, Case, DatabaseError

from models import RateLimitCounter


class DatabaseStorage(storage.Storage):
    """A `limits` storage (its Storage interface, fixed windows only) in the RateLimitCounter
    table. One statement per hit, atomic on SQLite and PostgreSQL alike: insert the counter,
    or add to it, or start it again when its window has passed. Runs on the caller's
    connection (FlaskDB opens one per request)."""

    STORAGE_SCHEME = ["database"]

    @property
    def base_exceptions(self) -> type[Exception]:
        return DatabaseError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now, counter = time.time(), RateLimitCounter
        ended = counter.expires_at <= now
        query = (
            counter.insert(key=key, hits=amount, expires_at=now + expiry)
            .on_conflict(
                conflict_target=[counter.key],
                update={
                    counter.hits: Case(None, [(ended, EXCLUDED.hits)], counter.hits + amount),
                    counter.expires_at: Case(
                        None, [(ended, EXCLUDED.expires_at)], counter.expires_at
                    ),
                },
            )
            .returning(counter.hits)
        )
        ((hits,),) = query.tuples().execute()
        if hits == amount:  # a new window began: a good moment to drop the ones that ended
            purge_expired(now)
        return hits

    def get(self, key: str) -> int:
        counter = RateLimitCounter
        live = (counter.key == key) & (counter.expires_at > time.time())
        return counter.select(counter.hits).where(live).scalar() or 0

    def get_expiry(self, key: str) -> float:
        counter = RateLimitCounter
        found = counter.select(counter.expires_at).where(counter.key == key).scalar()
        return found or time.time()

    def check(self) -> bool:
        try:
            RateLimitCounter.select().limit(1).execute()
        except DatabaseError:
            return False
        return True

    def reset(self) -> int:
        return RateLimitCounter.delete().execute()

    def clear(self, key: str) -> None:
        RateLimitCounter.delete().where(RateLimitCounter.key == key).execute()


def purge_expired(now: float | None = None) -> int:
    """Delete the counters whose window has ended (an index range scan); how many. Also for an
    operator's cleanup command, inside a connection."""
    cutoff = time.time() if now is None else now
    return RateLimitCounter.delete().where(RateLimitCounter.expires_at <= cutoff).execute()


def init_app(app: Flask) -> None:
    counters = storage.storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["ratelimit"] = strategies.FixedWindowRateLimiter(counters)


@cache
def _parse(text: str):
    return parse_many(text)


def limit(setting: str, scope: str, methods: tuple[str, ...] = ("GET", "POST")):
    """Refuse with 429 once the client (its address, see PROXY_FIX_X_FOR) has used up the
    limits named by config[setting], e.g. "30 per minute; 300 per hour", counted per scope."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.method in methods:
                limiter = current_app.extensions["ratelimit"]
                key = (current_app.config["RATELIMIT_KEY_PREFIX"], scope, request.remote_addr)
                for item in _parse(current_app.config[setting]):
                    if not limiter.hit(item, *key):
                        abort(429)
            return view(*args, **kwargs)

        return wrapped

    return decorator
