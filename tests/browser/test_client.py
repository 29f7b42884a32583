"""The browser side of a flaky phone network (static/js/site.js): a tapped control is busy at
once and a second tap sends nothing; every failure is told in Japanese inside the card, which
stays as it was; focus and the page's live region after each swap; typed passwords survive an
error; tap targets; no console error or CSP violation. JavaScript on unless said otherwise;
failures are made with Playwright's route interception, the 20 s stall with its page clock."""

import re

import pytest
from playwright.sync_api import Page, expect

from models import LineRecord, LoginSession, Member, MemberLine, OutboxMail

from ..conftest import PASSWORD, in_db
from ..test_lines import give_lines
from .conftest import check_a11y, log_in

JS_ONLY = pytest.mark.parametrize("js", ["js"], indirect=True)
NETWORK = "通信できませんでした。電波の良い場所で、もう一度お試しください。"
TIMEOUT = "応答がありませんでした。電波の良い場所で、もう一度お試しください。"
SERVER = (
    "システムで問題が発生したため、処理できませんでした。しばらく待ってから、もう一度お試しください。"
    "（お問い合わせ番号：1234-5678-9012）"
)
FOREIGN = "サーバーから正しい応答がありませんでした。しばらく待ってから、もう一度お試しください。"
NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
# What the page collects: console messages and CSP violations (none may happen on any step).
WATCH = """document.addEventListener("securitypolicyviolation",
  (e) => console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI))"""


def register_group() -> None:
    """taro0001's bulk-billing group (the demo registry's representative and 3 lines)."""

    def work():
        member = Member.get(Member.login_id_key == "taro0001")
        MemberLine.create(member=member, line=LineRecord.get(LineRecord.number == "0452223333"))

    in_db(work)


def words(text: str) -> list[str]:
    return text.split()


def card(page: Page, name: str):
    return page.get_by_role("region", name=name, exact=True)


def focused(page: Page) -> str:
    """The focused element: its tag, id and accessible text."""
    return page.evaluate(
        "(e => `${e.tagName.toLowerCase()}#${e.id} "
        "${e.labels?.[0]?.textContent ?? e.textContent}`.trim())(document.activeElement)"
    )


def keep(section) -> None:
    """Marks the element `section` is now, to tell later whether it is still the same one."""
    section.evaluate("s => (window.kept = s)")


def announced_by_live_region_kept(section) -> str:
    """The text of `section` when it is the element keep() marked and a live region (so what
    changed inside it is announced); "" otherwise."""
    return section.evaluate(
        "s => s === window.kept && s.getAttribute('aria-live') === 'polite' ? s.innerText : ''"
    )


def in_view(page: Page, selector: str) -> bool:
    return page.evaluate(
        "s => { const r = document.querySelector(s).getBoundingClientRect();"
        " return r.top > -1 && r.bottom < innerHeight + 1 }",  # scrolled to device pixels
        selector,
    )


class Hold:
    """Holds every `method` request to a URL ending with `path` until released; counts them."""

    def __init__(self, page: Page, path: str, method="POST"):
        self.routes = []
        page.route(
            re.compile(re.escape(path) + "$"),
            lambda route: (
                self.routes.append(route) if route.request.method == method else route.continue_()
            ),
        )

    def release(self):
        for route in self.routes:
            route.continue_()


def to_phone_confirm(page: Page):
    page.goto("/account")
    card(page, "日中のご連絡先電話番号").get_by_role("link", name="変更").click()
    page.get_by_label("新しい日中のご連絡先電話番号").fill("0612345678")
    card(page, "日中のご連絡先電話番号").get_by_role("button", name="変更").click()
    button = page.get_by_role("button", name="変更する")
    expect(button).to_be_visible()
    return "/account/phone", button, "連絡先電話番号変更完了"


def to_email_confirm(page: Page):
    page.goto("/account")
    email = card(page, "連絡先メールアドレス")
    email.get_by_role("link", name="変更", exact=True).click()
    page.get_by_role("link", name="変更する").click()
    page.get_by_label("新しい連絡先メールアドレス", exact=True).fill("new.taro@example.net")
    page.get_by_label("新しい連絡先メールアドレス（確認用）").fill("new.taro@example.net")
    page.get_by_label("秘密の質問", exact=True).select_option("好きな食べ物は？")
    page.get_by_label("秘密の質問の回答").fill("カレー")
    page.get_by_role("button", name="登録", exact=True).click()
    button = page.get_by_role("button", name="登録する")
    expect(button).to_be_visible()
    return "/account/email", button, "連絡先メールアドレス登録/変更受付完了"


