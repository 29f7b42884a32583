"""A real OpenID provider on loopback for the d-account tests: oidc-provider-mock (built on
Authlib) publishes its discovery document and keys and signs RS256 ID tokens with a key of its
own, made when it starts. It runs in a thread of the test process. Faults are made on the
wire in front of it, as a network or a broken provider would make them: a slow answer, a
changed token. The wire also authenticates the client as RFC 6749 2.3.1 says, which the mock
does not (it takes any secret from a client it does not know). Nothing of our relying party is
stubbed."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

import oidc_provider_mock
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from oidc_provider_mock import User
from werkzeug.serving import make_server

CLIENT_ID = "webbilling-test"
CLIENT_SECRET = "test+client/secret=="  # base64-looking, as real providers issue them
# The demo d-accounts (the same as `make run`'s): the first is linked to taro0001 by seed-demo.
LINKED, UNLINKED = "demo-taro", "demo-unlinked"


def settings(issuer: str) -> dict:
    """The app's settings for a provider at `issuer`."""
    return {
        "DACCOUNT_ISSUER": issuer,
        "DACCOUNT_CLIENT_ID": CLIENT_ID,
        "DACCOUNT_CLIENT_SECRET": CLIENT_SECRET,
        "DACCOUNT_TIMEOUT_SECONDS": 1,
    }


class Provider:
    def __init__(self, server):
        self.server = server
        self.issuer = f"http://127.0.0.1:{server.server_port}"  # no trailing slash, like its own
        self.sleep: dict[str, float] = {}  # path → seconds to wait before answering
        self.tamper_id_token = False
        self.claims: dict = {}  # claims to sign differently (see `wire`)
        self.token_requests: list[dict] = []  # the forms posted to the token endpoint
        self.authorizations: list[str | None] = []  # their Authorization headers
        # token_endpoint_auth_methods_supported in the discovery document (None: left out, as
        # the mock does, which means client_secret_basic)
        self.auth_methods: list[str] | None = None

    @property
    def settings(self) -> dict:
        return settings(self.issuer)

    def wire(self, app):
        """WSGI in front of the provider, changing what it sends: a delay; an ID token with one
        character changed; or, when `claims` is set, ID tokens with those claims changed and
        signed with a key of the wire's own, which the key set it publishes then holds (a
        provider that really signs a token for someone else, or names another issuer). A token
        request that does not authenticate as our client gets 401 invalid_client."""
        key = RSAKey.generate_key(2048)

        def middleware(environ, start_response):
            path = environ.get("PATH_INFO", "")
            time.sleep(self.sleep.get(path, 0))
            if path == "/.well-known/openid-configuration" and self.auth_methods is not None:
                metadata = json.loads(b"".join(app(environ, lambda *_: None)))
                metadata["token_endpoint_auth_methods_supported"] = self.auth_methods
                return _json(start_response, "200 OK", metadata)
            if path == "/oauth2/token":
                form = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                self.token_requests.append(dict(parse_qsl(form.decode())))
                self.authorizations.append(environ.get("HTTP_AUTHORIZATION"))
                environ["wsgi.input"] = io.BytesIO(form)
                if not self.authenticates(self.token_requests[-1], self.authorizations[-1]):
                    return _json(start_response, "401 Unauthorized", {"error": "invalid_client"})
            if path == "/jwks" and self.claims:
                return _json(start_response, "200 OK", {"keys": [key.as_dict(private=False)]})
            if path != "/oauth2/token" or not (self.tamper_id_token or self.claims):
                return app(environ, start_response)
            answer = {}

            def keep(status, headers, exc_info=None):
                answer["status"] = status

            body = json.loads(b"".join(app(environ, keep)))
            header, payload, signature = body["id_token"].split(".")
            if self.claims:
                claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
                body["id_token"] = jwt.encode({"alg": "RS256"}, claims | self.claims, key)
            else:  # the signature no longer matches the claims
                payload = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
                body["id_token"] = ".".join((header, payload, signature))
            return _json(start_response, answer["status"], body)

        return middleware

    def authenticates(self, form: dict, authorization: str | None) -> bool:
        """Whether a token request authenticates our client (RFC 6749 2.3.1) by a method the
        discovery document offers: HTTP Basic of the id and secret, each form-urlencoded first
        (client_secret_basic), or both in the form (client_secret_post)."""
        if authorization and authorization.startswith("Basic "):
            pair = base64.b64decode(authorization.removeprefix("Basic ")).decode()
            method, given = "client_secret_basic", [unquote_plus(p) for p in pair.split(":", 1)]
        else:
            method, given = "client_secret_post", [form.get("client_id"), form.get("client_secret")]
        offered = self.auth_methods or ["client_secret_basic"]
        return method in offered and given == [CLIENT_ID, CLIENT_SECRET]


def _json(start_response, status, body) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


@contextmanager
def provider(token_max_age=timedelta(hours=1), port=0):
    """A provider that knows the demo d-accounts (any other subject can be typed in too)."""
    app = oidc_provider_mock.app(
        require_nonce=True,
        access_token_max_age=token_max_age,
        user_claims=[User(sub=LINKED, claims={}), User(sub=UNLINKED, claims={})],
    )
    server = make_server("127.0.0.1", port, None, threaded=True)
    op = Provider(server)
    server.app = op.wire(app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield op
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def black_hole():
    """The address of a server that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def closed_port() -> str:
    """The address of a port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def sign_in(authorization_url: str, sub: str = LINKED, **form) -> str:
    """What a person does on the provider's page (type a subject and press Authorize, or press
    Deny with action="deny"): returns where the provider sends the browser back to."""
    answer = requests.post(
        authorization_url, data=form or {"sub": sub}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def with_params(url: str, **params) -> str:
    """`url` with query parameters replaced (e.g. a nonce changed on its way)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | params
    return urlunsplit(parts._replace(query=urlencode(query)))


def path_of(url: str) -> str:
    """The path and query of `url`, for the Flask test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"
