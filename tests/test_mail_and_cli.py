"""The outbox, real SMTP delivery, the dev mailbox, and the operator commands."""

import threading
import time

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from jinja2 import ChoiceLoader, DictLoader

from extensions import db
from mail import RETRY_CAP, deliver_outbox, queue_mail, retry_delay
from models import Company, LineRecord, Member, OutboxMail

from . import conftest
from .conftest import delivering, in_db, make_app, wait_for
from .live import free_port

TEMPLATE = "{{ name }} 様\nhttps://billing.example.jp/x?a=1&b=2\n"


def queue_in_request(app, to="taro@example.com", fail=False):
    """Queue a mail inside a request's transaction, as a view does."""
    with app.test_request_context("/"), db.database.connection_context():
        try:
            with db.database.atomic():
                Member.update(daytime_phone="0399999999").where(Member.id == 1).execute()
                queue_mail(to, "件名", "mail/test.txt", name="太郎")
                if fail:
                    raise RuntimeError("the change failed")
        except RuntimeError:
            pass


@pytest.fixture(autouse=True)
def test_template(monkeypatch):
    """A mail template of the tests' own, added to every app these tests make."""
    import app as app_module

    original = app_module.create_app

    def create_app(*args, **kwargs):
        made = original(*args, **kwargs)
        made.jinja_loader = ChoiceLoader(
            [made.jinja_loader, DictLoader({"mail/test.txt": TEMPLATE})]
        )
        return made

    monkeypatch.setattr(app_module, "create_app", create_app)
    monkeypatch.setattr(conftest, "create_app", create_app)


def test_mail_and_change_commit_together_or_not_at_all(app):
    queue_in_request(app, fail=True)
    assert in_db(OutboxMail.select().count) == 0
    queue_in_request(app)
    mail = in_db(OutboxMail.get)
    assert mail.to == "taro@example.com" and "太郎 様" in mail.body and mail.sent_at is None


def test_delivered_over_real_smtp_after_the_response(tmp_path, smtp, app):
    app = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    queue_in_request(app)  # no response here: stays queued until send-mail
    assert in_db(lambda: OutboxMail.get().sent_at) is None
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0 and "送信 1件" in result.output
    assert smtp.received.wait(5)
    message = smtp.messages[0]
    assert message["To"] == "taro@example.com" and message["Subject"] == "件名"
    assert "太郎 様" in message.get_content()
    assert in_db(lambda: OutboxMail.get().sent_at) is not None
    assert app.test_cli_runner().invoke(args=["send-mail"]).output.startswith("送信 0件")


def test_a_views_mail_goes_out_at_once_without_its_response_being_closed(tmp_path, smtp, app):
    app = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)

    @app.post("/_test/notify")
    def notify():
        with db.database.atomic():
            queue_mail("hanako@example.com", "お知らせ", "mail/test.txt", name="花子")
        return "ok"

    app.config["WTF_CSRF_ENABLED"] = False
    with delivering(app):
        time.sleep(0.5)  # the loop's first look at the outbox is over: it waits 2 s now
        started = time.monotonic()
        app.test_client().post("/_test/notify")  # the response is never closed
        assert smtp.received.wait(5)
        took = time.monotonic() - started
    assert took < 1, "woken by the commit, not by its next look"
    assert smtp.messages[0]["To"] == "hanako@example.com"
    assert in_db(lambda: OutboxMail.get().sent_at) is not None


def test_smtp_down_keeps_the_mail_for_send_mail(tmp_path, smtp, app):
    down = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    queue_in_request(down)
    with down.app_context(), db.database.connection_context():
        assert deliver_outbox() == (0, 1)
    waiting = in_db(OutboxMail.get)
    assert waiting.sent_at is None and waiting.attempts == 1 and waiting.last_error
    assert in_db(lambda: Member.get_by_id(1).daytime_phone) == "0399999999"  # change kept
    up = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    assert up.test_cli_runner().invoke(args=["send-mail"]).exit_code == 0
    assert smtp.received.wait(5) and len(smtp.messages) == 1


