"""How a view answers: an htmx request gets the fragment, any other request the full page."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

ERROR_TITLES = {
    400: "不正なリクエスト",
    403: "操作できません",
    404: "ページが見つかりません",
    405: "操作できません",
    410: "URLの有効期限切れ",
    413: "送信内容が大きすぎます",
    429: "アクセスが集中しています",
    500: "システムエラー",
}


def is_htmx() -> bool:
    # htmx history is "reload" (base.html's htmx-config): Back to an entry htmx pushed loads
    # its URL as a whole new page, so no htmx request is a history restore.
    return request.headers.get("HX-Request") == "true"


def render(fragment: str, *, title: str, status: int = 200, **context):
    """Render `fragment` alone for htmx, or inside the layout (templates/page.html)."""
    template = fragment if is_htmx() else "page.html"
    return render_template(template, fragment=fragment, title=title, **context), status


def completed(endpoint: str, **values):
    """The answer to a final POST that succeeded: its 完了 step. htmx swaps in what the 完了
    page's own view renders; without JavaScript, a 303 to that page, so that reloading it
    posts nothing again."""
    if is_htmx():
        return current_app.view_functions[endpoint](**values)
    return redirect(url_for(endpoint, **values), 303)


def client_redirect(url: str):
    """Send the browser to `url` as a whole new page. A fragment cannot show another page, so
    htmx is told with HX-Redirect; any other request gets a 303."""
    if is_htmx():
        return "", 200, {"HX-Redirect": url}
    return redirect(url, 303)


def no_such_step(step: str):
    """Called by a card template whose `step` no branch knows: a typo must fail loudly, not
    show the view step with status 200."""
    raise ValueError(f"unknown step {step!r}")
