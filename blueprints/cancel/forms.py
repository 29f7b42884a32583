from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField
from wtforms.validators import AnyOf, InputRequired

# The select's reasons, in its order; "その他" last.
REASONS = (
    "利用する機会が少ないため",
    "紙の請求書で確認するため",
    "他のサービスで確認するため",
    "回線を解約・名義変更したため",
    "操作が分かりにくいため",
    "その他",
)


class CancelForm(FlaskForm):
    reason = SelectField(
        "解約理由",
        choices=[SelectChoice("", "選択してください"), *(SelectChoice(r) for r in REASONS)],
        validators=[
            InputRequired("解約理由を選択してください。"),
            AnyOf(REASONS, "解約理由を一覧から選択してください。"),
        ],
        # AnyOf says it in Japanese; WTForms' own choice check would say it in English.
        validate_choice=False,
    )
