"""Webビリング対象回線の変更: staging, every rule with its message, the 200-line limit,
bulk-billing representatives, the confirm step and the final POST (SPEC §2.5)."""

import logging
import re

import pytest

from blueprints.lines import rules
from models import ChangeHistory, Company, LineRecord, Member, MemberLine

from .conftest import HX, in_db, log_in, post, token_in


def company(name="NTT東日本") -> str:
    return str(in_db(lambda: Company.get(Company.name == name).id))


def staged(name: str, number: str) -> str:
    """A hidden `staged` value as the screen carries it."""
    return f"{company(name)}:{number}"


def numbers_of(login_id="taro0001") -> list[str]:
    return in_db(
        lambda: sorted(
            ml.line.number
            for ml in MemberLine.select(MemberLine, LineRecord)
            .join(LineRecord)
            .join_from(MemberLine, Member)
            .where(Member.login_id_key == login_id)
        )
    )


def line_id(number: str, login_id="taro0001") -> str:
    """The MemberLine id (the value of its cancel checkbox)."""
    return str(
        in_db(
            lambda: (
                MemberLine.select(MemberLine.id)
                .join(LineRecord)
                .join_from(MemberLine, Member)
                .where((LineRecord.number == number) & (Member.login_id_key == login_id))
                .scalar()
            )
        )
    )


def give_lines(count: int, login_id="taro0001", holder=None) -> None:
    """`count` more registry lines of the member's name, all registered, in two statements."""

    def work():
        member = Member.get(Member.login_id_key == login_id)
        east = Company.get(Company.name == "NTT東日本")
        numbers = [f"03{50000000 + i}" for i in range(count)]
        LineRecord.insert_many(
            [
                {"company": east.id, "number": n, "holder_name": holder or member.customer_name}
                for n in numbers
            ]
        ).execute()
        ids = LineRecord.select(LineRecord.id).where(LineRecord.number.in_(numbers))
        MemberLine.insert_many([{"member": member.id, "line": r.id} for r in ids]).execute()

    in_db(work)


def add_registry(*rows) -> None:
    """Registry rows (company, number, holder, representative) besides the demo's."""

    def work():
        for name, number, holder, rep in rows:
            LineRecord.create(
                company=Company.get(Company.name == name),
                number=number,
                holder_name=holder,
                representative_number=rep or None,
            )

    in_db(work)


def register(number: str, login_id="taro0001") -> None:
    in_db(
        lambda: MemberLine.create(
            member=Member.get(Member.login_id_key == login_id),
            line=LineRecord.get(LineRecord.number == number),
        )
    )


def nothing_written(before: list[str]) -> bool:
    return numbers_of() == before and in_db(ChangeHistory.select().count) == 0


# ---- the screen ---------------------------------------------------------------------------


