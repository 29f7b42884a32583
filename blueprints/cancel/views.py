from flask import g, redirect, session, url_for

from blueprints.auth.sessions import end_all_sessions, login_required
from clock import utcnow
from extensions import db
from mail import queue_mail
from models import Cancellation, Member, record_change
from rendering import is_htmx, render

from . import bp
from .forms import CancelForm

CARD = "cancel/_card.html"
TITLE = "Webビリング一括解約"
# Set in the (new, empty) session of the browser that just cancelled, so only it sees 完了.
DONE_KEY = "cancel_done"


def _card(step: str, form: CancelForm | None = None, status: int = 200, title: str = TITLE):
    return render(CARD, title=title, step=step, form=form, status=status)


@bp.get("/card")
@login_required
def card():
    """The ⑪ item as 基本情報 shows it (where キャンセル goes back to)."""
    return _card("view")


@bp.get("")
@login_required
def start():
    """What 一括解約 means, with [解約する] (from ⑪ [解約] or the line screen)."""
    return _card("start")


@bp.get("/reason")
@bp.post("/reason")
@login_required
def reason():
    """解約理由 (a POST here is 戻る from the confirm step, keeping the choice)."""
    return _card("reason", CancelForm())


@bp.post("/confirm")
@login_required
def confirm():
    form = CancelForm()
    if not form.validate():
        return _card("reason", form, 422)
    return _card("confirm", form)


@bp.post("")
@login_required
def cancel():
    """[解約する]: in one transaction the membership is marked cancelled with its reason, the
    notice is queued and every session of the member ends; this browser then sees 完了."""
    form = CancelForm()
    if not form.validate():
        return _card("reason", form, 422)
    member = g.member
    now = utcnow()
    with db.database.atomic():
        # The condition makes a double submit (two tabs) cancel once.
        if (
            Member.update(cancelled_at=now)
            .where((Member.id == member.id) & Member.cancelled_at.is_null())
            .execute()
        ):
            Cancellation.create(member=member.id, reason=form.reason.data, cancelled_at=now)
            record_change(member, "Webビリング一括解約", f"解約理由：{form.reason.data}")
            if member.email:
                queue_mail(
                    member.email,
                    "【WebBilling】Webビリング一括解約のお知らせ",
                    "email/cancelled.txt",
                    member=member,
                    reason=form.reason.data,
                    cancelled_at=now,
                )
        end_all_sessions(member)
    session.clear()
    session[DONE_KEY] = True
    g.member = g.login = None
    done_url = url_for("cancel.done")
    if is_htmx():
        # The header (name, ログアウト) belongs to the ended session: load a whole new page.
        return "", 200, {"HX-Redirect": done_url}
    return redirect(done_url, 303)


@bp.get("/done")
def done():
    """一括解約完了: needs no login (there is none any more), only the mark of the browser that
    just cancelled."""
    if not session.pop(DONE_KEY, False):
        return redirect(url_for("auth.login"), 303)
    return _card("done", title=f"{TITLE}完了")
