"""One way to answer: an htmx request gets the fragment, any other request the full page."""

from __future__ import annotations

from flask import render_template, request

ERROR_TITLES = {
    400: "不正なリクエスト",
    403: "操作できません",
    404: "ページが見つかりません",
    405: "操作できません",
    410: "URLの有効期限切れ",
    429: "アクセスが集中しています",
    500: "システムエラー",
}


def is_htmx() -> bool:
    # htmx history is off (base.html's htmx-config), so no request is a history restore that
    # would want the whole page.
    return request.headers.get("HX-Request") == "true"


def render(fragment: str, *, title: str, status: int = 200, **context):
    """Render `fragment` alone for htmx, or inside the layout (templates/page.html)."""
    template = fragment if is_htmx() else "page.html"
    return render_template(template, fragment=fragment, title=title, **context), status
