"""The page the mailed link opens (no login): 連絡先メールアドレス登録/変更 確定."""

from flask import redirect, url_for

import ratelimit
from rendering import is_htmx, render

from . import bp
from .changes import MAX_WRONG_ANSWERS, confirm_email_change, open_link
from .forms import LinkAnswerForm

FRAGMENT = "email/_confirm_link.html"
TITLE = "連絡先メールアドレス登録/変更 確定"
DONE_TITLE = "連絡先メールアドレス登録/変更 完了"
# What each dead link shows, and its status: 404 for a link we never issued (or for a row
# that no longer exists), 410 Gone for one we did issue that can no longer be used.
PROBLEMS = {
    "forged": ("URLが正しくありません", 404),
    "expired": ("URLの有効期限切れ", 410),
    "used": ("お手続き済みのURLです", 410),
    "replaced": ("新しいお申し込みにより無効になったURLです", 410),
    "killed": ("無効になったURLです", 410),
    "cancelled": ("取り消されたお申し込みのURLです", 410),
    "closed": ("お手続きできません", 410),
}


# Per client: a public page whose only secret is the token in its URL.
link_limit = ratelimit.limit("EMAIL_LINK_RATE_LIMIT", "email-link")


def _problem_page(problem: str):
    title, status = PROBLEMS[problem]
    return render(
        FRAGMENT,
        title=title,
        step="problem",
        problem=problem,
        max_tries=MAX_WRONG_ANSWERS,
        status=status,
    )


def _form_page(token: str, form: LinkAnswerForm, status: int = 200, tries_left=None):
    return render(
        FRAGMENT,
        title=TITLE,
        step="form",
        form=form,
        token=token,
        tries_left=tries_left,
        max_tries=MAX_WRONG_ANSWERS,
        status=status,
    )


@bp.get("/email/confirm/<token>")
@link_limit
def confirm_link(token: str):
    """The question and answer given when applying, or the page saying why the link is dead."""
    change, problem = open_link(token)
    if problem:
        return _problem_page(problem)
    tries_left = MAX_WRONG_ANSWERS - change.failed_attempts if change.failed_attempts else None
    return _form_page(token, LinkAnswerForm(), tries_left=tries_left)


@bp.post("/email/confirm/<token>")
@link_limit
def confirm_link_answer(token: str):
    """[登録]: the right question and answer complete the change, exactly once."""
    change, problem = open_link(token)
    if problem:
        return _problem_page(problem)
    form = LinkAnswerForm()
    if not form.validate():
        return _form_page(token, form, 422)
    outcome, tries_left = confirm_email_change(
        change, form.secret_question.data, form.secret_answer.data
    )
    if outcome == "wrong":
        form.form_errors.append("秘密の質問または秘密の質問の回答が正しくありません。")
        form.secret_answer.data = ""  # a wrong secret is not shown back
        return _form_page(token, form, 422, tries_left)
    if outcome:
        return _problem_page(outcome)
    if not is_htmx():
        return redirect(url_for("email.confirmed"), 303)
    return render(FRAGMENT, title=DONE_TITLE, step="done")


@bp.get("/email/done")
def confirmed():
    """連絡先メールアドレス登録/変更 完了 (the no-JavaScript landing after its 303)."""
    return render(FRAGMENT, title=DONE_TITLE, step="done")
