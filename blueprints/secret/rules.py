"""The secret answer's rules (SPEC §2.3, §2.4), apart from HTTP."""

from __future__ import annotations

import unicodedata

MAX_ANSWER_UNITS = 40  # 「全角20文字、半角40文字まで」


def answer_units(text: str) -> int:
    """Length in half-width units: East Asian Width F (full-width) or W (wide) counts 2,
    every other character 1 — including "A" (ambiguous: ○, α, ①, ★ …), which counts 1.
    Ambiguous characters are narrow everywhere but in legacy East Asian fonts, and counting
    them 1 never refuses an answer the member could reasonably think fits."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("F", "W") else 1 for ch in text)


def answer_problem(text: str) -> str | None:
    """What is wrong with `text` as a new secret answer (None: nothing). The answer is kept
    exactly as typed — no NFKC, no trimming — because it must be typed the same way again."""
    if not text or not text.strip():
        return "秘密の質問の回答を入力してください。"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text):
        return "秘密の質問の回答に使用できない文字が含まれています。"
    if answer_units(text) > MAX_ANSWER_UNITS:
        return (
            f"秘密の質問の回答は全角20文字、半角40文字までで入力してください"
            f"（現在 半角換算{answer_units(text)}文字）。"
        )
    return None
