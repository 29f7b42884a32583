"""Time: stored as naive UTC, shown in Japan time (no DST, so a fixed offset is exact).

Everything reads the time through `utcnow()`. In development only (create_app calls
`use_dev_clock` in debug mode) it adds the QA clock's offset: whole seconds in a small file in
the instance folder, written by the QA page or `flask dev clock`, so every process — gunicorn
workers, the CLI, a mail thread — reads the same clock; a process re-reads the file only when it
changed (one stat per call). In production the file is never looked at.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

JST = timezone(timedelta(hours=9), "JST")
ZERO = timedelta(0)


class _DevClock:
    def __init__(self, path: Path):
        self.path = path
        self.seen: tuple = (None, ZERO)  # (the file's identity, its offset), swapped whole

    def offset(self) -> timedelta:
        try:
            st = os.stat(self.path)
            key = (st.st_mtime_ns, st.st_ino, st.st_size)
        except FileNotFoundError:
            key = None
        seen_key, value = self.seen
        if key != seen_key:
            value = ZERO
            if key is not None:
                try:
                    value = timedelta(seconds=int(self.path.read_text()))
                except (FileNotFoundError, ValueError):
                    key = None  # removed or rewritten meanwhile: read it again next time
            self.seen = (key, value)
        return value

    def set(self, offset: timedelta) -> None:
        if offset == ZERO:
            self.path.unlink(missing_ok=True)
            return
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        temporary.write_text(str(int(offset.total_seconds())))
        temporary.replace(self.path)  # readers see the old offset or the new, never half of one


_dev: _DevClock | None = None
# A scenario that must have happened in the past runs with this context's clock shifted.
_shift: ContextVar[timedelta] = ContextVar("clock_shift", default=ZERO)


def utcnow() -> datetime:
    now = datetime.now(UTC).replace(tzinfo=None)
    if _dev is None:  # production: nothing more to read
        return now
    return now + _dev.offset() + _shift.get()


def use_dev_clock(path: Path | None) -> None:
    """Development: read the QA clock's offset from `path`. None (production): never."""
    global _dev
    _dev = _DevClock(path) if path is not None else None


def dev_offset() -> timedelta:
    """How far the QA clock is ahead (zero in production)."""
    return _dev.offset() if _dev is not None else ZERO


def set_dev_offset(offset: timedelta) -> None:
    """Put the QA clock `offset` ahead of real time, for every process (development only)."""
    if _dev is None:
        raise RuntimeError("the QA clock exists in development mode only")
    _dev.set(max(offset, ZERO))


@contextmanager
def shifted(delta: timedelta) -> Iterator[None]:
    """Development: run the block as if `delta` later (negative: earlier), in this context only."""
    if _dev is None:
        raise RuntimeError("the QA clock exists in development mode only")
    token = _shift.set(_shift.get() + delta)
    try:
        yield
    finally:
        _shift.reset(token)


def to_jst(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(JST)


def format_jst(moment: datetime | None, fmt: str = "%Y年%m月%d日 %H時%M分") -> str:
    return to_jst(moment).strftime(fmt) if moment else ""
