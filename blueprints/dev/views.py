"""The QA page (/dev) and the mailbox (/dev/mail). Every action is a POST with its CSRF token,
answered with a 303 back to the page (no GET changes anything, even here)."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from cli import DEMO_MEMBERS, DEMO_PASSWORD
from clock import dev_offset, utcnow
from models import OutboxMail

from . import bp
from .changes import advance_clock, clear_mail, reset_clock, reset_demo
from .forms import ClockForm, MailFilterForm
from .scenarios import SCENARIOS, run_scenario

MAILS_PER_PAGE = 20
_URL = re.compile(r"https?://[^\s<>\"']+")


def _index(clock_form: ClockForm, status: int = 200):
    return render_template(
        "dev/index.html",
        members=DEMO_MEMBERS,
        password=DEMO_PASSWORD,
        scenarios=SCENARIOS.values(),
        clock_form=clock_form,
        mail_count=OutboxMail.select().count(),
    ), status


@bp.get("/")
def index():
    """「QAツール」: reset, scenarios, the clock, the mailbox."""
    return _index(ClockForm())


@bp.post("/reset")
def reset():
    """[デモデータを初期化]."""
    seconds = reset_demo()
    flash(f"デモデータを初期化しました（{seconds:.1f}秒）。")
    flash("ログイン中だった画面はすべてログアウトされています。もう一度ログインしてください。")
    return redirect(url_for("dev.index"), 303)


@bp.post("/scenario/<name>")
def scenario(name: str):
    """One scenario's button: the demo data reset, then the scenario's state."""
    if name not in SCENARIOS:
        abort(404)
    chosen, notes = run_scenario(name)
    flash(f"シナリオ「{chosen.title}」を用意しました（デモデータを初期化してから設定）。")
    flash(f"ログイン：{chosen.login}")
    flash(f"確認する画面：{chosen.screen}")
    for note in notes:
        flash(note)
    return redirect(url_for("dev.index"), 303)


@bp.post("/clock")
def clock_advance():
    """[進める]: the app's clock so many hours further ahead, in every process."""
    form = ClockForm()
    if not form.validate():
        return _index(form, 422)
    offset = advance_clock(form.delta)
    flash(f"時計を進めました（実際の時刻より{describe_offset(offset)}先）。")
    return redirect(url_for("dev.index"), 303)


@bp.post("/clock/reset")
def clock_reset():
    """[元に戻す]: the app's clock back to real time."""
    reset_clock()
    flash("時計を元に戻しました（実際の時刻）。")
    return redirect(url_for("dev.index"), 303)


@bp.get("/mail")
def mailbox():
    """開発用メールボックス: newest first, all of it a page at a time, filtered by 「宛先」."""
    form = MailFilterForm(request.args)
    query = OutboxMail.select()
    address = (form.to.data or "").strip() if form.validate() else ""
    if address:
        query = query.where(OutboxMail.to.contains(address))
    total = query.count()
    pages = max(1, math.ceil(total / MAILS_PER_PAGE))
    page = request.args.get("page", 1, type=int)
    page = min(max(page, 1), pages)
    mails = query.order_by(OutboxMail.id.desc()).paginate(page, MAILS_PER_PAGE)
    return render_template(
        "dev/mail.html",
        form=form,
        address=address,
        mails=mails,
        total=total,
        page=page,
        pages=pages,
    )


@bp.post("/mail/clear")
def mail_clear():
    """[メールを全て削除]."""
    flash(f"メールを全て削除しました（{clear_mail()}通）。")
    return redirect(url_for("dev.mailbox"), 303)


@bp.app_template_global()
def dev_clock() -> dict:
    """The app's time for the development banner on every page (base.html)."""
    offset = dev_offset()
    return {"now": utcnow(), "offset": describe_offset(offset) if offset else ""}


def describe_offset(offset: timedelta) -> str:
    """+25時間, +31分, +1時間30分."""
    minutes = round(offset.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    return (
        "+" + (f"{hours}時間" if hours else "") + (f"{minutes}分" if minutes or not hours else "")
    )


@bp.app_template_filter("linkify")
def linkify(text: str) -> Markup:
    """Escape `text`, then make its http(s) URLs clickable."""
    return Markup(  # noqa: S704 — the text is escaped first; only the <a> tags are ours
        _URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', str(escape(text)))
    )
