from flask import g, redirect, url_for

from blueprints.auth.sessions import login_required
from extensions import db
from hashing import hash_secret
from models import Member, record_change
from rendering import is_htmx, render

from . import bp
from .forms import SecretQuestionForm

CARD = "email/_card.html"  # the ⑥ card: this flow starts from its [変更しない]
TITLE = "秘密の質問／回答の変更"


def _card(step: str, form: SecretQuestionForm | None = None, status: int = 200):
    return render(CARD, title=TITLE, step=step, form=form, member=g.member, status=status)


@bp.get("")
@bp.post("/edit")
@login_required
def edit():
    """Step 1: question and answer (a POST here is 戻る from the confirm step)."""
    return _card("secret_edit", SecretQuestionForm())


@bp.post("/confirm")
@login_required
def confirm():
    """Step 2: show what will be stored, or the form again with the problem."""
    form = SecretQuestionForm()
    if not form.validate():
        return _card("secret_edit", form, 422)
    return _card("secret_confirm", form)


@bp.post("")
@login_required
def update():
    """Step 3: validate again, then store the answer's argon2id hash (never the answer)."""
    form = SecretQuestionForm()
    if not form.validate():
        return _card("secret_edit", form, 422)
    answer_hash = hash_secret(form.secret_answer.data)  # slow: outside the transaction
    with db.database.atomic():
        Member.update(
            secret_question=form.secret_question.data, secret_answer_hash=answer_hash
        ).where(Member.id == g.member.id).execute()
        record_change(g.member, "秘密の質問と回答", "秘密の質問と回答を変更")
    if not is_htmx():
        return redirect(url_for("secret.done"), 303)
    return _card("secret_done")


@bp.get("/done")
@login_required
def done():
    """秘密の質問と回答の登録／変更完了 (where the no-JavaScript flow lands after its 303)."""
    return _card("secret_done")
