"""d-account login rules that need neither the database nor HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

# A login started with [dアカウントでログイン] must come back within this, and a d-account
# waiting to be linked is kept this long.
VALID_FOR = timedelta(minutes=10)
AGAIN = (
    "もう一度「dアカウントでログイン」を押すか、ログインIDとログインパスワードでログインして"
    "ください。"
)


def fresh(started_at: str, now: datetime) -> bool:
    """Whether something started at `started_at` (ISO, UTC) is still within VALID_FOR."""
    return now - datetime.fromisoformat(started_at) <= VALID_FOR


def valid_subject(sub: object) -> bool:
    """OpenID Connect: a subject is a string of at most 255 ASCII characters."""
    return isinstance(sub, str) and 0 < len(sub) <= 255 and sub.isascii()


class Problem(Enum):
    """Why a d-account login or link stopped, and what its page says: status, title, text.
    Only these fixed texts are shown; nothing the provider sent is echoed."""

    denied = (
        200,
        "dアカウントでのログインを中止しました",
        "dアカウントの画面でキャンセルされたため、ログインしていません。",
        AGAIN,
    )
    provider_error = (
        502,
        "dアカウントでログインできませんでした",
        "dアカウントの認証でエラーが発生したため、ログインできませんでした。",
        "しばらく待ってから" + AGAIN,
    )
    state_mismatch = (
        400,
        "ログインの手続きを確認できません",
        "このブラウザで始めたdアカウントでのログインではないか、その後に別のログインが"
        "始められたため、続けられません。",
        AGAIN,
    )
    state_used = (
        400,
        "完了済みのログイン手続きです",
        "このdアカウントでのログインの手続きはすでに使われています。同じ手続きは一度しか"
        "使えません。",
        AGAIN,
    )
    state_expired = (
        400,
        "ログイン手続きの有効期限切れ",
        "「dアカウントでログイン」を押してから10分以上経過したため、ログインできませんでした。",
        AGAIN,
    )
    token_expired = (
        400,
        "認証結果の有効期限切れ",
        "dアカウントから受け取った認証結果は有効期限が切れていたため、ログインできませんでした。",
        AGAIN,
    )
    token_nonce = (
        400,
        "このログインの認証結果ではありません",
        "dアカウントから受け取った認証結果は、このログインの手続きで求めたものではなかった"
        "ため、ログインできませんでした。",
        AGAIN,
    )
    token_invalid = (
        400,
        "認証結果を確認できません",
        "dアカウントから受け取った認証結果の署名・発行元・宛先を確認できなかったため、"
        "ログインできませんでした。",
        AGAIN,
    )
    unreachable = (
        503,
        "dアカウントに接続できません",
        "dアカウントのサーバーに接続できなかったため、ログインできませんでした。",
        "しばらく待ってから" + AGAIN,
    )
    slow = (
        504,
        "dアカウントから応答がありません",
        "dアカウントのサーバーから数秒以内に応答がなかったため、ログインを中止しました。",
        "しばらく待ってから" + AGAIN,
    )
    cancelled = (
        403,
        "解約済みのためログインできません",
        "このdアカウントが連携登録されているWebビリングは解約済みのため、ログインできません。",
    )
    linked_elsewhere = (
        409,
        "連携登録できません",
        "このdアカウントは、すでに別のWebビリングに連携登録されています。"
        "dアカウントは1つのWebビリングにだけ連携登録できます。",
    )
    member_has_another = (
        409,
        "連携登録できません",
        "このWebビリングには、すでに別のdアカウントが連携登録されています。"
        "連携登録できるdアカウントは1つです。",
        "別のdアカウントに切り替える場合は、基本情報の「dアカウント連携登録有無」で"
        "［解除］してから、もう一度「dアカウントでログイン」を押してください。",
    )
    link_expired = (
        410,
        "連携登録の手続きを続けられません",
        "dアカウントでのログインから10分以上経過したか、この連携登録の手続きはすでに"
        "終わっています。",
        AGAIN,
    )

    def __init__(self, status: int, title: str, *paragraphs: str):
        self.status, self.title, self.paragraphs = status, title, paragraphs
