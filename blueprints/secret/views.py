from flask import g

import once
from blueprints.auth.sessions import login_required
from rendering import completed, render

from . import bp
from .changes import change_secret
from .forms import SecretQuestionForm

CARD = "secret/_card.html"  # inside the ⑥ card: this flow starts from its [変更しない]
TITLE = "秘密の質問／回答の変更"


def _card(step: str, form: SecretQuestionForm | None = None, status: int = 200):
    return render(CARD, title=TITLE, step=step, form=form, status=status)


@bp.get("")
@bp.post("/edit")
@login_required
def edit():
    """Step 1: question and answer (a POST here is 戻る from the confirm step)."""
    return _card("edit", SecretQuestionForm())


@bp.post("/confirm")
@login_required
def confirm():
    """Step 2: show what will be stored, or the form again with the problem."""
    form = SecretQuestionForm()
    if not form.validate():
        return _card("edit", form, 422)
    return _card("confirm", form)


@bp.post("")
@login_required
def update():
    """Step 3: validate again, then store."""
    form = SecretQuestionForm()
    if not form.validate():
        return _card("edit", form, 422)
    question, answer = form.secret_question.data, form.secret_answer.data
    change_secret(g.member, question, answer, once.token("secret"))
    return completed("secret.done")


@bp.get("/done")
@login_required
def done():
    """秘密の質問と回答の登録／変更完了 (where the no-JavaScript flow lands after its 303)."""
    return _card("done")


once.answer_repeats("secret", lambda: completed("secret.done"))