def to_credentials_fields(page: Page):
    page.goto("/account")
    card(page, "ログインID/パスワードの変更").get_by_role("link", name="変更").click()
    page.get_by_label("ログインパスワード", exact=True).check()
    page.get_by_role("button", name="次へ").click()
    page.get_by_label("現在のログインパスワード", exact=True).fill(PASSWORD)
    page.get_by_label("新しいログインパスワード", exact=True).fill("Shin-pass42")
    page.get_by_label("新しいログインパスワード（確認用）", exact=True).fill("Shin-pass42")
    if page.context._impl_obj._options.get("javaScriptEnabled", True):
        expect(page.locator("#new_password-more li.met")).to_have_count(4)  # the live checklist
    button = page.get_by_role("button", name="更新")
    return "/account/credentials", button, "ログインパスワード変更完了"


FLOWS = {
    "phone": to_phone_confirm,
    "email": to_email_confirm,
    "credentials": to_credentials_fields,
}


@JS_ONLY
@pytest.mark.parametrize("flow", FLOWS)
def test_busy_at_once_and_a_double_tap_sends_once(page: Page, flow):
    log_in(page)
    path, button, done = FLOWS[flow](page)
    held = Hold(page, path)
    sent = []
    page.on(
        "request", lambda r: sent.append(r) if r.method == "POST" and r.url.endswith(path) else None
    )
    # 100 ms after the tap: the button is disabled and says it is working, the card is busy.
    state = button.evaluate(
        """async b => { b.click(); await new Promise(r => setTimeout(r, 100));
           const after = getComputedStyle(b, "::after").content;
           return [b.disabled, after, b.closest("section").getAttribute("aria-busy")] }"""
    )
    assert state == [True, '" 処理中…"', "true"]
    button.dispatch_event("click")  # a second tap, and a third
    button.evaluate("b => b.closest('form').requestSubmit()")
    page.wait_for_timeout(300)
    held.release()
    expect(page.get_by_text(done)).to_be_visible()
    assert len(sent) == 1
    if flow == "email":
        assert in_db(lambda: OutboxMail.select().count()) == 1


@JS_ONLY
def test_a_double_tap_on_a_link_fetches_once(page: Page):
    log_in(page)
    page.goto("/account")
    held = Hold(page, "/account/phone", method="GET")
    link = card(page, "日中のご連絡先電話番号").get_by_role("link", name="変更")
    link.dblclick()
    page.wait_for_timeout(300)
    assert len(held.routes) == 1
    expect(link).to_have_attribute("aria-disabled", "true")
    held.release()
    expect(page.get_by_label("新しい日中のご連絡先電話番号")).to_be_visible()
    assert page.url.endswith("/account")  # the link's own navigation never happened


@JS_ONLY
@pytest.mark.parametrize("flow", FLOWS)
def test_every_failure_is_told_in_the_card(page: Page, flow):
    page.clock.install()
    log_in(page)
    path, button, done = FLOWS[flow](page)
    section = button.locator("xpath=ancestor::section")
    before = section.inner_text()
    failures = [
        (lambda route: route.abort("internetdisconnected"), NETWORK),
        (
            lambda route: route.fulfill(status=502, body=NGINX_502, content_type="text/html"),
            FOREIGN,
        ),
        (
            lambda route: route.fulfill(
                status=500,
                headers={"X-Request-ID": "1234-5678-9012"},
                body='<section class="card error" id="error">システムエラー</section>',
                content_type="text/html",
            ),
            SERVER,
        ),
        (lambda route: route.fulfill(status=200, body="<h1>Wi-Fi login</h1>"), FOREIGN),
        (lambda route: None, TIMEOUT),  # no answer: the 20 s timeout
    ]
    for answer, message in failures:
        page.route(re.compile(re.escape(path) + "$"), answer)
        button.click()
        if message == TIMEOUT:
            page.clock.run_for(19_000)
            expect(button).to_be_disabled()
            page.clock.run_for(1_500)
        # Inserted with role=alert: announced as it appears.
        expect(section.get_by_role("alert")).to_have_text(message)
        expect(button).to_be_enabled()
        expect(button).to_be_focused()
        expect(section).not_to_have_attribute("aria-busy", "true")
        assert words(section.inner_text().replace(message, "")) == words(before)
        expect(page.get_by_text("Bad Gateway")).to_have_count(0)
        page.unroute(re.compile(re.escape(path) + "$"))
    check_a11y(page)
    button.click()  # the network is back: the same control still works
    expect(page.get_by_text(done)).to_be_visible()
    expect(section.locator(".failure")).to_have_count(0)


