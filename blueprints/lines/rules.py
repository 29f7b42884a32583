"""Which lines a member may add or cancel (SPEC §2.5): pure functions, no database, no HTTP.
changes.review() fetches what they decide on and runs them over a whole requested change.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from models import LineRecord
from phones import any_number, display

MAX_LINES = 200

# One refusal for every line the registry does not hold under the member's name, or does not
# hold at all, whatever the reason: another refusal for each would tell anyone logged in which
# numbers are someone else's lines. It starts with the guide's words for another holder.
NOT_ADDABLE = (
    "登録済みの回線名義と異なる名義の回線は追加できません。"
    "ご契約会社とお客様電話番号に誤りがないかもご確認ください。"
)
ALREADY_REGISTERED = "この回線はすでに登録されています。"
ALREADY_STAGED = "この回線はすでに「追加する回線」に入っています。"
OVER_LIMIT = f"登録できる回線は{MAX_LINES}回線までです。"
GROUP_LINE = "一括請求の回線は、代表番号でのみ登録できます。"
MALFORMED = "回線の指定が正しくありません。もう一度入力してください。"
CANCEL_ALL = (
    "すべての回線を解約することはできません。Webビリングのご利用をやめる場合は、"
    "［Webビリング一括解約］からお手続きください。"
)
UNKNOWN_CANCEL = "選択された回線は登録されていません。画面を開き直してください。"
NOTHING = "追加する回線を［追加］で入れるか、解約する回線を選択してください。"


def holder_key(name: str) -> str:
    """A name as compared with the registry's holder: NFKC (full-width letters, half-width
    kana) with every space removed, so 「済日利　太郎」 and 「済日利太郎」 are the same holder."""
    return "".join(unicodedata.normalize("NFKC", name or "").split())


def same_holder(holder: str, customer_name: str) -> bool:
    return holder_key(holder) == holder_key(customer_name)


def group_of(record: LineRecord) -> tuple[int, str] | None:
    """(company id, representative number) of the record's bulk-billing group, or None."""
    if not record.representative_number:
        return None
    return record.company_id, record.representative_number


def is_group_member(record: LineRecord) -> bool:
    """A line of a bulk-billing group other than its representative."""
    return bool(record.representative_number) and record.representative_number != record.number


def addition_problem(
    record: LineRecord | None,
    customer_name: str,
    registered: set[int],
    staged: set[int],
    groups: set[tuple[int, str]],
    representative: LineRecord | None,
) -> str | None:
    """Why `record` cannot be added, or None. Only what the member's own lines decide on has
    a message of its own; anything about lines that are not the member's is NOT_ADDABLE.

    `registered` / `staged`: registry ids already registered / staged before it; `groups`: the
    bulk-billing groups whose representative is registered or staged; `representative`: the
    representative's registry line (None outside a group, or when the registry lacks it).
    """
    if record is None or not same_holder(record.holder_name, customer_name):
        return NOT_ADDABLE
    if record.id in registered:
        return ALREADY_REGISTERED
    if record.id in staged:
        return ALREADY_STAGED
    if is_group_member(record):
        rep = display(record.representative_number)
        if group_of(record) in groups:
            return (
                f"この回線は代表番号 {rep} の一括請求グループに含まれているため、"
                "追加の必要はありません。"
            )
        # The representative's number is only told when it is the member's own line too.
        if representative is None or not same_holder(representative.holder_name, customer_name):
            return NOT_ADDABLE
        return (
            f"{GROUP_LINE}代表番号 {rep} を追加してください（グループの回線すべてを確認できます）。"
        )
    return None


def cancel_problem(registered_count: int, cancel_count: int, added_count: int) -> str | None:
    """At least one line must remain: leaving Webビリング altogether is 一括解約."""
    if registered_count and cancel_count >= registered_count and not added_count:
        return CANCEL_ALL
    return None


@dataclass
class Staged:
    """A line in the 「追加する回線」 list, carried in the form as `company_id:number`."""

    company_id: int | None
    number: str
    company: str = ""
    record: LineRecord | None = None
    error: str | None = None

    @property
    def value(self) -> str:
        return f"{self.company_id}:{self.number}"

    @property
    def label(self) -> str:
        return f"{self.company} {display(self.number)}".strip()


def parse_staged(values: list[str]) -> list[Staged]:
    """The hidden `staged` fields; a value that is not `company_id:number` stays in the list
    (so it is shown with its error) but can never match a registry line."""
    lines = []
    for value in values:
        company, _, number = value.partition(":")
        company_id = as_id(company)
        lines.append(Staged(company_id, any_number(number) or number[:20]))
    return lines


def parse_ids(values: list[str]) -> set[int]:
    return {id_ for v in values if (id_ := as_id(v)) is not None}


def as_id(text: str) -> int | None:
    """`text` as an id or index, if it is one: digits only, and fewer than 19 so that it fits
    the database's integers (int() alone raises on a forged value over 4,300 digits)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


@dataclass
class Registered:
    """A registered line; `group` holds the other lines of the group it represents."""

    id: int
    line: LineRecord
    group: list[LineRecord] = field(default_factory=list)


@dataclass
class LineChange:
    """A requested change and what the rules say about it."""

    registered: list[Registered]
    staged: list[Staged]
    cancel_ids: set[int]
    cancel_error: str | None = None
    error: str | None = None  # about the change as a whole

    @property
    def cancelled(self) -> list[Registered]:
        return [r for r in self.registered if r.id in self.cancel_ids]

    @property
    def cancels_everything(self) -> bool:
        return self.cancel_error == CANCEL_ALL

    @property
    def ok(self) -> bool:
        return not (self.error or self.cancel_error or any(s.error for s in self.staged))
