"""Sweeps over the whole URL map: whatever a later feature adds is held to the same rules."""

import re

import pytest

from models import MODELS, RateLimitCounter

from .conftest import HX, in_db, log_in

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


def concrete(rule) -> str:
    """A URL for `rule`, with made-up values for its variables (the first of an any())."""

    def value(match):
        converter, name = match[1] or "", match[2]
        if converter.startswith("any("):
            return converter[4:].split(",")[0].strip()
        return "1" if converter == "int" or "id" in name else "x"

    return re.sub(r"<(?:([^:>]+):)?([^>]+)>", value, rule.rule)


def rules(app, method):
    return [r for r in app.url_map.iter_rules() if method in r.methods]


def database_state():
    """Every row, but the rate-limit counters: a refused request counts toward its limit."""
    return in_db(
        lambda: {
            m.__name__: [tuple(r) for r in m.select().tuples()]
            for m in MODELS
            if m is not RateLimitCounter
        }
    )


@pytest.mark.parametrize("logged_in", [True, False])
@pytest.mark.parametrize("headers", [HX, {}])
def test_every_post_without_a_csrf_token_is_refused(app, client, logged_in, headers):
    if logged_in:
        log_in(client)
    before = database_state()
    posts = rules(app, "POST")
    assert len(posts) >= 5
    for rule in posts:
        response = client.post(concrete(rule), data={"x": "1"}, headers=headers)
        assert response.status_code == 400, rule.rule
        assert "画面の有効期限が切れたか" in response.get_data(as_text=True)
    assert database_state() == before


@pytest.mark.parametrize("logged_in", [True, False])
def test_every_response_carries_the_security_headers(app, client, logged_in):
    if logged_in:
        log_in(client)
    for rule in rules(app, "GET"):
        for headers in (HX, {}):
            response = client.get(concrete(rule), headers=headers)
            for name in SECURITY_HEADERS:
                assert name in response.headers, (rule.rule, name)
            if rule.endpoint != "assets.static":
                assert response.headers["Cache-Control"] == "no-store", rule.rule
            assert response.status_code < 500, rule.rule
            response.close()


def test_no_get_changes_the_database(app, client):
    log_in(client)
    before = database_state()
    for rule in rules(app, "GET"):
        client.get(concrete(rule)).close()
        client.get(concrete(rule), headers=HX).close()
    after = database_state()
    # Reading pages may only refresh the session's last-seen time.
    for name in before:
        if name != "LoginSession":
            assert after[name] == before[name], name
