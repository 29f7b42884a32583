"""The page the mailed link opens (no login): 連絡先メールアドレス登録/変更 確定."""

import ratelimit
from rendering import completed, render

from . import bp
from .changes import MAX_WRONG_ANSWERS, DeadLink, confirm_email_change, open_link
from .forms import LinkAnswerForm

FRAGMENT = "email/_confirm_link.html"
TITLE = "連絡先メールアドレス登録/変更 確定"
DONE_TITLE = "連絡先メールアドレス登録/変更 完了"

# Per client: a public page whose only secret is the token in its URL.
link_limit = ratelimit.limit("EMAIL_LINK_RATE_LIMIT", "email-link")


def _problem_page(problem: DeadLink):
    return render(
        FRAGMENT, title=problem.title, step="problem", problem=problem, status=problem.status
    )


def _form_page(token: str, form: LinkAnswerForm, status: int = 200, tries_left=None):
    return render(
        FRAGMENT,
        title=TITLE,
        step="form",
        form=form,
        token=token,
        tries_left=tries_left,
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
    problem, tries_left = confirm_email_change(
        change, form.secret_question.data, form.secret_answer.data
    )
    if problem:
        return _problem_page(problem)
    if tries_left:
        form.form_errors.append("秘密の質問または秘密の質問の回答が正しくありません。")
        form.secret_answer.data = ""  # a wrong secret is not shown back
        return _form_page(token, form, 422, tries_left)
    return completed("email.confirmed")


@bp.get("/email/done")
def confirmed():
    """連絡先メールアドレス登録/変更 完了 (the no-JavaScript landing after its 303)."""
    return render(FRAGMENT, title=DONE_TITLE, step="done")
