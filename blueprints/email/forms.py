from wtforms import EmailField
from wtforms.validators import InputRequired, ValidationError

from blueprints.secret.forms import SecretQuestionForm

from .rules import normalize_email


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class EmailChangeForm(SecretQuestionForm):
    """New address twice, then the question and answer the mailed link will ask for."""

    new_email = EmailField(
        "新しい連絡先メールアドレス",
        [InputRequired("新しい連絡先メールアドレスを入力してください。")],
        filters=[_strip],
    )
    new_email_confirm = EmailField(
        "新しい連絡先メールアドレス（確認用）",
        [InputRequired("確認のため、新しい連絡先メールアドレスをもう一度入力してください。")],
        filters=[_strip],
    )

    def __init__(self, *args, current: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.current = current
        self.address: str | None = None

    def validate_new_email(self, field):
        self.address = normalize_email(field.data)
        if self.address is None:
            raise ValidationError(
                "メールアドレスの形式が正しくありません。半角英数字と記号で入力してください"
                "（例：taro@example.com）。"
            )
        if self.current and self.address.lower() == self.current.lower():
            raise ValidationError("現在の連絡先メールアドレスと同じです。")

    def validate_new_email_confirm(self, field):
        if field.data != self.new_email.data:
            raise ValidationError("新しい連絡先メールアドレスと一致しません。")


class LinkAnswerForm(SecretQuestionForm):
    """The public confirmation page: the question and answer given when applying."""

    def validate_secret_answer(self, field):
        # Whether it is right is the request's business (and a try counts); this only caps
        # what argon2 is given. Not the new-answer rules: they were applied when it was set.
        if len(field.data) > 100:
            raise ValidationError("秘密の質問の回答が長すぎます。")
