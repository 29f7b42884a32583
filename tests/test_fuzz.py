"""Hostile input to every form endpoint: never a 5xx, never echoed unescaped, and a refused
request leaves the database as it was. Hostile headers, query strings and cookies on every
endpoint, and CSV cells of any length to import-lines: never a 5xx, never a traceback."""

import csv
import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from models import Company, LineRecord, LoginSession

from .conftest import HX, in_db, log_in, token_in
from .oidc_provider import provider
from .test_sweeps import concrete, database_state, rules

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE member; --",
    "\x00",
    "０９０－１２３４－５６７８",
    "😀" * 50,
    "x" * 10_000,
    "ＡＢＣ",
    " ",
    "",
    "../../etc/passwd",
    "{{7*7}}",
    "%00",
    "\u202e",
    "0312345678",
    "taro@example.com",
    "on",
    "1" * 5000,  # an id past int()'s 4,300 digits
    "1" * 5000 + ":0312345678",  # a staged line with such a company id
    "http://[",  # an address urlsplit() refuses (the posted next)
]
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300))

# Addresses where the app reads one (next, HX-Current-URL, Referer, Origin): urlsplit() raises
# on some ("http://[").
ADDRESSES = [
    "http://[",
    "http://[x",
    "//[",
    "http://[::1",
    "http://[::1]:99999/",
    "http://localhost:x/account",
    "http://localhost/account",
    "//evil.example/",
    "/\\evil.example",
    "javascript:alert(1)",
    "/account?x=%ff",
    "%",
    "\x00",
    "http://\u00e9/",
    "/" * 3000,
]
# A header value as a server hands it on: any byte but CR and LF, read as Latin-1.
header_values = st.one_of(
    st.sampled_from(HOSTILE[:4]),
    st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=300),
)
addresses = st.sampled_from(ADDRESSES) | header_values
# Every request header the app, Flask or Werkzeug reads (ProxyFix and the request id from the
# proxy are on in this module, as behind deploy/nginx.conf); each is sent or not.
HEADERS = {
    "HX-Request": st.just("true") | header_values,
    "HX-Current-URL": addresses,
    "Referer": addresses,
    "Origin": addresses,
    "X-Request-ID": header_values,
    "X-Forwarded-For": header_values,
    "Accept-Encoding": st.sampled_from(["br;q=abc", "gzip;q=-1", "*;q=1e999"]) | header_values,
    "Content-Type": st.just("multipart/form-data") | header_values,
    "If-None-Match": header_values,
    "If-Modified-Since": header_values,
    "Range": st.sampled_from(["bytes=abc", "bytes=99999999-", "bytes=5-1"]) | header_values,
}
# Query parameters some route reads, and the cookies the app sets.
QUERY = dict.fromkeys(["state", "code", "error", "staged", "cancel", "target"], values)
COOKIES = dict.fromkeys(["session", "daccount_link"], header_values)


@pytest.fixture
def app_config():
    """The d-account login on (its routes read next, state and code), the request id taken from
    the proxy and ProxyFix trusting one proxy: every parser the app has runs. The examples log
    in more often than the login rate limit lets one address."""
    with provider() as op:
        yield op.settings | {
            "REQUEST_ID_FROM_PROXY": True,
            "PROXY_FIX_X_FOR": 1,
            "LOGIN_RATE_LIMIT": "1000 per minute",
        }


@pytest.fixture
def field_names(app) -> list[str]:
    """Every input name the app's pages show, found by reading them as a browser would."""
    client = app.test_client()
    log_in(client)
    names = {"login_id", "password"}
    for rule in rules(app, "GET"):
        if rule.endpoint != "assets.static":
            names |= set(
                re.findall(
                    r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"',
                    client.get(concrete(rule)).get_data(as_text=True),
                )
            )
    return sorted(names - {"csrf_token"})


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_hostile_posts(app, field_names, data):
    client = app.test_client()
    logged_in = data.draw(st.booleans(), label="logged in")
    if logged_in:
        log_in(client)
    page = client.get("/account" if logged_in else "/login", follow_redirects=True)
    token = token_in(page.get_data(as_text=True))
    rule = data.draw(st.sampled_from(rules(app, "POST")), label="endpoint")
    fields = data.draw(
        st.lists(
            st.tuples(st.sampled_from(field_names) | st.text(max_size=20), values), max_size=8
        ),
        label="fields",
    )  # duplicates allowed
    headers = data.draw(st.sampled_from([HX, {}]), label="headers")
    before = database_state()
    response = client.post(
        concrete(rule), data=MultiDict([("csrf_token", token), *fields]), headers=headers
    )
    body = response.get_data(as_text=True)
    assert response.status_code < 500, (rule.rule, fields)
    for _, value in fields:
        if "<" in value and len(value) > 3:
            assert value not in body, (rule.rule, value)
    if response.status_code >= 400:
        after = database_state()
        assert {k: v for k, v in after.items() if k != "LoginSession"} == {
            k: v for k, v in before.items() if k != "LoginSession"
        }, rule.rule


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_hostile_headers_query_strings_and_cookies(app, data):
    """Logged out, logged in, or with a session that ended meanwhile (where the app reads
    HX-Current-URL or Referer to send the member back after logging in again), with or without
    a d-account login under way (the callback then compares its state)."""
    client = app.test_client()
    state = data.draw(st.sampled_from(["out", "in", "ended"]), label="session")
    token = token_in(client.get("/login").get_data(as_text=True))
    if state != "out":
        log_in(client)
        token = token_in(client.get("/account").get_data(as_text=True))
    if state == "ended":
        in_db(lambda: LoginSession.delete().execute())
    if data.draw(st.booleans(), label="d-account login under way"):
        client.get("/login/d-account")
    for name, value in data.draw(st.fixed_dictionaries({}, optional=COOKIES)).items():
        client.set_cookie(name, value)
    method = data.draw(st.sampled_from(["GET", "POST"]), label="method")
    rule = data.draw(st.sampled_from(rules(app, method)), label="endpoint")
    headers = data.draw(st.fixed_dictionaries({}, optional=HEADERS), label="headers")
    query = data.draw(
        st.fixed_dictionaries({}, optional={"next": addresses, **QUERY}), label="query"
    )
    host = data.draw(st.none() | header_values, label="Host")
    response = client.open(
        concrete(rule),
        method=method,
        query_string=query,
        headers=headers,
        data={"csrf_token": token} if method == "POST" else None,
        environ_overrides={} if host is None else {"HTTP_HOST": host},
    )
    assert response.status_code < 500, (rule.rule, headers, query, host)
    response.close()


# A cell of any length: the csv module stops at 131,072 characters, the name columns at 255.
cells = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda text, length: text * length,
        st.text(min_size=1, max_size=3),
        st.sampled_from([255, 256, 4_400, 131_072, 131_073, 200_000]),
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(cells, min_size=3, max_size=5), max_size=4))
def test_import_lines_with_cells_of_any_length(cli, tmp_path, rows):
    """A message naming each bad row, or the rows imported; never a traceback, never a whole
    long cell on the terminal, and what is imported fits its columns."""
    text = io.StringIO()
    csv.writer(text).writerows([["company", "number", "holder", "representative"], *rows])
    path = tmp_path / "lines.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    result = cli("import-lines", str(path))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1)
    assert all(len(line) < 1000 for line in result.output.splitlines())
    longest = in_db(
        lambda: max(
            [len(c.name) for c in Company.select()]
            + [len(r.holder_name) for r in LineRecord.select()]
        )
    )
    assert longest <= 255
