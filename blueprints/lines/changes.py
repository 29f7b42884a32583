"""Billed lines: what the member has, what a requested change would do, and the change.

`review()` fetches what the rules (rules.py) decide on — a handful of queries whatever the
number of lines — and runs them over a whole requested change. The same `review()` runs when a
line is staged, on the confirm step and again inside the final POST's transaction, so a
tampered hidden field meets exactly the rules a typed number meets.
"""

from __future__ import annotations

from peewee import JOIN

import once
from extensions import db
from models import Company, LineRecord, Member, MemberLine, record_change
from phones import any_number
from prepared import Prepared

from .rules import (
    MALFORMED,
    MAX_LINES,
    NOTHING,
    OVER_LIMIT,
    UNKNOWN_CANCEL,
    LineChange,
    Registered,
    Staged,
    addition_problem,
    cancel_problem,
    group_of,
    is_group_member,
)

# Asked on every view of 基本情報 (the ⑦ card), hence prepared.
_member_lines = Prepared(
    lambda member_id: (
        MemberLine.select(MemberLine.id, LineRecord, Company)
        .join(LineRecord)
        .join(Company)
        .where(MemberLine.member == member_id)
        .order_by(Company.name, LineRecord.number)
    ),
    int,
)


def registered_lines(member_id: int) -> list[Registered]:
    """The member's lines by company and number, each representative with its group's lines."""
    rows = [Registered(row.id, row.line) for row in _member_lines(member_id)]
    reps = {group_of(r.line): r for r in rows if r.line.representative_number == r.line.number}
    if reps:
        numbers = {number for _, number in reps}
        for line in (
            LineRecord.select()
            .where(
                LineRecord.representative_number.in_(numbers)
                & (LineRecord.number != LineRecord.representative_number)
            )
            .order_by(LineRecord.number)
        ):
            if group_of(line) in reps:
                reps[group_of(line)].group.append(line)
    return rows


def company_names() -> dict[int, str]:
    return dict(Company.select(Company.id, Company.name).order_by(Company.name).tuples())


def review(
    member: Member, staged: list[Staged], cancel_ids: set[int], *, complete: bool = False
) -> LineChange:
    """Check every staged line and the cancellations against the registry and the member's
    lines. `complete` adds the rules about the change as a whole (the confirm and final steps).

    Counting: each registered line is one line, a representative too, however large its group
    (its group's lines are not registered themselves). Lines ticked for cancellation free their
    place, so with 200 lines one can be cancelled and another added in the same change.
    """
    registered = registered_lines(member.id)
    change = LineChange(registered, staged, cancel_ids)
    companies = company_names()
    records = _records({(s.company_id, s.number) for s in staged})
    registered_ids = {r.line.id for r in registered}
    groups = {group_of(r.line) for r in registered if not is_group_member(r.line)} - {None}
    own_ids = {r.id for r in registered}
    room = MAX_LINES - len(registered) + len(cancel_ids & own_ids)
    staged_ids: set[int] = set()
    for line in staged:
        line.company = companies.get(line.company_id, "")
        line.record = records.get((line.company_id, line.number))
        if line.company_id not in companies or any_number(line.number) is None:
            line.error = MALFORMED
            continue
        rep = line.record.representative if line.record else None
        line.error = addition_problem(
            line.record, member.customer_name, registered_ids, staged_ids, groups, rep
        )
        if line.error is None and room <= 0:
            line.error = f"{OVER_LIMIT}（登録済み {len(registered)}回線）"
        if line.error is None:
            room -= 1
            staged_ids.add(line.record.id)
            if group_of(line.record):
                groups.add(group_of(line.record))
    if cancel_ids - own_ids:
        change.cancel_error = UNKNOWN_CANCEL
    if complete:
        change.cancel_error = change.cancel_error or cancel_problem(
            len(registered), len(cancel_ids & own_ids), len(staged)
        )
        if not staged and not cancel_ids:
            change.error = NOTHING
    return change


def _records(keys: set[tuple[int | None, str]]) -> dict[tuple[int, str], LineRecord]:
    """Registry lines by (company id, number), each with its group's representative line as
    `.representative` (None outside a group, or when the registry lacks it). One query, the
    same whether a number is the member's, someone else's or unknown, so that how long a
    refusal takes does not tell which (rules.NOT_ADDABLE)."""
    numbers = {number for _, number in keys}
    if not numbers:
        return {}
    rep = LineRecord.alias()
    found = (
        LineRecord.select(LineRecord, rep)
        .join(
            rep,
            JOIN.LEFT_OUTER,
            on=(rep.company == LineRecord.company)
            & (rep.number == LineRecord.representative_number),
            attr="representative",
        )
        .where(LineRecord.number.in_(numbers))
    )
    return {(r.company_id, r.number): r for r in found if (r.company_id, r.number) in keys}


def change_lines(
    member: Member, staged: list[Staged], cancel_ids: set[int], once_token: str | None = None
) -> LineChange:
    """[登録する]: check everything again inside the transaction that stores it, with the
    member's changes serialised (the 200-line count). Nothing is written unless `.ok`.
    A repeat of the same submission (`once_token` spent) raises once.Repeated first, before
    the rules would find its lines registered already."""
    with db.database.atomic() as transaction:
        Member.lock(member.id)
        once.spend(once_token, "lines")
        change = review(member, staged, cancel_ids, complete=True)
        if change.ok:
            _apply(member, change)
        else:
            transaction.rollback()  # the token too: the member may fix this and submit it
    return change


def _apply(member: Member, change: LineChange) -> None:
    if change.staged:
        MemberLine.insert_many(
            [{"member": member.id, "line": s.record.id} for s in change.staged]
        ).execute()
    cancelled = change.cancelled
    if cancelled:
        MemberLine.delete().where(
            (MemberLine.member == member.id) & MemberLine.id.in_([r.id for r in cancelled])
        ).execute()
    # 変更履歴: one row per line, the number masked like every other history entry.
    for s in change.staged:
        record_change(member, "対象回線追加", f"{s.company} 末尾 {s.number[-4:]}")
    for r in cancelled:
        record_change(member, "対象回線解約", f"{r.line.company.name} 末尾 {r.line.number[-4:]}")