@JS_ONLY
def test_an_ended_session_still_goes_to_the_login_page(page: Page):
    log_in(page)
    to_phone_confirm(page)
    in_db(lambda: LoginSession.delete().execute())  # timed out, or logged out elsewhere
    page.get_by_role("button", name="変更する").click()
    page.wait_for_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()


@JS_ONLY
def test_focus_and_announcements_after_each_swap(page: Page):
    log_in(page)
    page.goto("/account")
    phone = card(page, "日中のご連絡先電話番号")
    phone.get_by_role("link", name="変更").click()
    field = page.get_by_label("新しい日中のご連絡先電話番号")
    expect(field).to_be_focused()  # the edit step starts at its field
    field.fill("12")
    phone.get_by_role("button", name="変更").click()
    error = "固定電話または携帯電話の番号を、市外局番から正しく入力してください。"
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    expect(field).to_have_accessible_description(re.compile(error))
    expect(phone.get_by_role("alert")).to_have_text(error)  # announced as it appears
    check_a11y(page)
    field.fill("0612345678")
    phone.get_by_role("button", name="変更").click()
    expect(page.get_by_role("button", name="変更する")).to_be_visible()
    assert focused(page) == "h2#h-phone ④日中のご連絡先電話番号"  # the confirm step's start
    keep(phone)
    page.get_by_role("button", name="変更する").click()
    expect(
        page.get_by_text("日中のご連絡先電話番号を 06-1234-5678 に変更しました。")
    ).to_be_visible()
    assert "連絡先電話番号変更完了" in announced_by_live_region_kept(phone)
    assert focused(page) == "h2#h-phone ④日中のご連絡先電話番号"
    page.get_by_role("link", name="基本情報へ戻る").click()
    expect(phone.get_by_role("link", name="変更")).to_be_visible()
    assert focused(page) == "h2#h-phone ④日中のご連絡先電話番号"


@JS_ONLY
def test_a_card_below_the_fold_or_an_error_above_is_scrolled_into_view(page: Page):
    log_in(page)
    page.goto("/account")
    phone = card(page, "日中のご連絡先電話番号")
    link = phone.get_by_role("link", name="変更")
    # ④ [変更] at the very bottom of the screen: its form would open below the fold.
    link.evaluate("a => scrollBy(0, a.getBoundingClientRect().bottom - innerHeight + 2)")
    link.click()
    expect(page.get_by_label("新しい日中のご連絡先電話番号")).to_be_focused()
    assert in_view(page, "#phone")

    page.goto("/account/lines")
    page.get_by_label("お客様電話番号").fill("090-1234-5678")  # typed, never [追加]ed
    page.get_by_role("button", name="登録", exact=True).scroll_into_view_if_needed()
    page.get_by_role("button", name="登録", exact=True).click()
    # The error is 700 px above [登録]: focus and the screen go to the field it is about.
    field = page.get_by_label("お客様電話番号")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    assert in_view(page, "#number")
    expect(page.get_by_role("alert").filter(has_text="まだ追加されていません")).to_be_visible()


def test_typed_passwords_survive_an_error(page: Page, js):
    log_in(page)
    to_credentials_fields(page)
    page.get_by_label("新しいログインパスワード（確認用）", exact=True).fill("Shin-pass43")
    checklist = page.locator("#new_password-more li.met")
    if js:
        expect(checklist).to_have_count(4)
    page.get_by_role("button", name="更新").click()
    mismatch = page.get_by_label("新しいログインパスワード（確認用）", exact=True)
    expect(mismatch).to_have_attribute("aria-invalid", "true")
    fields = {
        "現在のログインパスワード": PASSWORD,
        "新しいログインパスワード": "Shin-pass42",
        "新しいログインパスワード（確認用）": "Shin-pass43",
    }
    for label, typed in fields.items():
        # Kept in the browser with JavaScript; never written into the HTML either way.
        value = page.get_by_label(label, exact=True).input_value()
        assert value == (typed if js else "")
    html = page.content()  # the DOM as HTML: a typed value is no attribute of it
    assert "Shin-pass4" not in html and PASSWORD not in html
    # The checklist says what the field holds: ✓ for the kept password, neutral for an empty one.
    expect(checklist).to_have_count(4 if js else 0)
    if js:
        expect(mismatch).to_be_focused()
    mismatch.fill("Shin-pass42")
    if not js:
        for label, typed in fields.items():
            page.get_by_label(label, exact=True).fill("Shin-pass42" if "新しい" in label else typed)
    page.get_by_role("button", name="更新").click()
    expect(page.get_by_text("ログインパスワード変更完了")).to_be_visible()


