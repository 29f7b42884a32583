"""Static files: fingerprinted URLs cached for a year, compressed once per process; and the
compression of pages.

htmx comes from the npm registry (package-lock.json pins 4.0.1 with its integrity hash) and is
served from node_modules, never committed or fetched from a CDN. Each file is read and
compressed (brotli 11, gzip 9) the first time it is asked for, then served from memory.
Only names of files that exist when the process starts are looked up: anything else a client
asks for is a 404 without touching the file system or taking memory.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import brotli
from flask import Blueprint, Response, abort, request

ROOT = Path(__file__).parent
SOURCES = {  # URL prefix under /static/ → folder
    "vendor/htmx/": ROOT / "node_modules" / "htmx.org" / "dist",
    "": ROOT / "static",
}
# Endpoints that serve files: no session, no database.
STATIC_ENDPOINTS = frozenset({"assets.static"})
ONE_YEAR = 31_536_000

bp = Blueprint("assets", __name__)


@dataclass(frozen=True)
class Asset:
    body: bytes
    brotli: bytes
    gzip: bytes
    mimetype: str
    digest: str


@cache
def files() -> dict[str, Path]:
    """Every servable file by its name under /static/, as found once per process (a file
    added later needs a restart, as a changed one always did)."""
    found = {}
    for prefix, folder in reversed(SOURCES.items()):  # the longer prefix wins
        for path in folder.rglob("*"):
            if path.is_file():
                found[prefix + path.relative_to(folder).as_posix()] = path
    return found


def load(name: str) -> Asset | None:
    path = files().get(name)
    return None if path is None else _load(path)


@cache  # bounded: one entry per file in files()
def _load(path: Path) -> Asset:
    body = path.read_bytes()
    return Asset(
        body=body,
        brotli=brotli.compress(body, quality=11),
        gzip=gzip.compress(body, 9, mtime=0),
        mimetype=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        digest=hashlib.sha256(body).hexdigest()[:12],
    )


@bp.get("/static/<path:name>")
def static(name: str):
    asset = load(name)
    if asset is None:
        abort(404)
    encoding = _encoding()
    body = {"br": asset.brotli, "gzip": asset.gzip}.get(encoding, asset.body)
    response = Response(body, mimetype=asset.mimetype)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.set_etag(f"{asset.digest}-{encoding}")
    return response.make_conditional(request)


def asset_url(name: str) -> str:
    """The URL of a static file, fingerprinted with its content hash. (Built by hand: it is
    what url_for("assets.static", ...) returns, for a fifth of the time, on every page.)"""
    asset = load(name)
    return f"{request.script_root}/static/{name}" + (f"?v={asset.digest}" if asset else "")


def _encoding() -> str | None:
    accepted = request.accept_encodings
    return "br" if "br" in accepted else "gzip" if "gzip" in accepted else None


def compress_page(response: Response) -> Response:
    """Compress pages and fragments (brotli 5: ~0.1 ms for a page).

    Not when the request is a GET with a query string. BREACH recovers a secret (here the
    CSRF token) from the sizes of compressed responses that also echo text an attacker chose.
    A cross-site link can make a browser send any query string, cookies included, and a page
    could echo it; so those stay uncompressed. A POST echoes what was typed only after its CSRF
    token was checked, and an attacker who cannot read the token cannot send such a POST (the
    SameSite=Lax cookie is not even sent cross-site), so POST answers are compressed."""
    encoding = _encoding()
    if (
        encoding is None
        or (request.method == "GET" and request.query_string)
        or response.mimetype != "text/html"
        or response.direct_passthrough
        or "Content-Encoding" in response.headers
    ):
        return response
    body = response.get_data()
    response.set_data(
        brotli.compress(body, quality=5) if encoding == "br" else gzip.compress(body, 6)
    )
    response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    return response
