from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired, ValidationError

LABELS = {"on": "設定する", "off": "設定しない"}


class SecretAuthForm(FlaskForm):
    setting = RadioField(
        "秘密の質問による認証設定",
        choices=[SelectChoice(value, label) for value, label in LABELS.items()],
        validate_choice=False,  # checked below, with a Japanese message
        validators=[InputRequired("設定する、設定しないのいずれかを選択してください。")],
    )

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member

    @property
    def enabled(self) -> bool:
        return self.setting.data == "on"

    def validate_setting(self, field):
        if field.data not in LABELS:
            raise ValidationError("設定する、設定しないのいずれかを選択してください。")
        if self.enabled and not self.member.secret_answer_hash:
            raise ValidationError(
                "秘密の質問が登録されていないため、設定できません。"
                "連絡先メールアドレスの［変更］から秘密の質問と回答を登録してください。"
            )
        if self.enabled == self.member.secret_auth_enabled:
            raise ValidationError(f"現在の設定も「{LABELS[field.data]}」です。")