TARGETS = """() => [...document.querySelectorAll("a, button, summary, .lines label, .choice label")]
  .filter(e => e.offsetParent && !e.closest(".sr-only"))
  .map(e => {
    const r = e.getBoundingClientRect(), block = e.parentElement;
    const inSentence = e.tagName === "A" && !e.classList.contains("button") &&
      getComputedStyle(e).display === "inline" &&
      block.textContent.trim().length > e.textContent.trim().length;
    return {text: e.textContent.trim().slice(0, 20), width: r.width, height: r.height,
            inSentence, line: parseFloat(getComputedStyle(e).lineHeight)};
  })"""


@JS_ONLY
def test_tap_targets_at_360px(page: Page):
    give_lines(12)
    register_group()
    log_in(page)
    small = []
    for url in ["/account", "/account/lines", "/account/history", "/", "/nowhere"]:
        page.goto(url)
        for t in page.evaluate(TARGETS):
            if (
                t["inSentence"]
                and t["line"] < 24
                or not t["inSentence"]
                and min(t["width"], t["height"]) < 44
            ):
                small.append((url, t))
    page.context.clear_cookies()
    page.goto("/login")
    small += [
        ("/login", t)
        for t in page.evaluate(TARGETS)
        if not t["inSentence"] and min(t["width"], t["height"]) < 44
    ]
    assert small == []


UNBROKEN = r"""() => {
  const found = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walk.nextNode()); ) {
    for (const m of n.data.matchAll(/ほか\d+回線|\d[\d-]{8,}\d/g)) {
      const r = document.createRange();
      r.setStart(n, m.index);
      r.setEnd(n, m.index + m[0].length);
      const lines = new Set([...r.getClientRects()].map((x) => Math.round(x.bottom)));
      found.push([m[0], lines.size]);
    }
  }
  return found;
}"""


@JS_ONLY
def test_numbers_never_break_and_the_grid_keeps_its_notes_whole(page: Page):
    give_lines(12)
    register_group()
    log_in(page)
    for url in ["/account/lines", "/account"]:
        page.goto(url)
        found = page.evaluate(UNBROKEN)
        assert any(text == "ほか3回線" for text, _ in found) or url == "/account"
        assert [text for text, lines in found if lines != 1] == []


@JS_ONLY
def test_no_console_error_or_csp_violation_on_any_step(page: Page):
    page.context.add_init_script(WATCH)
    messages = []
    page.on("console", lambda m: messages.append((m.type, m.text)))
    log_in(page)
    to_phone_confirm(page)
    page.get_by_role("button", name="変更する").click()
    expect(page.get_by_text("連絡先電話番号変更完了")).to_be_visible()
    path, button, done = to_credentials_fields(page)
    page.get_by_label("新しいログインパスワード（確認用）", exact=True).fill("x")
    button.click()  # a 422, morphed in
    expect(page.get_by_label("新しいログインパスワード（確認用）", exact=True)).to_be_focused()
    page.get_by_label("新しいログインパスワード（確認用）", exact=True).fill("Shin-pass42")
    button.click()
    expect(page.get_by_text(done)).to_be_visible()
    page.goto("/account/lines")
    page.get_by_label("お客様電話番号").fill("12")
    page.get_by_role("button", name="追加").click()
    expect(page.get_by_label("ご契約会社")).to_be_focused()  # the first of two invalid fields
    # Chromium logs the status of every 4xx answer as a network line; a form sent back with
    # its errors is a 422 on purpose. Anything else (a script error, CSP) fails the test.
    status_lines = re.compile(r"Failed to load resource: the server responded with a status of 422")
    assert [
        m for m in messages if m[0] in ("error", "warning") and not status_lines.match(m[1])
    ] == []
