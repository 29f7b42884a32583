"""Every final POST is safe to repeat (once.py): the same submission twice — a double tap,
Back and submit again, a retry after a lost answer — makes one change and one mail, and the
second answer is the step's 完了 again, with htmx and without."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import pytest

from blueprints.cancel.forms import REASONS
from models import (
    Cancellation,
    ChangeHistory,
    Company,
    EmailChangeRequest,
    OutboxMail,
    SpentToken,
)

from .conftest import HX, PASSWORD, in_db, log_in, post, token_in
from .live import Browser, app_env, free_port, start

ONCE = re.compile(r'name="once" value="([^"]+)"')


def company(name="NTT東日本") -> str:
    return str(in_db(lambda: Company.get(Company.name == name).id))


def history(kind: str) -> int:
    return in_db(lambda: ChangeHistory.select().where(ChangeHistory.kind == kind).count())


def mails(to: str) -> int:
    return in_db(lambda: OutboxMail.select().where(OutboxMail.to == to).count())


@dataclass
class Step:
    """A final step: the POST that shows its final form, the final POST, its 完了, and what
    must have happened exactly once."""

    form_url: str
    form_data: dict
    final_url: str
    done_url: str
    done_text: str
    effects: callable
    final_data: dict = field(default_factory=dict)


NEW_ADDRESS = "jiro@example.net"
STEPS = {
    "phone": Step(
        "/account/phone/confirm",
        {"new_phone": "09012345678"},
        "/account/phone",
        "/account/phone/done",
        "連絡先電話番号変更完了",
        lambda: [history("日中のご連絡先電話番号")],
    ),
    "email": Step(
        "/account/email/confirm",
        {
            "new_email": NEW_ADDRESS,
            "new_email_confirm": NEW_ADDRESS,
            "secret_question": "母親の旧姓は？",
            "secret_answer": "さとう",
        },
        "/account/email",
        "/account/email/sent",
        "連絡先メールアドレス登録/変更受付完了",
        lambda: [mails(NEW_ADDRESS), history("連絡先メールアドレス変更受付")],
    ),
    "secret": Step(
        "/account/secret/confirm",
        {"secret_question": "母親の旧姓は？", "secret_answer": "さとう"},
        "/account/secret",
        "/account/secret/done",
        "秘密の質問と回答の登録／変更完了",
        lambda: [history("秘密の質問と回答")],
    ),
    "secret_auth": Step(
        "/account/secret-auth/confirm",
        {"setting": "on"},
        "/account/secret-auth",
        "/account/secret-auth/done",
        "秘密の質問による認証設定完了",
        lambda: [history("秘密の質問による認証設定")],
    ),
    "lines": Step(
        "/account/lines/confirm",
        {"staged": "{company}:0312345679"},
        "/account/lines",
        "/account/lines/done",
        "Webビリング対象回線変更完了",
        lambda: [history("対象回線追加")],
    ),
    "credentials": Step(
        "/account/credentials/edit",
        {"target": "password"},
        "/account/credentials",
        "/account/credentials/done/password",
        "ログインパスワード変更完了",
        lambda: [mails("taro@example.com"), history("ログインパスワード")],
        {
            "current_password": PASSWORD,
            "new_password": "Shin-pass42",
            "new_password_confirm": "Shin-pass42",
        },
    ),
    "cancel": Step(
        "/account/cancel/confirm",
        {"reason": REASONS[0]},
        "/account/cancel",
        "/account/cancel/done",
        "Webビリング一括解約完了",
        lambda: [mails("taro@example.com"), in_db(Cancellation.select().count)],
    ),
}


def final_form(client, step: Step, headers=None) -> dict:
    """What the browser submits from the step's final form: its fields, CSRF and one-time
    tokens included."""
    data = {k: v.format(company=company()) for k, v in step.form_data.items()}
    html = post(client, step.form_url, data, headers).get_data(as_text=True)
    return {**data, **step.final_data, "csrf_token": token_in(html), "once": ONCE.search(html)[1]}


@pytest.mark.parametrize("name", STEPS)
@pytest.mark.parametrize("htmx", [False, True], ids=["nojs", "htmx"])
def test_the_same_final_post_twice_changes_once_and_says_done_twice(member_client, name, htmx):
    step = STEPS[name]
    headers = HX if htmx else None
    form = final_form(member_client, step, headers)
    first = member_client.post(step.final_url, data=form, headers=headers)
    second = member_client.post(step.final_url, data=form, headers=headers)
    assert step.effects() == [1] * len(step.effects())
    for answer in (first, second):
        if name == "cancel" and htmx:  # a whole new page: the session has ended
            assert answer.status_code == 200 and answer.headers["HX-Redirect"] == step.done_url
        elif htmx:
            assert answer.status_code == 200 and step.done_text in answer.get_data(as_text=True)
        else:
            assert answer.status_code == 303 and answer.headers["Location"] == step.done_url
    if not htmx or name == "cancel":
        done = member_client.get(step.done_url)
        assert done.status_code == 200 and step.done_text in done.get_data(as_text=True)


def test_the_first_mailed_link_stays_valid_after_a_repeated_apply(member_client):
    form = final_form(member_client, STEPS["email"])
    for _ in range(2):
        member_client.post("/account/email", data=form)
    statuses = in_db(lambda: [r.status for r in EmailChangeRequest.select()])
    assert statuses == ["pending"]


def test_a_repeated_resend_sends_one_mail(member_client):
    form = final_form(member_client, STEPS["email"])
    member_client.post("/account/email", data=form)
    page = member_client.get("/account").get_data(as_text=True)
    resend = page[page.index('action="/account/email/resend"') :]
    data = {"csrf_token": token_in(page), "once": ONCE.search(resend)[1]}
    answers = [member_client.post("/account/email/resend", data=data) for _ in range(2)]
    assert [a.headers["Location"] for a in answers] == ["/account/email/sent"] * 2
    assert mails(NEW_ADDRESS) == 2  # the application's, and one resend
    statuses = in_db(lambda: sorted(r.status for r in EmailChangeRequest.select()))
    assert statuses == ["pending", "replaced"]


def test_a_wrong_password_is_not_a_repeat_and_does_not_spend_the_token(member_client):
    step = STEPS["credentials"]
    form = final_form(member_client, step)
    wrong = member_client.post(step.final_url, data={**form, "current_password": "nope"})
    assert wrong.status_code == 422
    assert member_client.post(step.final_url, data=form).status_code == 303
    assert in_db(SpentToken.select().count) == 1


def test_a_refused_line_change_does_not_spend_the_token(member_client):
    form = final_form(member_client, STEPS["lines"])
    taken = {**form, "staged": f"{company()}:0312345678"}  # registered already
    assert member_client.post("/account/lines", data=taken).status_code == 422
    assert in_db(SpentToken.select().count) == 0


@pytest.mark.parametrize(
    "once",
    ["forged", "phone.1.AAAAAAAAAAAAAAAA.AAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAA", "secret"],
)
def test_a_forged_or_foreign_token_gets_the_stale_page(member_client, once):
    if once == "secret":  # a real token, for another step
        once = ONCE.search(
            post(member_client, "/account/secret/confirm", STEPS["secret"].form_data).get_data(
                as_text=True
            )
        )[1]
    response = post(member_client, "/account/phone", {"new_phone": "09012345678", "once": once})
    assert response.status_code == 400
    assert "画面の有効期限が切れた" in response.get_data(as_text=True)
    assert history("日中のご連絡先電話番号") == 0


@pytest.fixture
def two_servers(app):
    """Two gunicorn processes on the test's database: the two requests of a double tap may
    reach different processes (or servers)."""
    env = app_env(app.config["DATABASE_URL"])
    servers = [
        start("app:create_app()", {**env, "BIND": f"127.0.0.1:{free_port()}"}) for _ in range(2)
    ]
    yield [s.url for s in servers]
    for server in servers:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize("name", ["email", "credentials", "phone"])
def test_two_identical_posts_at_the_same_moment_change_once(two_servers, name):
    step = STEPS[name]
    member = Browser(two_servers[0])
    assert member.log_in() == 303
    data = {k: v.format(company="") for k, v in step.form_data.items()}
    _, html, _ = member.post(step.form_url, data)
    form = {**data, **step.final_data, "once": ONCE.search(html)[1]}
    tabs = []
    for url in two_servers:  # the same cookie and tokens, sent to both processes
        tab = Browser(url)
        tab.opener.addheaders = [("Cookie", member.cookie)]
        tab.token = member.token
        tabs.append(tab)
    start_together = threading.Barrier(2)
    answers = [None, None]

    def submit(i):
        start_together.wait()
        answers[i] = tabs[i].post(step.final_url, form)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a[0] for a in answers] == [303, 303]
    assert [a[2]["Location"] for a in answers] == [step.done_url] * 2
    assert step.effects() == [1] * len(step.effects())


@pytest.fixture
def hanakos_spent_token(app):
    """The `once` value of a final form hanako submitted (her own 一括解約 or secret Q/A
    change), kept by her: spent, and signed for her."""

    def spent(name: str) -> str:
        hanako = app.test_client()
        assert log_in(hanako, "hanako0002").status_code == 303
        form = final_form(hanako, STEPS[name])
        assert hanako.post(STEPS[name].final_url, data=form).status_code == 303
        return form["once"]

    return spent


@pytest.mark.parametrize("name", ["cancel", "secret"])
def test_a_spent_token_of_another_member_without_a_csrf_token_gets_the_stale_page(
    member_client, hanakos_spent_token, name
):
    """A page elsewhere auto-posts only `once=<hanako's spent token>` in taro's browser: he is
    told the screen has expired, not that something was done, and stays logged in."""
    spent = hanakos_spent_token(name)
    cookie = member_client.get_cookie("session").value
    response = member_client.post("/account/phone", data={"once": spent})
    assert response.status_code == 400
    assert "画面の有効期限が切れた" in response.get_data(as_text=True)
    assert member_client.get_cookie("session").value == cookie
    assert member_client.get("/account").status_code == 200


@pytest.mark.parametrize("name", ["cancel", "secret"])
def test_a_spent_token_of_another_member_is_not_his_repeat(
    member_client, hanakos_spent_token, name
):
    """With taro's own CSRF token too, hanako's spent token is not a repeat of anything of his."""
    spent = hanakos_spent_token(name)
    response = post(member_client, "/account/phone", {"new_phone": "09012345678", "once": spent})
    assert response.status_code == 400
    assert "画面の有効期限が切れた" in response.get_data(as_text=True)
    assert member_client.get("/account").status_code == 200
    assert history("日中のご連絡先電話番号") == 0


def test_even_his_own_spent_token_without_a_csrf_token_gets_the_stale_page(member_client):
    form = final_form(member_client, STEPS["secret"])
    assert member_client.post(STEPS["secret"].final_url, data=form).status_code == 303
    response = member_client.post(STEPS["secret"].final_url, data={"once": form["once"]})
    assert response.status_code == 400
    assert "画面の有効期限が切れた" in response.get_data(as_text=True)
