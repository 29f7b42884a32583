"""The secret-question login setting, written."""

import once
from extensions import db
from mail import queue_notice
from models import Member, record_change

from .forms import LABELS


def set_secret_auth(member: Member, enabled: bool, once_token: str | None = None) -> None:
    """Turn 秘密の質問による認証 on or off, with its 変更履歴 row; `member` then shows it.
    Raises once.Repeated if `once_token` was spent (see once.py)."""
    with db.database.atomic():
        once.spend(once_token, "secret_auth")
        Member.update(secret_auth_enabled=enabled).where(Member.id == member.id).execute()
        label = LABELS["on" if enabled else "off"]
        record_change(member, "秘密の質問による認証設定", label)
        queue_notice(
            member,
            "【WebBilling】秘密の質問による認証設定変更のお知らせ",
            f"Webビリングの秘密の質問による認証が「{label}」に変更されました。",
        )
    member.secret_auth_enabled = enabled
