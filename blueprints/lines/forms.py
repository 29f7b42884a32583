from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TelField

from phones import any_number, reason

from .rules import Staged, as_id


class AddLineForm(FlaskForm):
    """The two inputs of 対象回線追加. The staged list and the ticked cancellations travel in
    the same <form> as repeated `staged` / `cancel` fields (see rules.parse_staged)."""

    company = SelectField("ご契約会社", validate_choice=False)
    number = TelField("お客様電話番号")

    def __init__(self, companies: dict[int, str], *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The guide's wording for the empty choice.
        self.company.choices = [SelectChoice("", "対象回線を選択してください")] + [
            SelectChoice(str(id_), name) for id_, name in companies.items()
        ]
        self.companies = companies

    def candidate(self) -> Staged | None:
        """The typed line, or None with the reason on its field."""
        company = as_id(self.company.data or "")
        digits = any_number(self.number.data or "")
        if company not in self.companies:
            self.company.errors = ["ご契約会社を選択してください。"]
        if not (self.number.data or "").strip():
            self.number.errors = ["お客様電話番号を入力してください。"]
        elif digits is None:
            self.number.errors = [
                reason(self.number.data, personal=False)
                or "お客様電話番号を市外局番から正しく入力してください（例：09000000000）。"
            ]
        if self.company.errors or self.number.errors:
            return None
        return Staged(company, digits)
