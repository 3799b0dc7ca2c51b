"""Splitting a long text into messages as Telegram counts them."""

from __future__ import annotations

import pytest

from bot.telegram_text import split, utf16_len


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("En-tête\nÀ votre message : « question »\n\n" + "Réponse &amp; détails 😀 " * 190, 4096),
        ("titre\n" + "mot " * 50, 30),
        ("a" * 70, 30),  # one word longer than a message is cut anywhere
        ("ligne une\nligne deux\n" + "x y " * 20, 16),
    ],
)
def test_a_long_line_is_split_between_words_and_stays_with_its_header(
    text: str, limit: int
) -> None:
    pieces = split(text, limit)
    assert all(utf16_len(piece) <= limit for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())  # nothing lost
    if " " in text:
        assert all(not piece.endswith(("&amp", "&am", "&a", "&")) for piece in pieces)
        words = set(text.split())  # no word cut in two
        assert all(word in words for piece in pieces for word in piece.split() if len(word) < limit)
    assert utf16_len(pieces[0]) > limit // 2  # the header is not left alone in a message of its own
