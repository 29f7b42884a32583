from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, ValidationError

from models import SECRET_QUESTIONS

from .rules import answer_problem

ANSWER_REQUIRED = "秘密の質問の回答を入力してください。"


class SecretQuestionForm(FlaskForm):
    """A new secret question and answer (also the second half of the email change form)."""

    # validate_choice=False: an unknown value gets our Japanese message, not WTForms' English.
    secret_question = SelectField(
        "秘密の質問",
        choices=[SelectChoice("", "質問内容を選択してください")]
        + [SelectChoice(q) for q in SECRET_QUESTIONS],
        validate_choice=False,
    )
    # A text input, not a password one: the answer must be typed again exactly, full-width
    # and half-width included, so the member needs to see what they typed.
    secret_answer = StringField("秘密の質問の回答", [InputRequired(ANSWER_REQUIRED)])

    def validate_secret_question(self, field):
        if field.data not in SECRET_QUESTIONS:
            raise ValidationError("秘密の質問を選択してください。")

    def validate_secret_answer(self, field):
        problem = answer_problem(field.data)
        if problem:
            raise ValidationError(problem)
