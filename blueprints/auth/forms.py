from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

REQUIRED = "入力してください。"


class LoginForm(FlaskForm):
    login_id = StringField("ログインID", [InputRequired(REQUIRED), Length(max=64)])
    password = PasswordField("ログインパスワード", [InputRequired(REQUIRED), Length(max=128)])
    next = HiddenField()


class SecretAnswerForm(FlaskForm):
    answer = PasswordField("秘密の質問の回答", [InputRequired(REQUIRED), Length(max=80)])
