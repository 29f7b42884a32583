"""The relying party of the d-account's OpenID provider (authorization code flow, PKCE S256,
state and nonce), with Authlib: discovery, the authorization URL, the token request and every
check of the ID token (signature against the provider's keys, issuer, audience, expiry,
nonce) are Authlib's and joserfc's. What Authlib leaves to us is here: the provider's own
issuer in its discovery document, the 10-minute and once-only life of a login attempt (see
views.py), time limits on the provider, how the token request shows it is us, and turning each
failure into a Problem."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from urllib.parse import quote_plus

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from authlib.integrations.requests_client.oauth2_session import OAuth2ClientAuth
from flask import Flask, current_app
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError

from .rules import Problem, valid_subject

log = logging.getLogger(__name__)
SETTINGS = ("DACCOUNT_ISSUER", "DACCOUNT_CLIENT_ID", "DACCOUNT_CLIENT_SECRET")
LEEWAY_SECONDS = 60  # clock difference allowed between the provider and us


class Refused(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.name)
        self.problem = problem


def init_app(app: Flask) -> None:
    """Register the provider's client when the three settings are there (all or none)."""
    given = [key for key in SETTINGS if app.config.get(key)]
    if not given:
        return
    if len(given) < len(SETTINGS):
        raise RuntimeError(f"{', '.join(f'FLASK_{k}' for k in SETTINGS)} go together.")
    issuer = str(app.config["DACCOUNT_ISSUER"])
    app.extensions["daccount"] = OAuth(app).register(
        "daccount",
        client_id=str(app.config["DACCOUNT_CLIENT_ID"]),
        client_secret=str(app.config["DACCOUNT_CLIENT_SECRET"]),
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid",
            "code_challenge_method": "S256",
            # Every request to the provider (discovery, keys, token) gives up after this.
            "default_timeout": app.config["DACCOUNT_TIMEOUT_SECONDS"],
        },
    )


def configured() -> bool:
    return "daccount" in current_app.extensions


def authorization(redirect_uri: str) -> dict:
    """Where to send the browser: {"url", "state", "nonce", "code_verifier"}."""
    client = current_app.extensions["daccount"]
    with _problems():
        _metadata(client)
        return client.create_authorization_url(redirect_uri)


def identity(code: str, redirect_uri: str, code_verifier: str, nonce: str) -> tuple[str, str]:
    """Exchange the code for tokens and check the ID token: its (issuer, subject)."""
    client = current_app.extensions["daccount"]
    issuer = str(current_app.config["DACCOUNT_ISSUER"])
    with _problems():
        auth = _client_authentication(client, _metadata(client))
        token = client.fetch_access_token(
            redirect_uri=redirect_uri, code=code, code_verifier=code_verifier, auth=auth
        )
        if "id_token" not in token:
            raise Refused(Problem.token_invalid)

        def check():
            # Authlib checks the audience only when told to, and these options replace its
            # default issuer check, so both are named here.
            options = {
                "iss": {"essential": True, "values": [issuer]},
                "aud": {"essential": True, "values": [client.client_id]},
            }
            return client.parse_id_token(
                token, nonce=nonce, claims_options=options, leeway=LEEWAY_SECONDS
            )

        try:
            claims = check()
        except BadSignatureError:
            # Keys are fetched again only for an unknown key id; a provider that rotates its
            # key without key ids would otherwise be refused until we restart.
            client.server_metadata.pop("jwks", None)
            claims = check()
    if not valid_subject(claims.get("sub")):
        raise Refused(Problem.token_invalid)
    return issuer, claims["sub"]


def _metadata(client) -> dict:
    """The discovery document (read once per process); its issuer must be the one we were
    configured with (OpenID Connect Discovery 4.3), which Authlib does not check."""
    metadata = client.load_server_metadata()
    if metadata.get("issuer") != str(current_app.config["DACCOUNT_ISSUER"]):
        client.server_metadata.clear()  # read it again next time
        log.warning("d-account discovery names another issuer")
        raise Refused(Problem.provider_error)
    return metadata


def _client_authentication(client, metadata: dict):
    """How the token request shows it is us (RFC 6749 2.3.1). HTTP Basic of the id and secret
    each form-urlencoded first: Authlib's client_secret_basic sends them as they are, and a
    provider that decodes them reads the "+" of a base64-looking secret as a space. The secret
    goes in the form instead when the provider lists client_secret_post before
    client_secret_basic (a list left out means client_secret_basic: OpenID Connect Discovery)."""
    offered = metadata.get("token_endpoint_auth_methods_supported", [])
    ours = [m for m in offered if m in ("client_secret_basic", "client_secret_post")]
    if ours[:1] == ["client_secret_post"]:
        return OAuth2ClientAuth(client.client_id, client.client_secret, "client_secret_post")
    return requests.auth.HTTPBasicAuth(
        quote_plus(client.client_id), quote_plus(client.client_secret)
    )


@contextmanager
def _problems():
    """Turn what the provider, the network or the token checks raise into a Refused."""
    try:
        yield
    except Refused:
        raise
    except Exception as error:
        problem = _problem(error)
        if problem is None:
            raise
        log.warning("d-account login refused: %s (%s)", problem.name, type(error).__name__)
        raise Refused(problem) from error


def _problem(error: BaseException) -> Problem | None:
    if isinstance(error, ExpiredTokenError):
        return Problem.token_expired
    if isinstance(error, ClaimError) and error.claim == "nonce":  # wrong or missing
        return Problem.token_nonce
    if isinstance(error, JoseError):
        return Problem.token_invalid
    if isinstance(error, requests.Timeout):  # before ConnectionError: ConnectTimeout is both
        return Problem.slow
    if isinstance(error, requests.ConnectionError):
        return Problem.unreachable
    if isinstance(error, OAuthError | requests.RequestException | ValueError):
        return Problem.provider_error  # an error answer, or one that is not JSON
    return None
