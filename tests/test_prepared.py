"""Prepared (prepared.py): the SQL built once gives, with any values, exactly what Peewee's own
query gives — on SQLite and on PostgreSQL (FLASK_TEST_DATABASE_URL)."""

from extensions import db
from models import Company, LineRecord, Member, MemberLine
from prepared import Prepared

from .conftest import in_db


def test_bound_values_give_what_the_query_gives(app):
    by_company_and_holder = Prepared(
        lambda company_id, holder: (
            LineRecord.select()
            .where((LineRecord.company == company_id) & (LineRecord.holder_name == holder))
            .order_by(LineRecord.number)
        ),
        int,
        str,
    )

    def check():
        for company_id, holder in [(1, "済日利 太郎"), (2, "請求 花子"), (1, "請求 花子"), (9, "")]:
            fresh = list(
                LineRecord.select()
                .where((LineRecord.company == company_id) & (LineRecord.holder_name == holder))
                .order_by(LineRecord.number)
            )
            got = by_company_and_holder(company_id, holder)
            assert [(r.id, r.number) for r in got] == [(r.id, r.number) for r in fresh]
        assert by_company_and_holder(1, "済日利 太郎"), "the demo registry has his lines"

    in_db(check)
    assert list(by_company_and_holder.compiled) == [type(db.database.obj)]  # built once


def test_a_join_gives_models_with_their_related_rows(app):
    lines_of = Prepared(
        lambda member_id: (
            MemberLine.select(MemberLine.id, LineRecord, Company)
            .join(LineRecord)
            .join(Company)
            .where(MemberLine.member == member_id)
        ),
        int,
    )
    hanako = in_db(lambda: Member.get(Member.login_id_key == "hanako0002"))
    rows = in_db(lambda: lines_of(hanako.id))
    assert [(r.line.number, r.line.company.name) for r in rows] == [("0752345678", "NTT西日本")]
    assert in_db(lambda: lines_of(-1)) == []
