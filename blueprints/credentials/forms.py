from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField

from models import Member

from . import rules

# The three variants of the guide's section 8, with the radio buttons' labels.
TARGETS = {
    "login_id": "ログインID",
    "password": "ログインパスワード",
    "both": "ログインID/パスワード",
}
DONE_TITLES = {
    "login_id": "ログインID変更完了",
    "password": "ログインパスワード変更完了",
    "both": "ログインID/パスワード変更完了",
}
# The fields each variant shows, in the guide's order. Changing the ID asks for the current
# password too: "the ID must not contain the password" cannot be checked against a hash.
FIELDS = {
    "login_id": ("current_login_id", "new_login_id", "new_login_id_confirm", "current_password"),
    "password": ("current_password", "new_password", "new_password_confirm"),
    "both": (
        "current_login_id",
        "new_login_id",
        "new_login_id_confirm",
        "current_password",
        "new_password",
        "new_password_confirm",
    ),
}


class ChooseForm(FlaskForm):
    target = RadioField(
        "変更する項目",
        choices=TARGETS,
        invalid_choice_message="変更する項目を選択してください。",
    )


class CredentialsForm(ChooseForm):
    """Every field of the three variants; `target` says which of them are in play.

    validate() checks what needs no database or hash: presence, the confirmations and the pure
    rules of `rules.py`. The rest, in its order, is changes.change_credentials().
    """

    current_login_id = StringField("現在のログインID")
    new_login_id = StringField("新しいログインID")
    new_login_id_confirm = StringField("新しいログインID（確認用）")
    current_password = PasswordField("現在のログインパスワード")
    new_password = PasswordField("新しいログインパスワード")
    new_password_confirm = PasswordField("新しいログインパスワード（確認用）")

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member

    @property
    def fields_in_play(self) -> tuple[str, ...]:
        return FIELDS.get(self.target.data, ())

    def changes(self, what: str) -> bool:
        """Whether this variant changes "login_id" or "password"."""
        return f"new_{what}" in self.fields_in_play

    def value(self, name: str) -> str:
        return (self[name].data or "") if name in self.fields_in_play else ""

    def compared_with(self, what: str) -> str | None:
        """The field the new "login_id" or "password" must not overlap, when it is on the form:
        the other new value when both change, else the current password (for a new ID)."""
        if what == "login_id":
            return "new_password" if self.changes("password") else "current_password"
        return "new_login_id" if self.changes("login_id") else None

    def other_password(self) -> str:
        return self.value(self.compared_with("login_id"))

    def other_login_id(self) -> str:
        """The new ID when it changes too, else the current one (which needs no typing)."""
        field = self.compared_with("password")
        return self.value(field) if field else self.member.login_id

    def checklist(self, what: str, passwords_kept: bool = True) -> list[tuple[str, bool | None]]:
        """The live checklist of "login_id" or "password": each rule met, not, or None
        (neutral) while nothing is typed yet. `passwords_kept` False: the page comes back
        with empty password fields (a full page: passwords are never written into HTML), so
        the password's checklist starts over with its field."""
        if what == "login_id":
            rule_set, other = rules.LOGIN_ID_RULES, self.other_password()
        else:
            rule_set, other = rules.PASSWORD_RULES, self.other_login_id()
        value = self.value(f"new_{what}") if what == "login_id" or passwords_kept else ""
        if not value:
            return [(rule.text, None) for rule in rule_set]
        return rules.checklist(rule_set, value, other)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        for name in self.fields_in_play:
            if not self[name].data:
                self[name].errors.append(f"{self[name].label.text}を入力してください。")
        if self.changes("login_id") and self.new_login_id.data:
            self.new_login_id.errors.extend(
                rules.login_id_problems(self.new_login_id.data, self.other_password())
            )
            self._confirm(self.new_login_id, self.new_login_id_confirm)
        if self.changes("password") and self.new_password.data:
            self.new_password.errors.extend(
                rules.password_problems(self.new_password.data, self.other_login_id())
            )
            self._confirm(self.new_password, self.new_password_confirm)
        return not any(self[name].errors for name in self.fields_in_play)

    @staticmethod
    def _confirm(field, confirmation) -> None:
        if confirmation.data and confirmation.data != field.data:
            confirmation.errors.append(
                f"{confirmation.label.text}が{field.label.text}と一致しません。"
            )
