from flask_wtf import FlaskForm
from wtforms import TelField
from wtforms.validators import InputRequired, ValidationError

import phones
from phones import personal_number


class PhoneForm(FlaskForm):
    new_phone = TelField(
        "新しい日中のご連絡先電話番号",
        [InputRequired("新しい日中のご連絡先電話番号を入力してください。")],
    )

    def __init__(self, *args, current: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.current = current
        self.digits: str | None = None

    def validate_new_phone(self, field):
        self.digits = personal_number(field.data)
        if self.digits is None:
            raise ValidationError(
                phones.reason(field.data, personal=True)
                or "固定電話または携帯電話の番号を、市外局番から正しく入力してください。"
            )
        if self.digits == self.current:
            raise ValidationError("現在の日中のご連絡先電話番号と同じです。")
