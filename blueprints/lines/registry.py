"""The carriers' line registry (`LineRecord`), filled by the operator command
`flask --app app import-lines FILE.csv`: UTF-8 CSV with the header
company,number,holder,representative."""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

import click
from flask.cli import with_appcontext

from extensions import db
from models import Company, LineRecord
from phones import any_number


@click.command("import-lines")
@with_appcontext
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_lines(csv_file: Path) -> None:
    """Import the carriers' line registry from CSV: company,number,holder,representative."""
    try:
        rows, errors = parse_registry_csv(csv_file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as error:
        raise click.ClickException(
            "ファイルがUTF-8ではありません。何も取り込んでいません。"
        ) from error
    if errors:
        for error in errors:
            click.echo(error, err=True)
        raise click.ClickException(f"{len(errors)}件の誤りがあるため、何も取り込んでいません。")
    with db.database.connection_context(), db.database.atomic():
        store_registry_rows(rows)
    click.echo(f"{len(rows)}件の回線を取り込みました。")


HEADER = ["company", "number", "holder", "representative"]
FIELDS = ("ご契約会社", "電話番号", "名義", "代表番号")
# Control characters (Cc: NUL, ESC, DEL, C1 …), invisible format characters (Cf: bidi
# overrides, zero-width …) and line/paragraph separators: refused in every field, and never
# written raw to the operator's terminal.
CONTROL = {"Cc", "Cf", "Zl", "Zp"}
# The size of the name columns (Company.name, LineRecord.holder_name: VARCHAR(255)).
NAME_MAX = 255
# A cell in a message is cut after this many characters: it names the row, it need not fill
# the terminal.
SHOWN_MAX = 30


def shown(cell: str) -> str:
    """`cell` for a message on the operator's terminal: control characters escaped (\\x1b),
    cut short when long."""
    cut = cell[:SHOWN_MAX]
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        if unicodedata.category(c) in CONTROL
        else c
        for c in cut
    ) + ("…" if len(cell) > SHOWN_MAX else "")


def parse_registry_csv(text: str) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """Rows as (company, number, holder, representative) with numbers as digits, plus one
    message per bad row. Representatives must be in the file or already in the registry."""
    # Not splitlines(): it would also split at \x1c-\x1e, \x85 and U+2028 inside a cell.
    reader = csv.reader(io.StringIO(text, newline=""))
    # A cell can be as long as the file, which is in memory already: the csv module's own
    # limit (131,072 characters) would only end the import in a traceback. The names' length
    # is checked below, as every other rule.
    csv.field_size_limit(len(text) + 1)
    header = next(reader, None)
    if [h.strip() for h in header or []] != HEADER:
        return [], [f"1行目: 見出し行は {','.join(HEADER)} にしてください。"]
    rows, errors, seen = [], [], {}
    for line_no, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != 4:
            errors.append(f"{line_no}行目: 項目が4つではありません（{len(cells)}個）。")
            continue
        controlled = [
            f"{name}「{shown(cell)}」に制御文字が含まれています"
            for name, cell in zip(FIELDS, cells, strict=True)
            if any(unicodedata.category(c) in CONTROL for c in cell)
        ]
        if controlled:
            errors.append(f"{line_no}行目: " + "、".join(controlled) + "。")
            continue
        company, raw_number, holder, raw_rep = (
            unicodedata.normalize("NFKC", c).strip() for c in cells
        )
        number = any_number(raw_number)
        representative = any_number(raw_rep) if raw_rep else ""
        problems = []
        if not company:
            problems.append("ご契約会社が空です")
        elif len(company) > NAME_MAX:
            problems.append(f"ご契約会社が長すぎます（{NAME_MAX}文字まで）")
        if number is None:
            problems.append(f"電話番号「{shown(raw_number)}」が正しくありません")
        if not holder:
            problems.append("名義が空です")
        elif len(cells[2].strip()) > NAME_MAX:  # stored as written (below)
            problems.append(f"名義が長すぎます（{NAME_MAX}文字まで）")
        if representative is None:
            problems.append(f"代表番号「{shown(raw_rep)}」が正しくありません")
        if number and (company, number) in seen:
            problems.append(f"{seen[(company, number)]}行目と同じ回線です")
        if problems:
            errors.append(f"{line_no}行目: " + "、".join(problems) + "。")
            continue
        seen[(company, number)] = line_no
        rows.append((company, number, cells[2].strip(), representative))
    representatives = {(c, n) for c, n, _, r in rows if r == n}
    for company, number, _, rep in rows:
        if (
            rep
            and rep != number
            and (company, rep) not in representatives
            and not _is_registered_representative(company, rep)
        ):
            errors.append(
                f"{seen[(company, number)]}行目: 代表番号「{rep}」が代表回線として見つかりません。"
            )
    return rows, errors


def _is_registered_representative(company: str, number: str) -> bool:
    with db.database.connection_context():
        return (
            LineRecord.select()
            .join(Company)
            .where(
                (Company.name == company)
                & (LineRecord.number == number)
                & (LineRecord.representative_number == number)
            )
            .exists()
        )


def store_registry_rows(rows) -> None:
    """Insert or update registry lines (one transaction is the caller's)."""
    companies = {}
    for company, number, holder, representative in rows:
        if company not in companies:
            companies[company] = Company.get_or_create(name=company)[0]
        LineRecord.insert(
            company=companies[company],
            number=number,
            holder_name=holder,
            representative_number=representative or None,
        ).on_conflict(
            conflict_target=[LineRecord.company, LineRecord.number],
            update={
                LineRecord.holder_name: holder,
                LineRecord.representative_number: representative or None,
            },
        ).execute()
