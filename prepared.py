"""SELECTs run on every page view, their SQL built once per kind of database.

Building the SQL text of a query costs Peewee 0.2–0.5 ms, more than running such a query; on
基本情報 that was most of the time. Measured with bench/throughput.py (2026-11-27, one run each,
ratio to a hello-world under the same gunicorn): GET /account 22.2% / 13.1% of hello-world with
/ without Prepared, and 13.1% / 9.3% in a second, noisier run.

Relies on Peewee 4.x internals (pinned in requirements.txt): `Query.sql()` returning the SQL and
its parameters in order, and `Query._get_cursor_wrapper()` turning a cursor into model
instances as iterating the query does. tests/test_prepared.py checks both on SQLite and
PostgreSQL; rerun it when upgrading Peewee.
"""

from __future__ import annotations

from collections.abc import Callable

from extensions import db


class Prepared:
    """A query whose SQL is built once per kind of database. `build` receives one marker per
    `kinds` entry (int or str) in place of the real values; each call binds the real ones."""

    def __init__(self, build: Callable[..., object], *kinds: type):
        self.build = build
        self.markers = [
            -2_000_000_011 - i if kind is int else f"\0{i}\0" for i, kind in enumerate(kinds)
        ]
        self.compiled: dict[type, tuple] = {}

    def __call__(self, *values) -> list:
        database = db.database.obj
        if type(database) not in self.compiled:
            query = self.build(*self.markers)
            self.compiled[type(database)] = (query, *query.sql())
        query, sql, params = self.compiled[type(database)]
        bound = dict(zip(self.markers, values, strict=True))
        cursor = database.execute_sql(sql, [bound.get(p, p) for p in params])
        return list(query._get_cursor_wrapper(cursor))  # models, as iterating the query gives