def test_smtp_down_then_up_the_loop_delivers_once_counting_attempts(tmp_path, app):
    port = free_port()  # nothing listens there yet: SMTP is down
    mailing = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    queue_in_request(mailing)
    seen = []
    with delivering(mailing):
        # Tried at once, then after 2 s, then 4 s later: backing off, not every poll.
        for attempts in (1, 2):

            def failed(n=attempts):  # the attempt over (claimed while it runs)
                mail = in_db(OutboxMail.get)
                return mail if mail.attempts == n and mail.claimed_until is None else None

            mail = wait_for(failed, 10)
            seen.append(mail)
        sink = conftest.SMTPSink()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()  # SMTP is back
        try:
            assert sink.received.wait(15)
            wait_for(lambda: in_db(OutboxMail.get).sent_at, 5)
            time.sleep(2.5)  # a further look at the outbox sends nothing again
        finally:
            controller.stop()
    first, second = seen
    assert first.last_error and first.sent_at is None
    assert first.next_attempt_at > first.created_at  # not before its retry time
    # The wait doubles: 2 s after the first failure, 4 s after the second.
    assert retry_delay(1).total_seconds() == 2 and retry_delay(2).total_seconds() == 4
    assert second.next_attempt_at - first.next_attempt_at >= retry_delay(2) - retry_delay(1)
    assert retry_delay(50) == RETRY_CAP
    delivered = in_db(OutboxMail.get)
    assert len(sink.messages) == 1 and sink.messages[0]["Subject"] == "件名"
    assert delivered.attempts == 3 and delivered.last_error is None


def test_deliverers_running_at_once_never_send_one_mail_twice(tmp_path, smtp, app):
    mailing = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    for n in range(40):
        queue_in_request(mailing, to=f"member{n}@example.com")
    start = threading.Barrier(4)

    def deliver():
        with mailing.app_context(), db.database.connection_context():
            start.wait()
            deliver_outbox()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recipients = sorted(message["To"] for message in smtp.messages)
    assert recipients == sorted(f"member{n}@example.com" for n in range(40))
    assert in_db(lambda: {m.attempts for m in OutboxMail.select()}) == {1}
    assert in_db(OutboxMail.select().where(OutboxMail.sent_at.is_null()).count) == 0


