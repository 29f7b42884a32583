from flask import flash, g, redirect, url_for

import once
import ratelimit
from blueprints.auth.sessions import login_required
from models import Member
from rendering import completed, is_htmx, render

from . import bp
from .changes import (
    cancel_email_change,
    pending_change,
    request_email_change,
    resend_email_change,
    valid_hours,
)
from .forms import EmailChangeForm

CARD = "email/_card.html"
TITLE = "連絡先メールアドレス変更"


def card_context(member: Member) -> dict:
    """What the ⑥ card shows, on 基本情報 and in each of its steps: the address, and the change
    waiting for its mailed link, if any."""
    return {"member": member, "pending": pending_change(member.id), "hours": valid_hours()}


def _card(step: str, form: EmailChangeForm | None = None, status: int = 200, **context):
    return render(
        CARD, title=TITLE, step=step, form=form, status=status, **card_context(g.member), **context
    )


def _form() -> EmailChangeForm:
    return EmailChangeForm(current=g.member.email)


@bp.get("/account/email/card")
@login_required
def card():
    """The ⑥ item as 基本情報 shows it (where キャンセル goes back to)."""
    return _card("view")


@bp.get("/account/email")
@login_required
def start():
    """⑥ [変更]: change the address or keep it (→ 秘密の質問／回答の変更); with no address
    registered yet, straight to the form."""
    if not g.member.email:
        return _card("edit", _form())
    return _card("choice")


@bp.get("/account/email/edit")
@bp.post("/account/email/edit")
@login_required
def edit():
    """[変更する]: the form (a POST here is 戻る from the confirm step, keeping the input)."""
    return _card("edit", _form())


@bp.post("/account/email/confirm")
@login_required
def confirm():
    """[登録]: show what will be sent, or the form again with the problems."""
    form = _form()
    if not form.validate():
        return _card("edit", form, 422)
    return _card("confirm", form)


# Each request mails a stranger's address: a per-client cap keeps this from becoming a spam relay.
mail_limit = ratelimit.limit("EMAIL_CHANGE_RATE_LIMIT", "email-change")


@bp.post("/account/email")
@login_required
@mail_limit
def apply():
    """[登録する]: validate everything again, then store the request and mail the link."""
    form = _form()
    if not form.validate():
        return _card("edit", form, 422)
    question, answer = form.secret_question.data, form.secret_answer.data
    request_email_change(g.member, form.address, question, answer, once.token("email"))
    return completed("email.sent")


@bp.get("/account/email/sent")
@login_required
def sent():
    """連絡先メールアドレス登録/変更受付完了 (the no-JavaScript landing after its 303)."""
    if pending_change(g.member.id) is None:  # visited later: nothing waits for a mail
        return _card("view")
    return _card("sent")


@bp.post("/account/email/resend")
@login_required
@mail_limit
def resend():
    """Send the link again (a new link; the previous one stops working)."""
    if resend_email_change(g.member, once.token("resend")) is None:
        return _card("view", notice="お手続き中の変更はありません。")
    return completed("email.sent")


@bp.post("/account/email/cancel")
@login_required
def cancel():
    """Cancel the pending change; the registered address stays as it is."""
    notice = (
        "連絡先メールアドレス変更のお手続きを取り消しました。"
        if cancel_email_change(g.member)
        else "お手続き中の変更はありません。"
    )
    if not is_htmx():
        flash(notice)
        return redirect(url_for("account.index") + "#email", 303)
    return _card("view", notice=notice)


once.answer_repeats("email", lambda: completed("email.sent"))
once.answer_repeats("resend", lambda: completed("email.sent"))
