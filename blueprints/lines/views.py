from urllib.parse import urlencode

from flask import g, make_response, request, url_for

import once
from blueprints.auth.sessions import login_required
from models import Member
from rendering import completed, is_htmx, render

from . import bp
from .changes import change_lines, company_names, registered_lines, review
from .forms import AddLineForm
from .rules import LineChange, as_id, parse_ids, parse_staged

SCREEN = "lines/_screen.html"
STAGE = "lines/_stage.html"
TITLE = "Webビリング対象回線変更"
# A real list never gets longer; a longer one is forged and not worth a registry lookup.
MAX_STAGED = 250


def card_context(member: Member) -> dict:
    """What the ⑦ card on 基本情報 shows: the registered lines, each representative with its
    group's lines."""
    return {"billed": registered_lines(member.id)}


def _requested() -> tuple[AddLineForm, list, set[int]]:
    """The add inputs, the staged list and the ticked cancellations, as the form sent them
    (or, on a GET, as the address of a step has them: see _at)."""
    staged = parse_staged(request.values.getlist("staged")[:MAX_STAGED])
    cancel = parse_ids(request.values.getlist("cancel"))
    return AddLineForm(company_names()), staged, cancel


def _at(answer, endpoint: str, change: LineChange | None = None, push: bool = False):
    """With htmx, keep the address bar on a GET URL that shows this step again, staged and
    ticked lines included, so that Back to it (base.html: htmx history "reload") brings the
    list back instead of leaving the screen. The confirm step gets an entry of its own."""
    if not is_htmx():
        return answer
    url = url_for(endpoint, _method="GET")
    if change is not None:
        url += "?" + urlencode(
            [("staged", s.value) for s in change.staged]
            + [("cancel", i) for i in sorted(change.cancel_ids)]
        )
    response = make_response(answer)
    response.headers["HX-Push-Url" if push else "HX-Replace-Url"] = url
    return response


def _screen(
    step: str,
    form: AddLineForm,
    change: LineChange,
    status: int = 200,
    fragment: str = SCREEN,
    title: str = TITLE,
):
    return render(fragment, title=title, step=step, form=form, change=change, status=status)


@bp.get("")
@bp.post("/edit")
@login_required
def edit():
    """The line screen (a POST here is 戻る from the confirm step, keeping the staged list and
    the ticked lines)."""
    form, staged, cancel = _requested()
    change = review(g.member, staged, cancel)
    return _at(_screen("edit", form, change), "lines.edit", change)


@bp.post("/stage")
@login_required
def stage():
    """[追加]: check the typed line against every rule and put it at the end of 「追加する回線」,
    or say why not next to the number. htmx swaps only the #stage region."""
    form, staged, cancel = _requested()
    candidate = form.candidate()
    change = review(g.member, staged + [candidate] if candidate else staged, cancel)
    if candidate is not None:
        if candidate.error:
            form.number.errors = [candidate.error]
            change.staged.pop()
        else:
            form.number.data = ""  # ready for the next number; the company stays chosen
    status = 422 if form.company.errors or form.number.errors else 200
    return _at(
        _screen("edit", form, change, status, STAGE if is_htmx() else SCREEN), "lines.edit", change
    )


@bp.post("/unstage")
@login_required
def unstage():
    """[削除] on a staged line: take it out of the list (nothing was stored yet)."""
    form, staged, cancel = _requested()
    index = as_id(request.form.get("remove", ""))
    if index is not None and index < len(staged):
        del staged[index]
    change = review(g.member, staged, cancel)
    return _at(
        _screen("edit", form, change, 200, STAGE if is_htmx() else SCREEN), "lines.edit", change
    )


@bp.get("/confirm")
@bp.post("/confirm")
@login_required
def confirm():
    """[登録]/[更新]: the confirm step listing exactly what will be added and cancelled."""
    form, staged, cancel = _requested()
    change = review(g.member, staged, cancel, complete=True)
    if (form.number.data or "").strip():
        # A number typed but never [追加]ed would silently be dropped: say so instead.
        form.number.errors = [
            "入力中のお客様電話番号はまだ追加されていません。［追加］を押すか、入力を消してから"
            "もう一度押してください。"
        ]
    if not change.ok or form.number.errors:
        return _at(_screen("edit", form, change, 422), "lines.edit", change)
    return _at(_screen("confirm", form, change), "lines.confirm", change, push=True)


@bp.post("")
@login_required
def update():
    """[登録する]: everything is checked again inside the transaction that stores it."""
    form, staged, cancel = _requested()
    change = change_lines(g.member, staged, cancel, once.token("lines"))
    if not change.ok:
        return _at(_screen("edit", form, change, 422), "lines.edit", change)
    return _at(completed("lines.done"), "lines.done")


@bp.get("/done")
@login_required
def done():
    """Webビリング対象回線変更完了 (where the no-JavaScript flow lands after its 303)."""
    return _screen("done", None, None, title=f"{TITLE}完了")


once.answer_repeats("lines", lambda: completed("lines.done"))
