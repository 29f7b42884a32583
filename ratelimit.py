"""Per-client rate limits on the few routes that need them, with the `limits` library (the
engine of Flask-Limiter). Flask-Limiter itself checks every request for app-wide limits we
do not have, which cost 10% of a basic-info page view; this checks only the limited routes.

Counters live in RATELIMIT_STORAGE_URI: memory:// in one process, redis://… shared by several.
"""

from __future__ import annotations

from functools import cache, wraps

from flask import Flask, abort, current_app, request
from limits import parse_many, storage, strategies


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
