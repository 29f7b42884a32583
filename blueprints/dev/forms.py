import unicodedata
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import StringField, ValidationError
from wtforms.validators import InputRequired, Length

HOURS_MESSAGE = "0より大きい時間数を数字で入力してください（例：25、0.5）。"
MAX_HOURS = 24 * 366


class ClockForm(FlaskForm):
    # A text field (WTForms' DecimalField would say "Not a valid decimal value." in English).
    hours = StringField("時計を進める（時間）", validators=[InputRequired(HOURS_MESSAGE)])

    def validate_hours(self, field):
        try:
            hours = Decimal(unicodedata.normalize("NFKC", field.data).strip())
        except InvalidOperation:
            raise ValidationError(HOURS_MESSAGE) from None
        if not (hours.is_finite() and 0 < hours <= MAX_HOURS):
            raise ValidationError(HOURS_MESSAGE)
        self.delta = timedelta(hours=float(hours))


class MailFilterForm(FlaskForm):
    """The mailbox's 「宛先」 filter: a GET form, so no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    to = StringField("宛先", validators=[Length(max=254)])