def test_screen_fragment_and_full_page(member_client):
    fragment = member_client.get("/account/lines", headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith("<section") and "<html" not in fragment
    assert 'id="lines"' in fragment
    page = member_client.get("/account/lines").get_data(as_text=True)
    assert "<html" in page and "<title>Webビリング対象回線変更 | Webビリング</title>" in page
    assert '<label for="company">ご契約会社</label>' in page
    assert '<label for="number">お客様電話番号</label>' in page
    assert 'type="tel"' in page and 'inputmode="tel"' in page
    for name in ("NTT東日本", "NTT西日本", "NTTドコモ"):  # the registry's companies
        assert f">{name}</option>" in page
    assert f'name="cancel" value="{line_id("0312345678")}"> 03-1234-5678</label>' in page
    for label in (">追加</button>", ">登録</button>", ">更新</button>", ">Webビリング一括解約</a>"):
        assert label in page
    assert 'formaction="/account/lines/stage" hx-post="/account/lines/stage"' in page


def test_basic_info_lists_lines_and_a_group_under_its_representative(member_client):
    register("0452223333")
    page = member_client.get("/account").get_data(as_text=True)
    card = page.split('id="billed-lines"')[1].split("</section>")[0]
    assert '<a class="button" href="/account/lines">変更</a>' in card
    assert "03-1234-5678" in card
    label = '<ul aria-label="045-222-3333 の一括請求グループの回線">'
    group = card.split(label)[1].split("</ul>")[0]
    for number in ("045-222-3334", "045-222-3335", "045-222-3336"):
        assert number in group


def test_a_long_list_starts_folded_on_basic_info(member_client):
    def details():
        page = member_client.get("/account").get_data(as_text=True)
        return page.split('id="billed-lines"')[1].split("<summary>")[0]

    give_lines(9)
    assert '<details class="value" open>' in details()
    register("0452223333")
    assert '<details class="value">' in details()  # 11 lines


def test_member_without_lines_sees_unregistered(client):
    log_in(client, "hanako0002")
    in_db(lambda: MemberLine.delete().execute())
    card = client.get("/account").get_data(as_text=True).split('id="billed-lines"')[1]
    assert "未登録" in card.split("</section>")[0]


# ---- staging ------------------------------------------------------------------------------


def test_add_puts_the_line_typed_as_on_a_phone_into_the_staged_list(member_client):
    response = post(
        member_client,
        "/account/lines/stage",
        {"company": company(), "number": "０３－１２３４－５６７９"},
        HX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="stage"') and "<html" not in html
    assert f'name="staged" value="{staged("NTT東日本", "0312345679")}"' in html
    assert "NTT東日本 03-1234-5679" in html and ">削除</button>" in html
    assert re.search(r'name="number"[^>]*value=""', html)  # cleared for the next number
    assert f'<option selected value="{company()}">' in html  # the company stays chosen
    assert 'name="cancel"' not in html  # the registered list is not sent again
    assert numbers_of() == ["0312345678"]  # nothing stored while staging


def test_add_without_javascript_answers_the_whole_screen_keeping_the_form(member_client):
    own = line_id("0312345678")
    response = post(
        member_client,
        "/account/lines/stage",
        {
            "company": company("NTTドコモ"),
            "number": "090 1234 5678",
            "staged": [staged("NTT東日本", "0312345679")],
            "cancel": [own],
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert html.count('name="staged"') == 2
    assert f'name="cancel" value="{own}" checked>' in html


def test_delete_takes_one_line_out_of_the_staged_list(member_client):
    lines = [staged("NTT東日本", "0312345679"), staged("NTT西日本", "0612345678")]
    response = post(member_client, "/account/lines/unstage", {"staged": lines, "remove": "0"}, HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="stage"')
    assert lines[0] not in html and lines[1] in html
    page = post(member_client, "/account/lines/unstage", {"staged": lines, "remove": "1"})
    assert "<html" in page.get_data(as_text=True) and lines[1] not in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("company_name", "number", "message"),
    [
        ("NTT東日本", "", "お客様電話番号を入力してください。"),
        ("NTT東日本", "0312", "電話番号の桁数が足りません。市外局番から、固定電話は10桁"),
        ("NTT東日本", "03-1234-567a", "お客様電話番号を市外局番から正しく入力してください"),
        (None, "0312345679", "ご契約会社を選択してください。"),
        ("NTT西日本", "0312345679", rules.NOT_ADDABLE),  # a real number, another company
        ("NTT東日本", "0399999999", rules.NOT_ADDABLE),
        ("NTT東日本", "03-1111-2222", rules.NOT_ADDABLE),  # 山田 一郎
        ("NTT西日本", "075-234-5678", rules.NOT_ADDABLE),  # 請求 花子's, registered by her
        ("NTT東日本", "03-1234-5678", rules.ALREADY_REGISTERED),
        ("NTT東日本", "045-222-3334", "代表番号 045-222-3333 を追加してください"),
    ],
)
@pytest.mark.parametrize("headers", [HX, None])
def test_each_rule_refuses_the_line_with_its_message(
    member_client, company_name, number, message, headers
):
    before = numbers_of()
    response = post(
        member_client,
        "/account/lines/stage",
        {
            "company": company(company_name) if company_name else "",
            "number": number,
        },
        headers,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html
    assert 'name="staged"' not in html
    assert f'value="{number}"' in html  # the number stays, to be corrected
    assert nothing_written(before)


def test_the_same_line_cannot_be_staged_twice(member_client):
    response = post(
        member_client,
        "/account/lines/stage",
        {
            "company": company(),
            "number": "03-1234-5679",
            "staged": [staged("NTT東日本", "0312345679")],
        },
        HX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and rules.ALREADY_STAGED in html
    assert html.count('name="staged"') == 1


@pytest.mark.parametrize(
    ("company_name", "number"), [("NTT西日本", "0612345678"), ("NTTドコモ", "09012345678")]
)
def test_holder_matches_after_nfkc_and_without_spaces(member_client, company_name, number):
    # Registry: 「済日利　太郎」 (full-width space) and 「済日利太郎」; the member: 「済日利 太郎」.
    response = post(
        member_client,
        "/account/lines/stage",
        {"company": company(company_name), "number": number},
        HX,
    )
    assert response.status_code == 200


def test_holder_key():
    assert rules.holder_key("済日利　太郎") == rules.holder_key(" 済日利太郎 ") == "済日利太郎"
    assert rules.holder_key("ＡＢＣ　ｶﾀｶﾅ") == "ABCカタカナ"
    assert not rules.same_holder("済日利 次郎", "済日利 太郎")


def test_rules_without_http():
    line = LineRecord(
        id=7,
        company=1,
        number="0452223334",
        holder_name="済日利 太郎",
        representative_number="0452223333",
    )
    rep = LineRecord(
        id=6,
        company=1,
        number="0452223333",
        holder_name="済日利　太郎",
        representative_number="0452223333",
    )
    problem = rules.addition_problem
    assert problem(rep, "済日利太郎", set(), set(), set(), None) is None
    assert "代表番号 045-222-3333 を追加" in problem(line, "済日利太郎", set(), set(), set(), rep)
    assert "含まれている" in problem(line, "済日利太郎", set(), set(), {(1, "0452223333")}, rep)
    assert problem(rep, "済日利太郎", {6}, set(), set(), None) == rules.ALREADY_REGISTERED
    assert problem(rep, "済日利太郎", set(), {6}, set(), None) == rules.ALREADY_STAGED
    assert problem(None, "済日利太郎", set(), set(), set(), None) == rules.NOT_ADDABLE
    assert problem(rep, "山田一郎", set(), set(), set(), None) == rules.NOT_ADDABLE
    # The member's line in a group whose representative is someone else's, or not known.
    someone_elses = LineRecord(**{**rep.__data__, "holder_name": "山田 一郎"})
    assert problem(line, "済日利太郎", set(), set(), set(), someone_elses) == rules.NOT_ADDABLE
    assert problem(line, "済日利太郎", set(), set(), set(), None) == rules.NOT_ADDABLE
    assert rules.cancel_problem(3, 3, 0) == rules.CANCEL_ALL
    assert rules.cancel_problem(3, 3, 1) is None and rules.cancel_problem(3, 2, 0) is None
    assert rules.cancel_problem(0, 0, 0) is None


# ---- bulk-billing groups (一括請求) ---------------------------------------------------------


def test_representative_can_be_added_and_then_covers_its_group(member_client):
    response = post(
        member_client, "/account/lines/stage", {"company": company(), "number": "0452223333"}, HX
    )
    assert response.status_code == 200
    rep = staged("NTT東日本", "0452223333")
    group_line = post(
        member_client,
        "/account/lines/stage",
        {"company": company(), "number": "0452223335", "staged": [rep]},
        HX,
    )
    assert group_line.status_code == 422
    assert "代表番号 045-222-3333 の一括請求グループに含まれているため" in group_line.get_data(
        as_text=True
    )
    register("0452223333")
    again = post(
        member_client, "/account/lines/stage", {"company": company(), "number": "0452223336"}, HX
    )
    assert "一括請求グループに含まれているため" in again.get_data(as_text=True)


# ---- one refusal for every line that is not the member's -----------------------------------

# Numbers the registry knows as someone else's, or not at all: whichever it is, the screen
# must not tell (a member could otherwise probe which numbers are someone else's lines).
# All NTT東日本, so that the pages differ only by the number typed.
NOT_THE_MEMBERS = [
    "0399999999",  # no such line
    "0311112222",  # 山田 一郎's
    "0453334444",  # 山田 一郎's group: its representative
    "0453334446",  # 山田 一郎's group: his line in it
    "0453334445",  # 山田 一郎's group: a line under the member's name in it
    "0453335555",  # a line under the member's name, its representative unknown
]


@pytest.fixture
def another_holders_group(app):
    add_registry(
        ("NTT東日本", "0453334444", "山田 一郎", "0453334444"),
        ("NTT東日本", "0453334445", "済日利 太郎", "0453334444"),
        ("NTT東日本", "0453334446", "山田 一郎", "0453334444"),
        ("NTT東日本", "0453335555", "済日利 太郎", "0453335550"),
    )


def stage_watching_queries(client, caplog, number: str):
    """[追加] of `number` (NTT東日本): the answer, and the SQL it ran (Peewee logs each)."""
    data = {"csrf_token": token_in(client.get("/account").get_data(as_text=True))}
    data |= {"company": company(), "number": number}
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        response = client.post("/account/lines/stage", data=data, headers=HX)
    queries = [r.msg[0] for r in caplog.records if r.name == "peewee"]
    return response, queries


@pytest.mark.usefixtures("another_holders_group")
def test_every_line_that_is_not_the_members_gets_one_refusal(member_client, caplog):
    before = numbers_of()
    answers = {}
    for number in NOT_THE_MEMBERS:
        response, queries = stage_watching_queries(member_client, caplog, number)
        html = response.get_data(as_text=True)
        assert rules.NOT_ADDABLE in html and "045-333" not in html, number
        # The same status, the same page but for the number typed, the same queries.
        answers[number] = (response.status_code, html.replace(number, "…"), queries)
    first = answers[NOT_THE_MEMBERS[0]]
    assert first[0] == 422 and first[2]
    for number, answer in answers.items():
        assert answer == first, number
    assert nothing_written(before)


@pytest.mark.usefixtures("another_holders_group")
@pytest.mark.parametrize("number", NOT_THE_MEMBERS)
def test_the_holder_check_blocks_them_at_the_final_post_too(member_client, number):
    before = numbers_of()
    line = staged("NTT東日本", number)
    response = post(member_client, "/account/lines", {"staged": [line]}, HX)
    assert response.status_code == 422 and rules.NOT_ADDABLE in response.get_data(as_text=True)
    assert nothing_written(before)


def test_a_registered_representative_counts_as_one_line(member_client):
    register("0452223333")
    page = member_client.get("/account/lines").get_data(as_text=True)
    assert (
        "登録済の回線（2回線）" in page
        and '一括請求代表・<span class="nw">ほか3回線</span>' in page
    )


# ---- the 200-line limit -------------------------------------------------------------------


def test_199_registered_plus_one_staged_is_allowed(member_client):
    give_lines(198)  # and the demo's 03-1234-5678: 199
    line = staged("NTT東日本", "0312345679")
    response = post(
        member_client, "/account/lines/stage", {"company": company(), "number": "0312345679"}, HX
    )
    assert response.status_code == 200 and line in response.get_data(as_text=True)
    assert post(member_client, "/account/lines/confirm", {"staged": [line]}, HX).status_code == 200
    assert post(member_client, "/account/lines", {"staged": [line]}, HX).status_code == 200
    assert len(numbers_of()) == 200


def test_200_registered_plus_one_is_refused_when_staging_and_at_the_end(member_client):
    give_lines(199)
    before = numbers_of()
    response = post(
        member_client, "/account/lines/stage", {"company": company(), "number": "0312345679"}, HX
    )
    assert response.status_code == 422 and rules.OVER_LIMIT in response.get_data(as_text=True)
    line = staged("NTT東日本", "0312345679")
    for url in ("/account/lines/confirm", "/account/lines"):
        refused = post(member_client, url, {"staged": [line]}, HX)
        assert refused.status_code == 422 and rules.OVER_LIMIT in refused.get_data(as_text=True)
    assert nothing_written(before)


def test_lines_ticked_for_cancellation_free_their_place(member_client):
    give_lines(199)
    line = staged("NTT東日本", "0312345679")
    done = post(
        member_client, "/account/lines", {"staged": [line], "cancel": [line_id("0312345678")]}, HX
    )
    assert done.status_code == 200
    numbers = numbers_of()
    assert len(numbers) == 200 and "0312345679" in numbers and "0312345678" not in numbers


def test_only_the_lines_beyond_the_limit_are_refused(member_client):
    give_lines(198)
    lines = [staged("NTT東日本", "0312345679"), staged("NTT西日本", "0612345678")]
    response = post(member_client, "/account/lines/confirm", {"staged": lines}, HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and html.count(rules.OVER_LIMIT) == 1
    assert html.index(rules.OVER_LIMIT) > html.index("NTT西日本 06-1234-5678")


# ---- confirm and register -----------------------------------------------------------------


def test_whole_change_with_htmx(member_client):
    lines = [staged("NTT東日本", "0312345679"), staged("NTTドコモ", "09012345678")]
    own = line_id("0312345678")
    confirm = post(member_client, "/account/lines/confirm", {"staged": lines, "cancel": [own]}, HX)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "<html" not in html
    added = html.split("<h3>追加する回線</h3>")[1].split("</ul>")[0]
    assert "NTT東日本 03-1234-5679" in added and "NTTドコモ 090-1234-5678" in added
    cancelled = html.split("<h3>解約する回線</h3>")[1].split("</ul>")[0]
    assert "NTT東日本 03-1234-5678" in cancelled
    assert ">登録する</button>" in html and ">戻る</button>" in html
    assert numbers_of() == ["0312345678"]  # nothing stored before the final POST
    done = post(member_client, "/account/lines", {"staged": lines, "cancel": [own]}, HX)
    assert done.status_code == 200
    assert "Webビリング対象回線情報の変更が完了しました。" in done.get_data(as_text=True)
    assert numbers_of() == ["0312345679", "09012345678"]
    history = in_db(
        lambda: [(c.kind, c.detail) for c in ChangeHistory.select().order_by(ChangeHistory.id)]
    )
    assert history == [
        ("対象回線追加", "NTT東日本 末尾 5679"),
        ("対象回線追加", "NTTドコモ 末尾 5678"),
        ("対象回線解約", "NTT東日本 末尾 5678"),
    ]


def test_whole_change_without_javascript(member_client):
    line = staged("NTT西日本", "0612345678")
    confirm = post(member_client, "/account/lines/confirm", {"staged": [line]})
    assert "<html" in confirm.get_data(as_text=True)
    done = post(member_client, "/account/lines", {"staged": [line]})
    assert done.status_code == 303 and done.headers["Location"] == "/account/lines/done"
    page = member_client.get("/account/lines/done").get_data(as_text=True)
    assert "Webビリング対象回線変更完了" in page and "WebビリングTOPへ戻る" in page
    assert numbers_of() == ["0312345678", "0612345678"]


def test_back_from_confirm_keeps_staged_and_ticked_lines(member_client):
    give_lines(2)
    line, own = staged("NTT東日本", "0312345679"), line_id("0312345678")
    back = post(member_client, "/account/lines/edit", {"staged": [line], "cancel": [own]}, HX)
    html = back.get_data(as_text=True)
    assert f'name="staged" value="{line}"' in html and f'value="{own}" checked>' in html


def test_cancelling_every_line_is_refused_with_a_pointer_to_bulk_cancellation(member_client):
    before = numbers_of()
    for url in ("/account/lines/confirm", "/account/lines"):
        response = post(member_client, url, {"cancel": [line_id("0312345678")]}, HX)
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and rules.CANCEL_ALL in html
        assert 'href="/account/cancel"' in html
    assert nothing_written(before)


def test_every_line_may_be_replaced_by_new_ones(member_client):
    own = line_id("0312345678")
    done = post(
        member_client,
        "/account/lines",
        {"staged": [staged("NTT東日本", "0312345679")], "cancel": [own]},
        HX,
    )
    assert done.status_code == 200 and numbers_of() == ["0312345679"]


def test_nothing_to_change_is_said(member_client):
    response = post(member_client, "/account/lines/confirm", {}, HX)
    assert response.status_code == 422 and rules.NOTHING in response.get_data(as_text=True)


def test_a_number_typed_but_not_added_is_not_dropped_silently(member_client):
    response = post(
        member_client,
        "/account/lines/confirm",
        {
            "company": company(),
            "number": "0312345679",
            "staged": [staged("NTTドコモ", "09012345678")],
        },
        HX,
    )
    assert response.status_code == 422
    assert "まだ追加されていません。［追加］を押すか" in response.get_data(as_text=True)


# ---- tampering ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (lambda: staged("NTT東日本", "0311112222"), rules.NOT_ADDABLE),  # 山田 一郎's line
        (lambda: staged("NTT東日本", "0452223334"), rules.GROUP_LINE),
        (lambda: staged("NTT東日本", "0312345678"), rules.ALREADY_REGISTERED),
        (lambda: "999:0312345679", rules.MALFORMED),
        (lambda: "x:<b>", rules.MALFORMED),
    ],
)
def test_tampered_final_post_is_rejected_with_nothing_written(member_client, value, message):
    before = numbers_of()
    good = staged("NTT東日本", "0312345679")
    response = post(member_client, "/account/lines", {"staged": [good, value()]}, HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert "<b>" not in html
    assert nothing_written(before)


def test_another_members_lines_are_untouchable(app, member_client):
    hanako = line_id("0752345678", "hanako0002")
    before = numbers_of()
    for url in ("/account/lines/confirm", "/account/lines"):
        response = post(
            member_client,
            url,
            {"staged": [staged("NTT東日本", "0312345679")], "cancel": [hanako]},
            HX,
        )
        assert response.status_code == 422
        assert rules.UNKNOWN_CANCEL in response.get_data(as_text=True)
    assert numbers_of("hanako0002") == ["0752345678"]
    assert nothing_written(before)
    # Nor does her screen list his lines, or his hers.
    other = app.test_client()
    log_in(other, "hanako0002")
    page = other.get("/account/lines").get_data(as_text=True)
    assert "075-234-5678" in page and "03-1234-5678" not in page


@pytest.mark.parametrize("digits", [25, 5000])  # past SQLite's integers; past int()'s limit
def test_a_forged_id_of_any_length_is_refused_as_unknown(member_client, digits):
    huge = "1" * digits
    good = staged("NTT東日本", "0312345679")
    shown = member_client.get(f"/account/lines?staged={huge}:0312345679")  # a link can say so
    assert shown.status_code == 200 and rules.MALFORMED in shown.get_data(as_text=True)
    for url in ("/account/lines/confirm", "/account/lines"):
        refused = post(member_client, url, {"staged": [good, f"{huge}:0312345678"]}, HX)
        assert refused.status_code == 422 and rules.MALFORMED in refused.get_data(as_text=True)
    typed = post(member_client, "/account/lines/stage", {"company": huge, "number": "0312345679"})
    assert typed.status_code == 422
    assert "ご契約会社を選択してください。" in typed.get_data(as_text=True)
    kept = post(member_client, "/account/lines/unstage", {"staged": [good], "remove": huge}, HX)
    assert kept.status_code == 200 and "03-1234-5679" in kept.get_data(as_text=True)


def test_a_forged_staged_list_longer_than_any_real_one_is_cut(member_client):
    lines = [f"{company()}:03{60000000 + i}" for i in range(1000)]
    response = post(member_client, "/account/lines/confirm", {"staged": lines}, HX)
    assert response.status_code == 422
    assert response.get_data(as_text=True).count('name="staged"') <= 250


def test_the_fullest_line_screen_fits_well_under_the_64_kb_body_limit(member_client):
    """200 staged lines of 11 digits and 200 ticked lines with 10-digit ids: the most a real
    line screen posts (the staged list is capped at 200 by the rules)."""
    from urllib.parse import urlencode

    data = {
        "company": company(),
        "number": "090-1234-5678",
        "staged": [f"{company()}:090{10000000 + i}" for i in range(200)],
        "cancel": [str(9_000_000_000 + i) for i in range(200)],
    }
    assert len(urlencode(data, doseq=True)) < 16_384  # four times over
    response = post(member_client, "/account/lines/confirm", data, HX)
    assert response.status_code == 422  # read and judged, not refused for its size


def test_steps_need_login(client):
    assert client.get("/account/lines").status_code == 303
    response = client.get("/account/lines", headers=HX)
    assert response.headers["HX-Redirect"].startswith("/login?next=")
