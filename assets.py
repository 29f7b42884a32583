"""Static files under fingerprinted URLs, so browsers may cache them for a year."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, url_for

ROOT = Path(__file__).parent
# Endpoints that serve files: no session, no database, cached for a year.
STATIC_ENDPOINTS = frozenset({"static", "htmx.static"})
HTMX_DIR = ROOT / "node_modules" / "htmx.org" / "dist"

# htmx comes from the npm registry (package-lock.json pins 4.0.1 with its integrity hash);
# it is served from node_modules, never committed or fetched from a CDN.
htmx_blueprint = Blueprint(
    "htmx", __name__, static_folder=HTMX_DIR, static_url_path="/static/vendor/htmx"
)


@cache
def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def asset_url(name: str) -> str:
    if name == "htmx":
        return url_for("htmx.static", filename="htmx.min.js", v=_fingerprint(HTMX_DIR / "htmx.min.js"))
    return url_for("static", filename=name, v=_fingerprint(ROOT / "static" / name))