class RefusingFirst(conftest.SMTPSink):
    """Keeps every copy it is handed, but answers the first with a temporary failure."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        await super().handle_DATA(server, session, envelope)
        return "451 Try again later" if len(self.messages) == 1 else "250 OK"


def test_every_attempt_at_one_mail_carries_its_one_message_id_under_the_sites_domain(tmp_path, app):
    sink = RefusingFirst()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        mailing = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
        queue_in_request(mailing, to="first@example.com")
        queue_in_request(mailing, to="second@example.com")
        with mailing.app_context(), db.database.connection_context():
            assert deliver_outbox() == (1, 1)  # the first refused, the second sent
            assert deliver_outbox() == (1, 0)  # the first again
    finally:
        controller.stop()
    ids = [(m["To"], m["Message-ID"]) for m in sink.messages]
    first = in_db(lambda: OutboxMail.get(OutboxMail.to == "first@example.com"))
    assert [to for to, _ in ids] == ["first@example.com", "second@example.com", "first@example.com"]
    assert ids[0][1] == ids[2][1] != ids[1][1]
    assert ids[0][1] == f"<outbox-{first.id}.{first.created_at:%Y%m%d%H%M%S%f}@billing.example.jp>"


def test_send_mail_without_a_server_says_so(app):
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code != 0 and "FLASK_MAIL_SERVER" in result.output


def test_dev_mailbox_lists_mail_with_clickable_links(tmp_path, app):
    queue_in_request(app)
    dev = make_app(tmp_path, DEBUG=True)
    page = dev.test_client().get("/dev/mail").get_data(as_text=True)
    assert "件名" in page
    assert '<a href="https://billing.example.jp/x?a=1&amp;b=2">' in page


def test_dev_mailbox_is_absent_in_production(app, client):
    assert "dev" not in app.blueprints
    assert client.get("/dev/mail").status_code == 404


def test_seed_demo_is_idempotent(app, cli):
    def counts():
        return in_db(lambda: (Member.select().count(), LineRecord.select().count()))

    before = counts()
    assert cli("seed-demo").exit_code == 0
    assert counts() == before and before[0] == 2 and before[1] >= 11


def write(tmp_path, text):
    path = tmp_path / "lines.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_lines_accepts_numbers_as_people_write_them(tmp_path, cli):
    csv = (
        "company,number,holder,representative\n"
        "KDDI,０３－５５５５－０００１,見本 一郎,\n"
        "KDDI,03-5555-0002,見本 一郎,03-5555-0002\n"
        "KDDI,0355550003,見本 一郎,0355550002\n"
    )
    result = cli("import-lines", write(tmp_path, csv))
    assert result.exit_code == 0, result.output
    assert "3件" in result.output
    rows = in_db(
        lambda: list(
            LineRecord.select()
            .join(Company)
            .where(Company.name == "KDDI")
            .order_by(LineRecord.number)
        )
    )
    assert [(r.number, r.representative_number) for r in rows] == [
        ("0355550001", None),
        ("0355550002", "0355550002"),
        ("0355550003", "0355550002"),
    ]
    again = cli("import-lines", write(tmp_path, csv.replace("見本 一郎", "見本 次郎")))
    assert again.exit_code == 0
    assert (
        in_db(lambda: LineRecord.get(LineRecord.number == "0355550001").holder_name) == "見本 次郎"
    )


def test_import_lines_reports_every_bad_row_and_imports_nothing(tmp_path, cli):
    before = in_db(LineRecord.select().count)
    csv = (
        "company,number,holder,representative\n"
        "KDDI,0355550001,見本 一郎,\n"
        "KDDI,03-55,見本 一郎,\n"
        ",0355550004,,\n"
        "KDDI,0355550005,見本 一郎,0355559999\n"
        "KDDI,0355550001,見本 一郎,\n"
        "KDDI,0355550006\n"
    )
    result = cli("import-lines", write(tmp_path, csv))
    assert result.exit_code != 0
    for expected in (
        "3行目: 電話番号「03-55」が正しくありません",
        "4行目: ご契約会社が空です",
        "5行目: 代表番号「0355559999」",
        "6行目: 2行目と同じ回線です",
        "7行目: 項目が4つではありません",
        "何も取り込んでいません",
    ):
        assert expected in result.output
    assert in_db(LineRecord.select().count) == before


def test_import_lines_refuses_control_characters_and_shows_them_escaped(tmp_path, cli):
    before = in_db(LineRecord.select().count)
    csv = (
        "company,number,holder,representative\n"
        "KDDI,0355550001,見本 一郎,\n"
        "KDDI,0355550002,\x1b]0;pwned\x07\x1b[2J見本,\n"  # retitles and clears a terminal
        "KD\x00DI,0355550003,見本\x00一郎,\n"
        'KDDI,"03555\x1e50004",見本 一郎,\n'  # a record separator inside a quoted cell
        "KDDI,0355550005,見本\u202e一郎,\n"  # a right-to-left override
        "KDDI,03-55\x1b[31m,見本 一郎,\n"
    )
    result = cli("import-lines", write(tmp_path, csv))
    assert result.exit_code != 0
    for expected in (
        "3行目: 名義「\\x1b]0;pwned\\x07\\x1b[2J見本」に制御文字が含まれています。",
        "4行目: ご契約会社「KD\\x00DI」に制御文字が含まれています、"
        "名義「見本\\x00一郎」に制御文字が含まれています。",
        "5行目: 電話番号「03555\\x1e50004」に制御文字が含まれています。",
        "6行目: 名義「見本\\u202e一郎」に制御文字が含まれています。",
        "7行目: 電話番号「03-55\\x1b[31m」に制御文字が含まれています。",
        "5件の誤りがあるため、何も取り込んでいません。",
    ):
        assert expected in result.output
    assert not any(c in result.output for c in "\x00\x07\x1b\x1e\u202e")
    assert in_db(LineRecord.select().count) == before


def test_import_lines_checks_the_header(tmp_path, cli):
    result = cli("import-lines", write(tmp_path, "a,b,c,d\nKDDI,0355550001,x,\n"))
    assert result.exit_code != 0 and "見出し行" in result.output


def test_init_db_keeps_existing_data(cli):
    assert cli("init-db").exit_code == 0
    assert in_db(Member.select().count) == 2


def test_create_app_returns_a_flask_app(app):
    assert isinstance(app, Flask)


def test_import_lines_refuses_cells_too_long_for_the_registry(tmp_path, cli):
    """Any length of cell gets a message naming its row, the cell cut short (never a
    traceback, never 200,000 characters on the operator's terminal), and nothing imported: a
    name longer than its column (255) would be refused by PostgreSQL, a cell over 131,072
    characters stopped the csv module."""
    before = in_db(LineRecord.select().count)
    csv = (
        "company,number,holder,representative\n"
        "KDDI,0355550001,見本 一郎,\n"
        f"KDDI,0355550002,{'見' * 256},\n"
        f"KDDI,0355550003,{'x' * 200_000},\n"
        f"{'K' * 131_073},0355550004,見本 一郎,\n"
        f"KDDI,{'0' * 200_000},見本 一郎,\n"
    )
    result = cli("import-lines", write(tmp_path, csv))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    for expected in (
        "3行目: 名義が長すぎます（255文字まで）。",
        "4行目: 名義が長すぎます（255文字まで）。",
        "5行目: ご契約会社が長すぎます（255文字まで）。",
        f"6行目: 電話番号「{'0' * 30}…」が正しくありません。",
        "4件の誤りがあるため、何も取り込んでいません。",
    ):
        assert expected in result.output
    assert len(result.output) < 1000
    assert in_db(LineRecord.select().count) == before
    # As long as the columns allow, it is taken as it is.
    fits = f"company,number,holder,representative\nKDDI,0355550002,{'見' * 255},\n"
    assert cli("import-lines", write(tmp_path, fits)).exit_code == 0
    assert len(in_db(lambda: LineRecord.get(LineRecord.number == "0355550002").holder_name)) == 255
