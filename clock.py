"""Time: stored as naive UTC, shown in Japan time (no DST, so a fixed offset is exact)."""

from datetime import UTC, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def to_jst(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(JST)


def format_jst(moment: datetime | None, fmt: str = "%Y年%m月%d日 %H時%M分") -> str:
    return to_jst(moment).strftime(fmt) if moment else ""
