from flask import g

import once
from blueprints.auth.sessions import login_required
from models import Member
from rendering import completed, render

from . import bp
from .changes import change_phone
from .forms import PhoneForm

CARD = "phone/_card.html"
TITLE = "ご連絡先電話番号変更"


def card_context(member: Member) -> dict:
    """What the ④ card shows, on 基本情報 and in each of its steps."""
    return {"member": member}


def _card(step: str, form: PhoneForm | None = None, status: int = 200):
    return render(CARD, title=TITLE, step=step, form=form, status=status, **card_context(g.member))


@bp.get("/card")
@login_required
def card():
    """The ④ item as 基本情報 shows it (where キャンセル goes back to)."""
    return _card("view")


@bp.get("")
@bp.post("/edit")
@login_required
def edit():
    """Step 1: the new number (a POST here is 戻る from the confirm step, keeping the input)."""
    form = PhoneForm(current=g.member.daytime_phone)
    return _card("edit", form)


@bp.post("/confirm")
@login_required
def confirm():
    """Step 2: show the number as it will be stored, or the form again with the problem."""
    form = PhoneForm(current=g.member.daytime_phone)
    if not form.validate():
        return _card("edit", form, 422)
    return _card("confirm", form)


@bp.post("")
@login_required
def update():
    """Step 3: validate everything again (never trust the confirm page), then store."""
    form = PhoneForm(current=g.member.daytime_phone)
    if not form.validate():
        return _card("edit", form, 422)
    change_phone(g.member, form.digits, once.token("phone"))
    return completed("phone.done")


@bp.get("/done")
@login_required
def done():
    """連絡先電話番号変更完了 (where the no-JavaScript flow lands after its 303)."""
    return _card("done")


once.answer_repeats("phone", lambda: completed("phone.done"))
