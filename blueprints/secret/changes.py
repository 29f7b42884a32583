"""The secret question and answer, written (the answer only as its argon2id hash)."""

import once
from extensions import db
from hashing import hash_secret
from mail import queue_notice
from models import Member, record_change


def change_secret(member: Member, question: str, answer: str, once_token: str | None = None):
    """Raises once.Repeated if `once_token` was spent (see once.py)."""
    answer_hash = hash_secret(answer)  # slow: outside the transaction
    with db.database.atomic():
        once.spend(once_token, "secret")
        Member.update(secret_question=question, secret_answer_hash=answer_hash).where(
            Member.id == member.id
        ).execute()
        record_change(member, "秘密の質問と回答", "秘密の質問と回答を変更")
        queue_notice(
            member,
            "【WebBilling】秘密の質問と回答変更のお知らせ",
            "Webビリングの秘密の質問と回答が変更されました。",
        )
    member.secret_question, member.secret_answer_hash = question, answer_hash
