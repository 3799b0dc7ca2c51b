"""Lengths as Telegram counts them: UTF-16 code units (4,096 per message, 1,024 per caption).

Python counts code points; an emoji is one of them and two UTF-16 units. Every place the bot
checks, splits or cuts a text before sending measures it here.
"""

from __future__ import annotations

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


def utf16_len(text: str) -> int:
    """The length Telegram measures."""
    return len(text.encode("utf-16-le")) // 2


def fits(text: str, limit: int = MESSAGE_LIMIT) -> bool:
    """True when Telegram accepts `text` under `limit`."""
    return utf16_len(text) <= limit


def cut(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` shortened to at most `limit` units, ending with `ellipsis` when cut."""
    if fits(text, limit):
        return text
    budget = limit - utf16_len(ellipsis)
    kept: list[str] = []
    for char in text:
        budget -= utf16_len(char)
        if budget < 0:
            break
        kept.append(char)
    return "".join(kept) + ellipsis


def fit_lines(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` with whole lines dropped from its end until it fits (an HTML tag is never cut)."""
    if fits(text, limit):
        return text
    lines = text.split("\n")
    while lines and utf16_len("\n".join(lines)) + 1 + utf16_len(ellipsis) > limit:
        lines.pop()
    return "\n".join([*lines, ellipsis])


def split(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` units, cut between lines where possible.

    A line longer than a piece goes on after what precedes it (a header stays with the start
    of its text) and is cut between words (an HTML entity such as &amp; is never cut).
    """
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = line if not current else current + "\n" + line
        if fits(candidate, limit):
            current = candidate
            continue
        if fits(line, limit):
            pieces.append(current)
            current = line
            continue
        prefix = current + "\n" if current else ""
        while not fits(prefix + line, limit):
            head = _head_between_words(line, limit - utf16_len(prefix), whole_piece=not prefix)
            if not head:  # too little room left after the lines before: start a new piece
                pieces.append(current)
                prefix = ""
                continue
            pieces.append(prefix + head.rstrip(" "))
            prefix = ""
            line = line[len(head) :]
        current = prefix + line
    if current or not pieces:
        pieces.append(current)
    return pieces


def _head_between_words(line: str, room: int, *, whole_piece: bool) -> str:
    """The longest start of `line` within `room` units ending at a space ("" when none is
    worth it after other lines; cut anywhere when the word alone is longer than a piece)."""
    if room <= 0:
        return ""
    hard = cut(line, room, ellipsis="")
    space = hard.rfind(" ")
    if space > 0 and (whole_piece or space >= len(hard) // 4 or space >= 200):
        return hard[: space + 1]
    return hard if whole_piece else ""
