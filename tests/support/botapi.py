"""Local stand-in of the Telegram Bot API server, for end-to-end tests.

`BotApiStub` is an aiohttp server bound to 127.0.0.1 that speaks the Bot API
the way python-telegram-bot (PTB) really uses it: form-encoded or multipart
POSTs (nested objects JSON-encoded as strings, uploads referenced by their
field name or by ``attach://``), JSON bodies and query strings too, answers in
the ``{"ok": ..., "result": ...}`` shape with Telegram's own error
descriptions and HTTP codes, long polling with ``getUpdates``, files that can
be uploaded then downloaded again, and flood control answered with 429 and
``retry_after``.

The same module holds the test-side driver. `FakeUser` and `FakeGroup` write
to the bot, tap its buttons and read what it answered, so that a test reads
like a parent's story::

    async with BotApiStub() as stub:
        application = (
            Application.builder()
            .token(stub.token)
            .base_url(stub.base_url)
            .base_file_url(stub.base_file_url)
            .build()
        )
        ...  # start the application, polling the stub
        jean = stub.user(1001, "Jean")
        await jean.send_command("/start", "CODE")
        welcome = await jean.next_message()
        await jean.tap(welcome, "Continuer")
        edited = await jean.next_message()

Nothing ever leaves the loopback: no test reaches Telegram's servers.

Webhooks: after ``setWebhook`` the stub POSTs each update, one at a time and in
order, to the URL set (or in turn to each of `webhook_endpoints`, a load
balancer's stand-in), with the ``X-Telegram-Bot-Api-Secret-Token`` header, and
re-sends it until an answer is 2xx, as Telegram does; ``getUpdates`` is then
refused with 409. `webhook` holds what was set, `webhook_deliveries` every try.

Many bots, one server (as api.telegram.org serves every token)::

    async with BotApiStub() as stub:
        second = stub.add_bot(username="CommuneBBot")   # same base_url, own token
        jean_b = second.same_user(stub.user(1001, "Jean"))  # one person, two bots
        second.flood_wait(30)   # only the second bot's messages answer 429

Deliberate simplifications (the real server does more): no inline mode, plain
http webhooks to any address, no media groups, no automatic detection of URLs
or mentions in the bot's texts, ``tg://user?id=`` links kept as ``text_link``. A button carrying
more than one action is refused (Telegram would silently keep the first).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import itertools
import json
import math
import re
import secrets
import struct
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import TracebackType
from typing import Any, NoReturn, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiohttp import web

__all__ = [
    "DEFAULT_TOKEN",
    "NOT_MODIFIED",
    "QUERY_TOO_OLD",
    "ApiError",
    "BotApiStub",
    "ChatMessage",
    "ChatState",
    "FakeGroup",
    "FakeUser",
    "RateLimits",
    "RecordedCall",
    "RejectedCall",
    "StoredFile",
    "Upload",
    "WebhookDelivery",
    "bad_request",
    "forbidden",
    "format_text",
    "utf16_len",
]

T = TypeVar("T")

#: A syntactically valid token; the part before ``:`` is the bot's user id.
DEFAULT_TOKEN = "7000000001:AAStubTokenForLocalTestsOnly_0123456789"

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
INLINE_BUTTON_LIMIT = 100
CALLBACK_ANSWER_LIMIT = 200
DOWNLOAD_LIMIT = 20 * 1024 * 1024
UPLOAD_LIMIT = 50 * 1024 * 1024

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
#: Updates Telegram leaves out when allowed_updates was never set.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
LEADING_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")

#: Form fields that are plain strings and must never be JSON-decoded.
STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "pre_checkout_query_id",
        "inline_message_id",
        "file_id",
        "action",
        "title",
        "description",
        "payload",
        "provider_token",
        "currency",
        "start_parameter",
        "url",
        "error_message",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "emoji",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "name",
        "short_description",
        "secret_token",
        "photo",
        "document",
        "sticker",
        "video",
        "audio",
        "voice",
        "animation",
        "thumbnail",
    }
)


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description, parameters."""

    def __init__(
        self, error_code: int, description: str, *, retry_after: int | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 answer: ``Bad Request: <detail>``."""
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    """A 403 answer: ``Forbidden: <detail>``."""
    return ApiError(403, f"Forbidden: {detail}")


class MarkupError(Exception):
    """A formatting error, worded as TDLib words it (without the API prefix)."""


# --------------------------------------------------------------------------- text


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's limits."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of ``text[index]``, as TDLib reports positions."""
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _entity(kind: str, offset: int, length: int, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "offset": offset, "length": length, **extra}


#: TDLib's order of entities sharing a span.
_ENTITY_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 1,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


def _sorted_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        entities, key=lambda e: (e["offset"], -e["length"], _ENTITY_PRIORITY.get(e["type"], 50))
    )


class _Output:
    """Plain text being produced by a markup parser, measured in UTF-16."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.u16 = 0
        self.chars = 0

    def add(self, piece: str) -> None:
        self.parts.append(piece)
        self.u16 += utf16_len(piece)
        self.chars += len(piece)

    def text(self) -> str:
        return "".join(self.parts)

    def since(self, chars: int) -> str:
        return self.text()[chars:]


@dataclass
class _Open:
    """An entity whose end has not been read yet."""

    name: str
    argument: str
    u16: int
    chars: int
    byte_offset: int = 0


_DOMAIN_RE = re.compile(r"^(?:[\w-]+\.)+[^\W\d_]{2,}\.?$|^\d{1,3}(?:\.\d{1,3}){3}$")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def check_url(url: str) -> str | None:
    """The normalised form of a link Telegram accepts, or None for a bad one."""
    url = url.strip()
    if not url:
        return None
    match = _SCHEME_RE.match(url)
    if match and match.group(1).lower() in ("tg", "ton", "tonsite"):
        return url
    if match and match.group(1).lower() not in ("http", "https"):
        return None
    if not match:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return None
    if not _DOMAIN_RE.match(host):
        return None
    rest = url[url.index(parts.netloc) + len(parts.netloc) :]
    return url[: len(url) - len(rest)] + (rest if rest.startswith("/") else "/" + rest)


# ..................................................................... HTML

_SPACES = " \t\r\n\x0b\x0c"
_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins"}
    | {"tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote"}
)
_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_SPECIAL_RE = re.compile(r"[<&]")


def _decode_html_entity(src: str, pos: int) -> tuple[str | None, int]:
    """TDLib's decoding of ``&lt;``-style references; (None, pos) when not one."""
    end = pos + 1
    if src[end : end + 1] == "#":
        end += 1
        hexa = src[end : end + 1] == "x"
        end += hexa
        start = end
        digits = "0123456789abcdefABCDEF" if hexa else "0123456789"
        while end < len(src) and src[end] in digits:
            end += 1
        code = int(src[start:end], 16 if hexa else 10) if end > start else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None, pos
        char = chr(code)
    else:
        while end < len(src) and src[end].isascii() and src[end].isalpha():
            end += 1
        named = _HTML_NAMED.get(src[pos + 1 : end])
        if named is None:
            return None, pos
        char = named
    if src[end : end + 1] == ";":
        end += 1
    return char, end


class _HtmlParser:
    """TDLib's ``parse_html``: the plain text and entities of HTML markup."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.i = 0
        self.out = _Output()
        self.stack: list[_Open] = []
        self.entities: list[dict[str, Any]] = []

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        while self.i < len(self.src):
            self._step()
        if self.stack:
            raise MarkupError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        text = self.out.text()
        if any("\ud800" <= char <= "\udfff" for char in text):
            raise MarkupError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        for entity in self.entities:
            entity.pop("_language", None)
        return text, _sorted_entities(self.entities)

    def _at(self, k: int) -> str:
        return self.src[k] if k < len(self.src) else "\0"

    def _is_space(self, k: int) -> bool:
        return k >= len(self.src) or self.src[k] in _SPACES

    def _skip_spaces(self, k: int) -> int:
        while k < len(self.src) and self.src[k] in _SPACES:
            k += 1
        return k

    def _where(self, k: int) -> int:
        return _byte_offset(self.src, k)

    def _step(self) -> None:
        char = self.src[self.i]
        if char == "&":
            decoded, end = _decode_html_entity(self.src, self.i)
            if decoded is not None:
                self.out.add(decoded)
                self.i = end
                return
        if char != "<":
            match = _HTML_SPECIAL_RE.search(self.src, self.i + 1)
            end = match.start() if match else len(self.src)
            self.out.add(self.src[self.i : end])
            self.i = end
            return
        begin = self.i
        if self._at(begin + 1) == "/":
            self.i = self._end_tag(begin)
        else:
            self.i = self._start_tag(begin)

    def _start_tag(self, begin: int) -> int:
        k = begin + 1
        while not self._is_space(k) and self.src[k] != ">":
            k += 1
        if k >= len(self.src):
            raise MarkupError(f"Unclosed start tag at byte offset {self._where(begin)}")
        name = self.src[begin + 1 : k].lower()
        if name not in _HTML_TAGS:
            raise MarkupError(f'Unsupported start tag "{name}" at byte offset {self._where(begin)}')
        argument, k = self._attributes(name, begin, k)
        if name == "span" and argument != "spoiler":
            raise MarkupError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._where(begin)}'
            )
        self.stack.append(_Open(name, argument, self.out.u16, self.out.chars))
        return k + 1

    def _attributes(self, tag: str, begin: int, k: int) -> tuple[str, int]:
        argument = ""
        while self._at(k) != ">":
            k = self._skip_spaces(k)
            if self._at(k) == ">":
                break
            name_start = k
            while not self._is_space(k) and self.src[k] not in "=>/\"'":
                k += 1
            attribute = self.src[name_start:k].lower()
            if not attribute:
                raise MarkupError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {self._where(begin)}'
                )
            k = self._skip_spaces(k)
            if self._at(k) != "=":
                if k >= len(self.src):
                    raise MarkupError(
                        f'Unclosed start tag "{tag}" at byte offset {self._where(begin)}'
                    )
                if tag == "blockquote" and attribute == "expandable":
                    argument = "1"
                continue
            k = self._skip_spaces(k + 1)
            if k >= len(self.src):
                raise MarkupError(f'Unclosed start tag "{tag}" at byte offset {self._where(begin)}')
            value, k = self._attribute_value(k)
            if k >= len(self.src):
                raise MarkupError(f"Unclosed start tag at byte offset {self._where(begin)}")
            argument = _tag_argument(tag, attribute, value, argument)
        return argument, k

    def _attribute_value(self, k: int) -> tuple[str, int]:
        quote = self.src[k]
        if quote not in "\"'":
            start = k
            while k < len(self.src) and (
                (self.src[k].isascii() and self.src[k].isalnum()) or self.src[k] in ".-"
            ):
                k += 1
            if not self._is_space(k) and self.src[k] != ">":
                raise MarkupError(
                    f"Unexpected end of name token at byte offset {self._where(start)}"
                )
            return self.src[start:k].lower(), k
        k += 1
        value: list[str] = []
        while k < len(self.src) and self.src[k] != quote:
            decoded, end = _decode_html_entity(self.src, k) if self.src[k] == "&" else (None, k)
            if decoded is not None:
                value.append(decoded)
                k = end
            else:
                value.append(self.src[k])
                k += 1
        return "".join(value), k + 1 if k < len(self.src) else k

    def _end_tag(self, begin: int) -> int:
        if not self.stack:
            raise MarkupError(f"Unexpected end tag at byte offset {self._where(begin)}")
        k = begin + 2
        while not self._is_space(k) and self.src[k] != ">":
            k += 1
        name = self.src[begin + 2 : k].lower()
        k = self._skip_spaces(k)
        if self._at(k) != ">":
            raise MarkupError(f"Unclosed end tag at byte offset {self._where(begin)}")
        opened = self.stack[-1]
        if name and name != opened.name:
            raise MarkupError(
                f"Unmatched end tag at byte offset {self._where(begin)}, "
                f'expected "</{opened.name}>", found "</{name}>"'
            )
        self.stack.pop()
        length = self.out.u16 - opened.u16
        if length > 0:
            self._close(opened, length)
        return k + 1

    def _close(self, opened: _Open, length: int) -> None:
        kind = _HTML_SIMPLE.get(opened.name)
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (opened.u16, length)
        if kind:
            self.entities.append(_entity(kind, opened.u16, length))
        elif opened.name == "a":
            url = check_url(opened.argument or self.out.since(opened.chars))
            if url:
                self.entities.append(_entity("text_link", opened.u16, length, url=url))
        elif opened.name == "tg-emoji":
            emoji_id = _valid_emoji_id(opened.argument)
            self.entities.append(
                _entity("custom_emoji", opened.u16, length, custom_emoji_id=emoji_id)
            )
        elif opened.name == "blockquote":
            kind = "expandable_blockquote" if opened.argument else "blockquote"
            self.entities.append(_entity(kind, opened.u16, length))
        elif (
            opened.name == "pre"
            and same_span
            and last
            and last["type"] == "code"
            and last.get("_language")
        ):
            last.update(type="pre", language=last.pop("_language"))
        elif opened.name == "pre":
            self.entities.append(_entity("pre", opened.u16, length))
        elif (
            opened.name == "code"
            and same_span
            and last
            and last["type"] == "pre"
            and opened.argument
        ):
            last["language"] = opened.argument
        else:
            self.entities.append(_entity("code", opened.u16, length, _language=opened.argument))


def _tag_argument(tag: str, attribute: str, value: str, current: str) -> str:
    """The part of an attribute TDLib keeps for a tag."""
    if (tag, attribute) in (("a", "href"), ("tg-emoji", "emoji-id")):
        return value
    if (tag, attribute) == ("code", "class") and value.startswith("language-"):
        return value[len("language-") :]
    if (tag, attribute) == ("span", "class") and value.startswith("tg-"):
        return value[len("tg-") :]
    if (tag, attribute) == ("blockquote", "expandable"):
        return "1"
    return current


def _valid_emoji_id(value: str) -> str:
    if not value.isdigit() or value.startswith("0"):
        raise MarkupError("Invalid custom emoji identifier specified")
    return value


# ..................................................................... MarkdownV2

_MD2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MD2_PLAIN_RE = re.compile(r"[\\_*\[\]()~`>#+\-=|{}.!\n\r]")
_MD2_CODE_PLAIN_RE = re.compile(r"[\\`]")
_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def _pre_language(src: str, i: int) -> tuple[str, int]:
    """The optional language after an opening ```, then one skipped newline."""
    end = i
    while end < len(src) and src[end] not in _SPACES and src[end] != "`":
        end += 1
    language = ""
    if end != i and end < len(src) and src[end] != "`":
        language, i = src[i:end], end
    if src[i : i + 1] in ("\n", "\r"):
        pair = src[i : i + 2]
        i += 2 if len(pair) == 2 and pair[1] in "\n\r" and pair[0] != pair[1] else 1
    return language, i


class _MarkdownV2Parser:
    """TDLib's ``parse_markdown_v2`` (block quotes in a simplified form)."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.i = 0
        self.out = _Output()
        self.stack: list[_Open] = []
        self.entities: list[dict[str, Any]] = []
        self.quote: _Open | None = None

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        while self.i < len(self.src):
            if self._at_line_start() and not self._in_code():
                self._line_start()
                if self.i >= len(self.src):
                    break
            self._step()
        self._close_quote()
        if self.stack:
            opened = self.stack[-1]
            raise MarkupError(
                f"Can't find end of {_MD2_NAMES[opened.name]} entity "
                f"at byte offset {opened.byte_offset}"
            )
        return self.out.text(), _sorted_entities(self.entities)

    def _at(self, k: int) -> str:
        return self.src[k] if k < len(self.src) else "\0"

    def _in_code(self) -> bool:
        return bool(self.stack) and self.stack[-1].name in ("code", "pre", "pre_code")

    def _at_line_start(self) -> bool:
        return self.i == 0 or self.src[self.i - 1] in "\n\r"

    def _line_start(self) -> None:
        if self.src.startswith("**>", self.i) and self.quote is None:
            self.quote = _Open("expandable_blockquote", "", self.out.u16, self.out.chars)
            self.i += 3
        elif self._at(self.i) == ">":
            if self.quote is None:
                self.quote = _Open("blockquote", "", self.out.u16, self.out.chars)
            self.i += 1
        else:
            self._close_quote()

    def _close_quote(self) -> None:
        quote, self.quote = self.quote, None
        if quote and self.out.u16 > quote.u16:
            self.entities.append(_entity(quote.name, quote.u16, self.out.u16 - quote.u16))

    def _step(self) -> None:
        char = self.src[self.i]
        if char == "\\" and 0 < ord(self._at(self.i + 1)) <= 126:
            self.out.add(self.src[self.i + 1])
            self.i += 2
            return
        if char in "\n\r":
            self.out.add(char)
            self.i += 1
            return
        reserved = "`" if self._in_code() else _MD2_RESERVED
        if char not in reserved:
            pattern = _MD2_CODE_PLAIN_RE if self._in_code() else _MD2_PLAIN_RE
            match = pattern.search(self.src, self.i + 1)
            end = match.start() if match else len(self.src)
            self.out.add(self.src[self.i : end])
            self.i = end
        elif self._expandable_mark():
            self.i += 2
        elif self.stack and self._closes(self.stack[-1].name):
            self._close(self.stack.pop())
        else:
            self._open(char)

    def _expandable_mark(self) -> bool:
        """``||`` ending a quoted line marks the quote expandable."""
        if self.quote is None or not self.src.startswith("||", self.i):
            return False
        if self.stack and self.stack[-1].name == "spoiler":
            return False
        if self._at(self.i + 2) not in "\n\r\0":
            return False
        self.quote.name = "expandable_blockquote"
        return True

    def _closes(self, name: str) -> bool:
        char, following = self.src[self.i], self._at(self.i + 1)
        return {
            "bold": char == "*",
            "italic": char == "_" and following != "_",
            "underline": char == "_" and following == "_",
            "strikethrough": char == "~",
            "spoiler": char == "|" and following == "|",
            "code": char == "`",
            "pre": self.src.startswith("```", self.i),
            "pre_code": self.src.startswith("```", self.i),
            "text_link": char == "]",
            "custom_emoji": char == "]",
        }[name]

    def _open(self, char: str) -> None:
        start = self.i
        following = self._at(self.i + 1)
        argument = ""
        if char == "_":
            name, self.i = ("underline", self.i + 2) if following == "_" else ("italic", self.i + 1)
        elif char in "*~[":
            name, self.i = {"*": "bold", "~": "strikethrough", "[": "text_link"}[char], self.i + 1
        elif char == "|" and following == "|":
            name, self.i = "spoiler", self.i + 2
        elif char == "!" and following == "[":
            name, self.i = "custom_emoji", self.i + 2
        elif char == "`" and self.src.startswith("```", self.i):
            argument, self.i = _pre_language(self.src, self.i + 3)
            name = "pre_code" if argument else "pre"
        elif char == "`":
            name, self.i = "code", self.i + 1
        else:
            raise MarkupError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        byte_offset = _byte_offset(self.src, start)
        self.stack.append(_Open(name, argument, self.out.u16, self.out.chars, byte_offset))

    def _close(self, opened: _Open) -> None:
        self.i += {"underline": 2, "spoiler": 2, "pre": 3, "pre_code": 3}.get(opened.name, 1)
        length = self.out.u16 - opened.u16
        extra: dict[str, Any] = {}
        if opened.name == "text_link":
            url = check_url(self._link_target(opened))
            if url is None:
                return
            extra["url"] = url
        elif opened.name == "custom_emoji":
            extra["custom_emoji_id"] = _custom_emoji_id(self._emoji_target())
        elif opened.name == "pre_code":
            extra["language"] = opened.argument
        if length > 0:
            kind = "pre" if opened.name == "pre_code" else opened.name
            self.entities.append(_entity(kind, opened.u16, length, **extra))

    def _link_target(self, opened: _Open) -> str:
        if self._at(self.i) != "(":
            return self.out.since(opened.chars)
        return self._parenthesised("Can't find end of a URL")

    def _emoji_target(self) -> str:
        if self._at(self.i) != "(":
            raise MarkupError("Custom emoji entity must contain a tg://emoji URL")
        return self._parenthesised("Can't find end of a custom emoji URL")

    def _parenthesised(self, missing: str) -> str:
        begin = self.i + 1
        k, target = begin, []
        while k < len(self.src) and self.src[k] != ")":
            if self.src[k] == "\\" and 0 < ord(self._at(k + 1)) <= 126:
                k += 1
            target.append(self.src[k])
            k += 1
        if k >= len(self.src):
            raise MarkupError(f"{missing} at byte offset {_byte_offset(self.src, begin)}")
        self.i = k + 1
        return "".join(target)


def _custom_emoji_id(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() != "tg":
        raise MarkupError("Custom emoji URL must have scheme tg")
    host = parts.netloc or parts.path.split("/")[0]
    if host.lower() != "emoji":
        raise MarkupError('Custom emoji URL must have host "emoji"')
    values = parse_qs(parts.query).get("id")
    if not values:
        raise MarkupError("Custom emoji URL must have an emoji identifier")
    return _valid_emoji_id(values[0])


# ..................................................................... legacy Markdown


def _parse_markdown_v1(src: str) -> tuple[str, list[dict[str, Any]]]:
    """TDLib's ``parse_markdown``, behind parse_mode "Markdown"."""
    out, i = _Output(), 0
    entities: list[dict[str, Any]] = []
    while i < len(src):
        char = src[i]
        if char == "\\" and src[i + 1 : i + 2] in ("_", "*", "`", "["):
            out.add(src[i + 1])
            i += 2
        elif char not in "_*`[":
            out.add(char)
            i += 1
        else:
            i = _markdown_v1_entity(src, i, out, entities)
    return out.text(), _sorted_entities(entities)


def _markdown_v1_entity(src: str, begin: int, out: _Output, entities: list[dict[str, Any]]) -> int:
    char = src[begin]
    end_char = "]" if char == "[" else char
    i, language = begin + 1, ""
    is_pre = src.startswith("```", begin)
    if is_pre:
        language, i = _pre_language(src, begin + 3)
    start_u16, start_chars = out.u16, out.chars
    while i < len(src) and (src[i] != end_char or (is_pre and not src.startswith("``", i + 1))):
        out.add(src[i])
        i += 1
    if i >= len(src):
        raise MarkupError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(src, begin)}"
        )
    length = out.u16 - start_u16
    if length > 0 and char == "[":
        target = out.since(start_chars)
        if src[i + 1 : i + 2] == "(":
            close = src.find(")", i + 2)
            close = len(src) if close < 0 else close
            target, i = src[i + 2 : close], close
        url = check_url(target)
        if url:
            entities.append(_entity("text_link", start_u16, length, url=url))
    elif length > 0:
        kind = {"_": "italic", "*": "bold"}.get(char, "pre" if is_pre else "code")
        extra = {"language": language} if is_pre and language else {}
        entities.append(_entity(kind, start_u16, length, **extra))
    return i + (3 if is_pre else 1)


# ..................................................................... formatting

_PARSERS: dict[str, Callable[[str], tuple[str, list[dict[str, Any]]]]] = {
    "html": lambda src: _HtmlParser(src).parse(),
    "markdownv2": lambda src: _MarkdownV2Parser(src).parse(),
    "markdown": _parse_markdown_v1,
}


def format_text(
    text: str, parse_mode: str | None = None, entities: Any = None
) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities of a message as Telegram stores it.

    Explicit ``entities`` win over ``parse_mode``; the result is trimmed of
    surrounding whitespace. Raises `ApiError` with Telegram's description for
    malformed markup.
    """
    if entities is not None:
        parsed = text, _explicit_entities(entities, text)
    elif parse_mode:
        parser = _PARSERS.get(parse_mode.lower())
        if parser is None:
            raise bad_request("unsupported parse_mode")
        try:
            parsed = parser(text)
        except MarkupError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    else:
        parsed = text, []
    return _trim(*parsed)


def _explicit_entities(entities: Any, text: str) -> list[dict[str, Any]]:
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    size = utf16_len(text)
    kept = []
    for item in entities:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad_request('can\'t parse MessageEntity: Field "type" must be of type String')
        offset, length = item.get("offset"), item.get("length")
        if (
            isinstance(offset, int)
            and isinstance(length, int)
            and length > 0
            and 0 <= offset < size
        ):
            kept.append({**item, "length": min(length, size - offset)})
    return _sorted_entities(kept)


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    left = len(text) - len(text.lstrip(_SPACES))
    shift = utf16_len(text[:left])
    body = text.strip(_SPACES)
    size = utf16_len(body)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return body, kept


# --------------------------------------------------------------------------- keyboards


def validate_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Checks a reply_markup as Telegram does; returns it, or None if absent."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _validate_reply_keyboard(markup["keyboard"])
    elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _rows(rows: Any, field_name: str) -> list[Any]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'Field "{field_name}" must be of type Array')
    return [button for row in rows for button in row]


def _validate_inline_keyboard(rows: Any) -> None:
    buttons = _rows(rows, "inline_keyboard")
    if len(buttons) > INLINE_BUTTON_LIMIT:
        raise bad_request("reply markup is too long")
    for button in buttons:
        _validate_inline_button(button)


def _validate_inline_button(button: Any) -> None:
    prefix = "can't parse InlineKeyboardButton"
    if not isinstance(button, dict):
        raise bad_request(f"{prefix}: InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad_request(f'{prefix}: Can\'t find field "text"')
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in INLINE_ACTIONS if button.get(name) not in (None, "")]
    if not actions:
        raise bad_request(f"{prefix}: Text buttons are not allowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request("BUTTON_TYPE_INVALID")
    data = button.get("callback_data")
    if data is not None and (
        not isinstance(data, str) or len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT
    ):
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and (not isinstance(url, str) or check_url(url) is None):
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _validate_reply_keyboard(rows: Any) -> None:
    for button in _rows(rows, "keyboard"):
        text = (
            button
            if isinstance(button, str)
            else button.get("text")
            if isinstance(button, dict)
            else None
        )
        if not isinstance(text, str) or not text.strip():
            raise bad_request("can't parse keyboard button: Text must be non-empty")


def _button_label(button: Any) -> str:
    return button if isinstance(button, str) else str(button.get("text", ""))


# --------------------------------------------------------------------------- flood control


@dataclass
class RateLimits:
    """Messages a bot may send or edit before getting 429 (None: no limit)."""

    global_per_second: int | None = 30
    group_per_minute: int | None = 20
    private_per_second: int | None = None


class FloodControl:
    """Sliding windows of sent/edited messages, answering 429 past a limit."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.rejections = 0
        self.rejections_by_chat: Counter[int] = Counter()
        self._clock = clock
        self._windows: dict[Hashable, deque[float]] = {}
        self._waiting_until: float | None = None

    def consume(self, chat_id: int) -> None:
        """Counts one message to ``chat_id``, or raises the 429 `ApiError`."""
        now = self._clock()
        if self._waiting_until is not None and now < self._waiting_until:
            self._refuse(chat_id, self._waiting_until - now)
        rules = list(self._rules(chat_id))
        for key, limit, period in rules:
            window = self._window(key, now, period)
            if len(window) >= limit:
                self._refuse(chat_id, window[0] + period - now)
        for key, _, _ in rules:
            self._windows[key].append(now)

    def wait(self, seconds: float) -> None:
        """A flood wait: every message answers 429 for ``seconds`` from now, whatever the
        limits (``retry_after`` is what remains of it), until it ends or `end_wait`."""
        self._waiting_until = self._clock() + seconds

    def end_wait(self) -> None:
        """Ends the flood wait now."""
        self._waiting_until = None

    def reset(self) -> None:
        """Forgets every message counted so far."""
        self._windows.clear()

    def _refuse(self, chat_id: int, remaining: float) -> NoReturn:
        retry_after = max(1, math.ceil(remaining))
        self.rejections += 1
        self.rejections_by_chat[chat_id] += 1
        raise ApiError(
            429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
        )

    def _rules(self, chat_id: int) -> Iterator[tuple[Hashable, int, float]]:
        if self.limits.global_per_second:
            yield "global", self.limits.global_per_second, 1.0
        if chat_id < 0 and self.limits.group_per_minute:
            yield ("chat", chat_id), self.limits.group_per_minute, 60.0
        if chat_id > 0 and self.limits.private_per_second:
            yield ("chat", chat_id), self.limits.private_per_second, 1.0

    def _window(self, key: Hashable, now: float, period: float) -> deque[float]:
        window = self._windows.setdefault(key, deque())
        while window and window[0] <= now - period:
            window.popleft()
        return window


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request, as PTB uploads it."""

    name: str
    filename: str | None
    content_type: str | None
    content: bytes = field(repr=False)


@dataclass
class StoredFile:
    """A file known to the stub: its ids, bytes and download path."""

    file_id: str
    file_unique_id: str
    content: bytes = field(repr=False)
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    source_url: str | None = None

    def as_file(self) -> dict[str, Any]:
        """The Bot API ``File`` object (what getFile returns)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }

    def as_document(self) -> dict[str, Any]:
        """The Bot API ``Document`` object."""
        document = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
        }
        if self.file_name:
            document["file_name"] = self.file_name
        if self.mime_type:
            document["mime_type"] = self.mime_type
        return document

    def as_photo(self, width: int = 800, height: int = 600) -> list[dict[str, Any]]:
        """The Bot API list of ``PhotoSize`` (a single size here)."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": len(self.content),
                "width": width,
                "height": height,
            }
        ]


@dataclass
class RecordedCall:
    """An accepted call of the bot: method, decoded parameters, time, result."""

    method: str
    params: dict[str, Any]
    at: float
    result: Any
    consumed: bool = False

    @property
    def chat_id(self) -> Any:
        """The ``chat_id`` parameter (int when numeric), or None."""
        return _as_chat_id(self.params.get("chat_id"))


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an update to the webhook."""

    update_id: int
    url: str
    status: int | None
    """The webhook's HTTP status; None when the connection failed."""
    at: float
    error: str = ""

    @property
    def accepted(self) -> bool:
        """A 2xx answer: Telegram forgets the update."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class RejectedCall:
    """A call the stub refused, with the error it answered."""

    method: str
    params: dict[str, Any] = field(repr=False)
    at: float = field(repr=False)
    error_code: int
    description: str

    @property
    def chat_id(self) -> Any:
        """The ``chat_id`` parameter (int when numeric), or None."""
        return _as_chat_id(self.params.get("chat_id"))


@dataclass(frozen=True)
class ChatMessage:
    """A snapshot of one message as Telegram held it at a given moment.

    ``data`` is the Bot API ``Message`` object; the properties read it the
    way a test wants to. ``edited`` tells that this snapshot comes from an
    edit, ``reply_keyboard`` is the reply keyboard sent along (inline
    keyboards are in ``reply_markup``).
    """

    chat_id: int
    message_id: int
    data: dict[str, Any]
    from_bot: bool
    edited: bool = False
    deleted: bool = False
    reply_keyboard: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        """The text, or the caption of a media message, or ''."""
        return self.data.get("text") or self.data.get("caption") or ""

    @property
    def caption(self) -> str | None:
        """The caption of a media message."""
        return self.data.get("caption")

    @property
    def entities(self) -> list[dict[str, Any]]:
        """Entities of the text or of the caption."""
        return self.data.get("entities") or self.data.get("caption_entities") or []

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The inline keyboard markup, if any."""
        return self.data.get("reply_markup")

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """Rows of inline buttons (empty without an inline keyboard)."""
        rows: list[list[dict[str, Any]]] = (self.reply_markup or {}).get("inline_keyboard", [])
        return rows

    @property
    def button_labels(self) -> list[str]:
        """Texts of every inline button, row after row."""
        return [button["text"] for row in self.buttons for button in row]

    @property
    def reply_keyboard_labels(self) -> list[str]:
        """Texts of the reply keyboard sent with this message."""
        rows = (self.reply_keyboard or {}).get("keyboard", [])
        return [_button_label(button) for row in rows for button in row]

    def button(self, label: str) -> dict[str, Any]:
        """The inline button whose text, or else callback_data, is ``label``."""
        for key in ("text", "callback_data"):
            for row in self.buttons:
                for button in row:
                    if button.get(key) == label:
                        return button
        offered = [
            [(b.get("text"), b.get("callback_data") or b.get("url")) for b in row]
            for row in self.buttons
        ]
        raise AssertionError(
            f"No button {label!r} on message {self.message_id} in chat {self.chat_id} "
            f"({self.text!r}). Buttons (text, data): {offered}"
        )

    @property
    def document(self) -> dict[str, Any] | None:
        """The ``Document`` object of a document message."""
        return self.data.get("document")

    @property
    def photo(self) -> list[dict[str, Any]] | None:
        """The ``PhotoSize`` list of a photo message."""
        return self.data.get("photo")

    @property
    def reply_to_message_id(self) -> int | None:
        """Id of the message this one replies to."""
        return (self.data.get("reply_to_message") or {}).get("message_id")

    def describe(self) -> str:
        """A one-line summary for assertion messages."""
        who = "bot" if self.from_bot else "user"
        state = " (edited)" if self.edited else " (deleted)" if self.deleted else ""
        labels = f" buttons={self.button_labels}" if self.buttons else ""
        return f"#{self.message_id} {who}{state}: {self.text!r}{labels}"


@dataclass
class StoredMessage:
    """A message held by the stub, in its current state."""

    chat_id: int
    message_id: int
    data: dict[str, Any]
    from_bot: bool
    deleted: bool = False
    reply_keyboard: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def snapshot(self, *, edited: bool = False) -> ChatMessage:
        """An immutable copy of the current state."""
        return ChatMessage(
            chat_id=self.chat_id,
            message_id=self.message_id,
            data=copy.deepcopy(self.data),
            from_bot=self.from_bot,
            edited=edited,
            deleted=self.deleted,
            reply_keyboard=copy.deepcopy(self.reply_keyboard),
        )


@dataclass
class ChatState:
    """One chat as the stub knows it: messages, events, keyboard, actions."""

    id: int
    type: str
    title: str | None = None
    user: FakeUser | None = None
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    events: list[ChatMessage] = field(default_factory=list)
    cursor: int = 0
    last_message_id: int = 0
    reply_keyboard: dict[str, Any] | None = None
    actions: list[str] = field(default_factory=list)
    menu_button: dict[str, Any] | None = None
    bot_kicked: bool = False

    def as_chat(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        if self.user is not None:
            chat = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.last_name:
                chat["last_name"] = self.user.last_name
            if self.user.username:
                chat["username"] = self.user.username
            return chat
        return {"id": self.id, "type": self.type, "title": self.title or ""}

    def next_message_id(self) -> int:
        """Allocates the next message id of this chat."""
        self.last_message_id += 1
        return self.last_message_id


def _as_chat_id(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def _tiny_png() -> bytes:
    """A valid 1x1 PNG, the default picture a fake user sends."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0\0\0\0")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


TINY_PNG = _tiny_png()


# --------------------------------------------------------------------------- requests


class _Params:
    """Parameters of one call, decoded the way the Bot API reads them."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def text(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value) if isinstance(value, dict | list) else str(value)

    def integer(self, key: str, missing: str | None = None) -> int | None:
        value = self.values.get(key)
        if value is None or value == "":
            if missing:
                raise bad_request(missing)
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{key}" must be of type Integer') from None

    def number(self, key: str, default: float) -> float:
        value = self.values.get(key)
        try:
            return default if value in (None, "") else float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{key}" must be of type Number') from None

    def flag(self, key: str) -> bool:
        return self.values.get(key) in (True, 1, "1", "true", "True")


def _decode_field(key: str, raw: str) -> Any:
    """A form value: strings stay strings, anything else is JSON when it parses."""
    if key in STRING_FIELDS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


async def _read_params(request: web.Request) -> _Params:
    """Query string, then JSON body or (multipart) form, with attach:// resolved."""
    values: dict[str, Any] = {k: _decode_field(k, v) for k, v in request.query.items()}
    uploads: dict[str, Upload] = {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON encoded request parameters") from None
        if isinstance(body, dict):
            values.update(body)
    elif request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                uploads[key] = Upload(key, value.filename, value.content_type, value.file.read())
            else:
                values[key] = _decode_field(key, str(value))
    return _Params(_attach(values, uploads))


def _attach(values: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any]:
    referenced = set()
    for key, value in values.items():
        if isinstance(value, str) and value.startswith("attach://"):
            name = value[len("attach://") :]
            if name in uploads:
                values[key] = uploads[name]
                referenced.add(name)
    for name, upload in uploads.items():
        if name not in referenced and name not in values:
            values[name] = upload
    return values


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.json_response(
        payload, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


@dataclass
class _Hold:
    """Calls of a method (to a chat) that hang once `after` of them passed."""

    method: str
    chat_id: int | None
    after: int
    passed: int = 0


class _Signal:
    """Wakes every waiter when something happened (one-shot, renewed)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


# --------------------------------------------------------------------------- the server

API_METHODS = (
    "getMe",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "setChatMenuButton",
    "getChatMenuButton",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "editMessageCaption",
    "deleteMessage",
    "answerCallbackQuery",
    "sendDocument",
    "sendPhoto",
    "sendChatAction",
    "copyMessage",
    "forwardMessage",
    "getFile",
    "getChat",
    "getChatMember",
    "getChatAdministrators",
    "sendInvoice",
    "answerPreCheckoutQuery",
    "close",
    "logOut",
)
_CONTENT_KEYS = ("text", "entities", "caption", "caption_entities", "reply_markup")
_MEDIA_KEYS = frozenset({"document", "photo", "video", "audio", "animation", "voice"})
_COPYABLE_KEYS = _MEDIA_KEYS | {
    "text",
    "entities",
    "caption",
    "caption_entities",
    "sticker",
    "contact",
    "location",
}
_FILE_ID_PREFIX = {
    "document": "BQACAgQAAxkBAAI",
    "photo": "AgACAgQAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI",
}
_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
}
ApiHandler = Callable[[dict[str, Any]], Any]


class BotApiStub:
    """A local Telegram Bot API server plus the driver a test talks to.

    Start it with ``async with BotApiStub() as stub`` (or ``await start()`` /
    ``await stop()``), point PTB at `base_url` and `base_file_url`, create
    people with `user` and `group`, then read what the bot did with
    `next_message`, `messages`, `calls` and `next_call`.

    Several bots on one server, as api.telegram.org serves every token:
    ``second = stub.add_bot(username="CommuneBBot")`` (or
    ``BotApiStub(token, server=stub)``) is another bot answering at the same
    `base_url` under its own token, with its own users, chats, updates, files,
    webhook, failures and flood control (Telegram's limits are per bot). A
    request is served by the bot of the token in its URL; an unknown (or
    `revoke`-d) token answers 401. `stop` of the stub that started the server
    stops every bot on it.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = "PortailFamilleBot",
        first_name: str = "Portail Famille",
        rate_limits: RateLimits | None = None,
        server: BotApiStub | None = None,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 1
        self.username = username
        self.first_name = first_name
        #: The stub owning the HTTP server this bot answers on (itself unless shared).
        self.server: BotApiStub = self if server is None else server.server
        #: token -> bot, shared by every stub of one server.
        self._bots: dict[str, BotApiStub] = {} if server is None else self.server._bots
        if token in self._bots:
            raise ValueError(f"token {token!r} is already served by this server")
        self._bots[token] = self
        self._port: int | None = None
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, ChatState] = {}
        #: chat id -> ids of administrators (getChatMember / getChatAdministrators).
        self.admins: dict[int, list[int]] = {}
        #: chat id -> ids of plain members; users who write in a group are added.
        self.members: dict[int, list[int]] = {}
        #: chat id -> id of the group's creator.
        self.owners: dict[int, int] = {}
        self.blocked: set[int] = set()
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_button: dict[str, Any] | None = None
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.pre_checkout_answers: dict[str, dict[str, Any]] = {}
        self.allowed_updates: list[str] | None = None
        #: What the last setWebhook set (url, secret_token, allowed_updates,
        #: drop_pending_updates, max_connections); None without a webhook.
        self.webhook: dict[str, Any] | None = None
        #: Every setWebhook call's parameters, oldest first.
        self.webhook_history: list[dict[str, Any]] = []
        #: When set, updates go in turn to each of these URLs instead of the webhook's.
        self.webhook_endpoints: list[str] | None = None
        #: Every POST of an update to a webhook: (update_id, url, HTTP status or None).
        self.webhook_deliveries: list[WebhookDelivery] = []
        #: Seconds before an update refused by the webhook is sent again.
        self.webhook_retry_seconds = 0.05
        self._webhook_turn = itertools.count()
        self._webhook_task: asyncio.Task[None] | None = None
        self.flood = FloodControl(rate_limits or RateLimits())
        self._calls: list[RecordedCall] = []
        self._rejections: list[RejectedCall] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._delivered_up_to = 0
        self._poll_generation = 0
        self._open_queries: dict[str, dict[str, Any]] = {}
        self._open_checkouts: dict[str, dict[str, Any]] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        #: File numbers are unique on the server, so a file path never names two bots' files.
        self._file_numbers: Iterator[int] = (
            itertools.count(1) if server is None else self.server._file_numbers
        )
        self._query_numbers = itertools.count(1)
        self._failures: dict[str, list[ApiError]] = {}
        self._overrides: dict[str, ApiHandler] = {}
        self._holds: list[_Hold] = []
        self._released = asyncio.Event()
        self._held_now = 0
        self._methods = {name.lower(): name for name in API_METHODS}
        self._updates_signal = _Signal()
        self._activity = _Signal()
        self._closing = False
        self._runner: web.AppRunner | None = None

    # ............................................................ lifecycle

    async def start(self) -> BotApiStub:
        """Binds 127.0.0.1 on a free port and starts serving.

        For a bot sharing another's server: only lets it serve again after `stop`
        (the server is the other stub's to start).
        """
        if self.server is not self:
            self._closing = False
            return self
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        for bot in self._bots.values():
            bot._closing = False
        return self

    async def stop(self) -> None:
        """Answers pending long polls and shuts the server down.

        The server's own stub stops every bot on it; a bot sharing the server
        stops only its own polls and webhook deliveries.
        """
        bots = list(self._bots.values()) if self.server is self else [self]
        for bot in bots:
            await bot._close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _close(self) -> None:
        self._closing = True
        self._released.set()
        self._updates_signal.fire()
        self._activity.fire()
        await self._stop_webhook_delivery()

    def add_bot(
        self,
        token: str | None = None,
        *,
        username: str | None = None,
        first_name: str = "Portail Famille",
        rate_limits: RateLimits | None = None,
    ) -> BotApiStub:
        """Another bot served at the same `base_url` (started with this server).

        Without a token, the next free bot id after the server's bots is used;
        without a username, ``PortailFamille<bot id>Bot``.
        """
        if token is None:
            taken = {bot.bot_id for bot in self._bots.values()}
            bot_id = max(taken) + 1
            token = f"{bot_id}:AAStubTokenForLocalTestsOnly_{bot_id:010d}"
        prefix = token.split(":", 1)[0]
        name = username or f"PortailFamille{prefix}Bot"
        if any(bot.username.lower() == name.lower() for bot in self._bots.values()):
            raise ValueError(f"username {name!r} is already a bot of this server")
        return BotApiStub(
            token, username=name, first_name=first_name, rate_limits=rate_limits, server=self
        )

    @property
    def bots(self) -> list[BotApiStub]:
        """Every bot answering on this server, the server's own first."""
        return list(self._bots.values())

    def revoke(self) -> None:
        """The token is revoked (BotFather's /revoke): its calls answer 401 from now on."""
        if self.server is self:
            raise ValueError("the server's own bot cannot be revoked; add another bot")
        if self._bots.get(self.token) is self:
            del self._bots[self.token]
        self._closing = True  # a pending long poll ends; the next call gets 401
        self._updates_signal.fire()
        self._activity.fire()

    @property
    def port(self) -> int | None:
        """The server's port, None before it started."""
        return self.server._port

    @property
    def base_url(self) -> str:
        """What PTB takes as ``base_url``: ``http://127.0.0.1:PORT/bot``."""
        return f"http://127.0.0.1:{self._started_port()}/bot"

    @property
    def base_file_url(self) -> str:
        """What PTB takes as ``base_file_url``: ``http://127.0.0.1:PORT/file/bot``."""
        return f"http://127.0.0.1:{self._started_port()}/file/bot"

    def _started_port(self) -> int:
        port = self.server._port
        if port is None:
            raise RuntimeError("BotApiStub is not started: use 'async with' or await start()")
        return port

    # ............................................................ HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        bot = self._bots.get(request.match_info["token"])
        if bot is None:
            return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        return await bot._serve_api(request)

    async def _serve_api(self, request: web.Request) -> web.Response:
        method = self._methods.get(request.match_info["method"].lower())
        if method is None:
            return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        params = _Params({})
        try:
            params = await _read_params(request)
            result = await self._dispatch(method, params)
        except ApiError as error:
            if request.transport is not None:  # nobody listens to a dropped poll
                self._reject(method, params, error)
            return _json(error.payload(), error.error_code)
        except Exception as bug:  # a bug of the stub: make it loud, not a hang
            failure = ApiError(500, f"Internal Server Error: the stub failed with {bug!r}")
            self._reject(method, params, failure)
            return _json(failure.payload(), 500)
        self._record(method, params, result)
        return _json({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        bot = self._bots.get(request.match_info["token"])
        stored = None if bot is None else bot._files_by_path.get(request.match_info["path"])
        if stored is None:
            return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return web.Response(
            body=stored.content, content_type=stored.mime_type or "application/octet-stream"
        )

    async def _dispatch(self, method: str, params: _Params) -> Any:
        failures = self._failures.get(method)
        if failures:
            raise failures.pop(0)
        await self._maybe_hold(method, params)
        override = self._overrides.get(method)
        if override is not None:
            result = override(params.values)
        else:
            result = getattr(self, "_api_" + _camel_to_snake(method))(params)
        if inspect.isawaitable(result):
            result = await result
        return result

    def _record(self, method: str, params: _Params, result: Any) -> None:
        self._calls.append(
            RecordedCall(method, params.values, time.monotonic(), copy.deepcopy(result))
        )
        self._activity.fire()

    def _reject(self, method: str, params: _Params, error: ApiError) -> None:
        rejected = RejectedCall(
            method, params.values, time.monotonic(), error.error_code, error.description
        )
        self._rejections.append(rejected)
        self._activity.fire()

    # ............................................................ state helpers

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot as a Bot API ``User``."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _find_chat(self, raw: Any) -> ChatState:
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat = self.chats.get(_as_chat_id(raw)) if isinstance(_as_chat_id(raw), int) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _chat_for_sending(self, raw: Any) -> ChatState:
        chat = self._find_chat(raw)
        if chat.user is not None and chat.id in self.blocked:
            raise forbidden("bot was blocked by the user")
        if chat.user is not None and not chat.user.started:
            raise forbidden("bot can't initiate conversation with a user")
        if chat.bot_kicked:
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        return chat

    def _user_object(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            return self.bot_user
        if user_id in self.users:
            return self.users[user_id].as_user()
        return {"id": user_id, "is_bot": False, "first_name": f"Utilisateur {user_id}"}

    def _reply_target(self, chat: ChatState, p: _Params) -> StoredMessage | None:
        options = p.get("reply_parameters")
        if isinstance(options, dict):
            message_id, allow = (
                options.get("message_id"),
                bool(options.get("allow_sending_without_reply")),
            )
            target_chat = self._find_chat(options["chat_id"]) if options.get("chat_id") else chat
        else:
            message_id, allow = (
                p.integer("reply_to_message_id"),
                p.flag("allow_sending_without_reply"),
            )
            target_chat = chat
        if message_id is None:
            return None
        target = target_chat.messages.get(int(message_id))
        if target is None or target.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return target

    def _store_message(
        self,
        chat: ChatState,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        from_bot: bool,
        reply_to: StoredMessage | None = None,
    ) -> StoredMessage:
        data = {
            "message_id": chat.next_message_id(),
            "from": sender,
            "chat": chat.as_chat(),
            "date": int(time.time()),
            **content,
        }
        if reply_to is not None:
            data["reply_to_message"] = {
                k: v for k, v in copy.deepcopy(reply_to.data).items() if k != "reply_to_message"
            }
        message = StoredMessage(chat.id, data["message_id"], data, from_bot)
        chat.messages[message.message_id] = message
        return message

    def _deliver(self, chat: ChatState, content: dict[str, Any], p: _Params) -> StoredMessage:
        """Stores a message the bot sends, after the last checks and flood control."""
        reply_to = self._reply_target(chat, p)
        markup = validate_reply_markup(p.get("reply_markup"))
        self.flood.consume(chat.id)
        message = self._store_message(
            chat, self.bot_user, content, from_bot=True, reply_to=reply_to
        )
        if markup is not None and "inline_keyboard" in markup:
            message.data["reply_markup"] = markup
        elif markup is not None:
            message.reply_keyboard = markup
            chat.reply_keyboard = None if markup.get("remove_keyboard") else markup
        if p.flag("protect_content"):
            message.data["has_protected_content"] = True
        self._publish(chat, message)
        return message

    def _publish(self, chat: ChatState, message: StoredMessage, *, edited: bool = False) -> None:
        chat.events.append(message.snapshot(edited=edited))
        self._activity.fire()

    def _formatted(
        self, p: _Params, key: str, *, limit: int, too_long: str, empty: str | None
    ) -> dict[str, Any]:
        """``{key: text, <entities key>: entities}`` of a text or caption parameter."""
        entities_key = "entities" if key == "text" else "caption_entities"
        text, entities = format_text(p.text(key) or "", p.text("parse_mode"), p.get(entities_key))
        if not text:
            if empty:
                raise bad_request(empty)
            return {}
        if utf16_len(text) > limit:
            raise bad_request(too_long)
        return {key: text, entities_key: entities} if entities else {key: text}

    def _caption(
        self, p: _Params, *, too_long: str = "message caption is too long"
    ) -> dict[str, Any]:
        return self._formatted(p, "caption", limit=CAPTION_LIMIT, too_long=too_long, empty=None)

    def _input_file(self, p: _Params, key: str) -> StoredFile:
        value = p.get(key)
        if isinstance(value, Upload):
            if not value.content:
                raise bad_request("file must be non-empty")
            return self.store_file(
                value.content, kind=key, file_name=value.filename, mime_type=value.content_type
            )
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
            name = PurePosixPath(urlsplit(value).path).name or None
            return self.store_file(b"", kind=key, file_name=name, source_url=value)
        if value:
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {key} in the request")

    def store_file(
        self,
        content: bytes,
        *,
        kind: str = "document",
        file_name: str | None = None,
        mime_type: str | None = None,
        source_url: str | None = None,
    ) -> StoredFile:
        """Keeps ``content`` under a fresh file_id, downloadable via getFile."""
        number = next(self._file_numbers)
        suffix = (
            PurePosixPath(file_name).suffix if file_name else (".jpg" if kind == "photo" else "")
        )
        stored = StoredFile(
            file_id=f"{_FILE_ID_PREFIX.get(kind, 'BQACAgQAAxkBAAI')}{number:06d}{secrets.token_hex(6)}",
            file_unique_id=f"AgAD{number:06d}",
            content=content,
            file_path=f"{kind}s/file_{number}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
            source_url=source_url,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _editable(self, p: _Params) -> tuple[ChatState, StoredMessage]:
        if p.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._find_chat(p.get("chat_id"))
        message_id = p.integer("message_id", missing="message identifier is not specified")
        message = chat.messages.get(message_id or 0)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def _edit(
        self, chat: ChatState, message: StoredMessage, changes: dict[str, Any], p: _Params
    ) -> dict[str, Any]:
        """Applies an edit; a missing reply_markup removes the inline keyboard."""
        markup = validate_reply_markup(p.get("reply_markup"))
        changes["reply_markup"] = markup if markup and "inline_keyboard" in markup else None
        updated = {k: v for k, v in message.data.items() if k not in changes}
        updated.update({k: v for k, v in changes.items() if v is not None})
        if all(updated.get(key) == message.data.get(key) for key in _CONTENT_KEYS):
            raise bad_request(NOT_MODIFIED)
        self.flood.consume(chat.id)
        updated["edit_date"] = int(time.time())
        message.history.append(message.data)
        message.data = updated
        self._publish(chat, message, edited=True)
        return copy.deepcopy(updated)

    def _source_message(self, p: _Params, missing: str) -> StoredMessage:
        source_chat = self._find_chat(p.get("from_chat_id"))
        message_id = p.integer("message_id", missing="message identifier is not specified")
        source = source_chat.messages.get(message_id or 0)
        if source is None or source.deleted:
            raise bad_request(missing)
        return source

    def _member_status(self, chat: ChatState, user_id: int) -> str:
        if chat.user is not None:
            return "member" if user_id in (chat.id, self.bot_id) else "left"
        if self.owners.get(chat.id) == user_id:
            return "creator"
        if user_id in self.admins.get(chat.id, ()):
            return "administrator"
        if user_id == self.bot_id:
            return "left" if chat.bot_kicked else "member"
        return "member" if user_id in self.members.get(chat.id, ()) else "left"

    def _member(self, chat: ChatState, user_id: int) -> dict[str, Any]:
        status = self._member_status(chat, user_id)
        member: dict[str, Any] = {"status": status, "user": self._user_object(user_id)}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(_ADMIN_RIGHTS)
        return member

    def _commands_key(self, p: _Params) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), p.text("language_code") or ""

    def _pending(self) -> list[dict[str, Any]]:
        self._updates = [update for update in self._updates if self._is_allowed(update)]
        return self._updates

    def _is_allowed(self, update: dict[str, Any]) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in DEFAULT_EXCLUDED_UPDATES

    def _confirm(self, offset: int | None) -> None:
        """Forgets the updates a getUpdates offset confirms."""
        if offset is not None and offset > 0:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
        elif offset is not None and offset < 0:
            self._updates = self._updates[offset:]

    # ............................................................ API: bot & updates

    def _api_get_me(self, p: _Params) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_get_updates(self, p: _Params) -> list[dict[str, Any]]:
        offset = p.integer("offset")
        limit = min(max(p.integer("limit") or 100, 1), 100)
        timeout = max(p.number("timeout", 0.0), 0.0)
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = allowed or None
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.fire()  # an older poll gives way to this one
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._pending() and not self._closing and loop.time() < deadline:
            await self._updates_signal.wait(deadline - loop.time())
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT)
        batch = self._pending()[:limit]
        if batch:
            self._delivered_up_to = max(self._delivered_up_to, batch[-1]["update_id"])
        return copy.deepcopy(batch)

    def _api_set_webhook(self, p: _Params) -> bool:
        url = p.text("url") or ""
        secret = p.text("secret_token")
        if secret is not None and not SECRET_TOKEN_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        allowed = p.get("allowed_updates")
        settings = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": allowed if isinstance(allowed, list) else None,
            "drop_pending_updates": p.get("drop_pending_updates"),  # None when not sent
            "max_connections": p.integer("max_connections"),
        }
        self.webhook_history.append(settings)
        if isinstance(allowed, list):
            self.allowed_updates = allowed or None
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        self.webhook = settings if url else None
        if self.webhook is not None and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.get_running_loop().create_task(
                self._deliver_to_webhook(), name="stub-webhook-delivery"
            )
        self._updates_signal.fire()
        return True

    def _api_delete_webhook(self, p: _Params) -> bool:
        self.webhook = None
        self._updates_signal.fire()
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_get_webhook_info(self, p: _Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook and self.webhook["allowed_updates"] is not None:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        failed = [d for d in self.webhook_deliveries if not d.accepted]
        if failed:
            info["last_error_date"] = int(failed[-1].at)
            info["last_error_message"] = failed[-1].error
        return info

    def _webhook_target(self) -> str:
        assert self.webhook is not None
        if self.webhook_endpoints:
            endpoints = self.webhook_endpoints
            return endpoints[next(self._webhook_turn) % len(endpoints)]
        return str(self.webhook["url"])

    async def _deliver_to_webhook(self) -> None:
        """POSTs the pending updates one at a time, in order, each until it is taken."""
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not self._closing and self.webhook is not None:
                pending = self._pending()
                if not pending:
                    await self._updates_signal.wait(1.0)
                    continue
                update = pending[0]
                url, secret = self._webhook_target(), self.webhook.get("secret_token")
                headers = {SECRET_HEADER: secret} if secret else {}
                status: int | None = None
                error = ""
                try:
                    async with session.post(url, json=update, headers=headers) as response:
                        status = response.status
                        error = f"Wrong response from the webhook: {status} {response.reason}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = f"Connection failed: {type(exc).__name__}"
                delivery = WebhookDelivery(update["update_id"], url, status, time.time(), error)
                self.webhook_deliveries.append(delivery)
                if delivery.accepted:
                    if update in self._updates:
                        self._updates.remove(update)
                    self._delivered_up_to = max(self._delivered_up_to, update["update_id"])
                    self._activity.fire()
                    continue
                self._activity.fire()
                await asyncio.sleep(self.webhook_retry_seconds)

    async def _stop_webhook_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _api_close(self, p: _Params) -> bool:
        return True

    def _api_log_out(self, p: _Params) -> bool:
        return True

    # ............................................................ API: commands & menu

    def _api_set_my_commands(self, p: _Params) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            _validate_command(command)
        self.commands[self._commands_key(p)] = copy.deepcopy(commands)
        return True

    def _api_get_my_commands(self, p: _Params) -> list[dict[str, Any]]:
        return copy.deepcopy(self.commands.get(self._commands_key(p), []))

    def _api_delete_my_commands(self, p: _Params) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    def _api_set_chat_menu_button(self, p: _Params) -> bool:
        button = p.get("menu_button") or {"type": "default"}
        if p.get("chat_id") not in (None, ""):
            self._find_chat(p.get("chat_id")).menu_button = button
        else:
            self.menu_button = button
        return True

    def _api_get_chat_menu_button(self, p: _Params) -> dict[str, Any]:
        if p.get("chat_id") not in (None, ""):
            button = self._find_chat(p.get("chat_id")).menu_button
        else:
            button = self.menu_button
        return button or {"type": "default"}

    # ............................................................ API: messages

    def _api_send_message(self, p: _Params) -> dict[str, Any]:
        content = self._formatted(
            p,
            "text",
            limit=TEXT_LIMIT,
            too_long="message is too long",
            empty="message text is empty",
        )
        if isinstance(p.get("link_preview_options"), dict):
            content["link_preview_options"] = p.get("link_preview_options")
        chat = self._chat_for_sending(p.get("chat_id"))
        return copy.deepcopy(self._deliver(chat, content, p).data)

    def _api_send_document(self, p: _Params) -> dict[str, Any]:
        stored = self._input_file(p, "document")
        content = {"document": stored.as_document(), **self._caption(p)}
        chat = self._chat_for_sending(p.get("chat_id"))
        return copy.deepcopy(self._deliver(chat, content, p).data)

    def _api_send_photo(self, p: _Params) -> dict[str, Any]:
        stored = self._input_file(p, "photo")
        content = {"photo": stored.as_photo(), **self._caption(p)}
        chat = self._chat_for_sending(p.get("chat_id"))
        return copy.deepcopy(self._deliver(chat, content, p).data)

    def _api_copy_message(self, p: _Params) -> dict[str, Any]:
        source = self._source_message(p, "message to copy not found")
        content = {k: copy.deepcopy(v) for k, v in source.data.items() if k in _COPYABLE_KEYS}
        if p.get("caption") is not None and _MEDIA_KEYS & content.keys():
            content = {k: v for k, v in content.items() if k not in ("caption", "caption_entities")}
            content.update(self._caption(p))
        chat = self._chat_for_sending(p.get("chat_id"))
        return {"message_id": self._deliver(chat, content, p).message_id}

    def _api_forward_message(self, p: _Params) -> dict[str, Any]:
        source = self._source_message(p, "message to forward not found")
        content = {k: copy.deepcopy(v) for k, v in source.data.items() if k in _COPYABLE_KEYS}
        content["forward_origin"] = {
            "type": "user",
            "date": source.data["date"],
            "sender_user": source.data["from"],
        }
        chat = self._chat_for_sending(p.get("chat_id"))
        return copy.deepcopy(self._deliver(chat, content, p).data)

    def _api_edit_message_text(self, p: _Params) -> dict[str, Any]:
        chat, message = self._editable(p)
        if "text" not in message.data:
            raise bad_request("there is no text in the message to edit")
        content = self._formatted(
            p, "text", limit=TEXT_LIMIT, too_long="MESSAGE_TOO_LONG", empty="message text is empty"
        )
        return self._edit(
            chat, message, {"text": content["text"], "entities": content.get("entities")}, p
        )

    def _api_edit_message_caption(self, p: _Params) -> dict[str, Any]:
        chat, message = self._editable(p)
        if not _MEDIA_KEYS & message.data.keys():
            raise bad_request("there is no caption in the message to edit")
        content = self._caption(p, too_long="MEDIA_CAPTION_TOO_LONG")
        changes = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
        }
        return self._edit(chat, message, changes, p)

    def _api_edit_message_reply_markup(self, p: _Params) -> dict[str, Any]:
        chat, message = self._editable(p)
        return self._edit(chat, message, {}, p)

    def _api_delete_message(self, p: _Params) -> bool:
        chat = self._find_chat(p.get("chat_id"))
        message_id = p.integer("message_id", missing="message identifier is not specified")
        message = chat.messages.get(message_id or 0)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        return True

    def _api_send_chat_action(self, p: _Params) -> bool:
        chat = self._chat_for_sending(p.get("chat_id"))
        action = p.text("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.actions.append(action)
        return True

    def _api_answer_callback_query(self, p: _Params) -> bool:
        query_id = p.text("callback_query_id") or ""
        if query_id not in self._open_queries:
            raise bad_request(QUERY_TOO_OLD)
        text = p.text("text") or ""
        if len(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        query = self._open_queries.pop(query_id)
        self.callback_answers[query_id] = {
            **query,
            "text": text or None,
            "show_alert": p.flag("show_alert"),
            "url": p.text("url"),
        }
        return True

    # ............................................................ API: files & chats

    def _api_get_file(self, p: _Params) -> dict[str, Any]:
        stored = self.files.get(p.text("file_id") or "")
        if stored is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if len(stored.content) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return stored.as_file()

    def _api_get_chat(self, p: _Params) -> dict[str, Any]:
        chat = self._find_chat(p.get("chat_id"))
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return {
            **chat.as_chat(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    def _api_get_chat_member(self, p: _Params) -> dict[str, Any]:
        chat = self._find_chat(p.get("chat_id"))
        user_id = p.integer("user_id", missing="invalid user_id specified")
        return self._member(chat, user_id or 0)

    def _api_get_chat_administrators(self, p: _Params) -> list[dict[str, Any]]:
        chat = self._find_chat(p.get("chat_id"))
        if chat.user is not None:
            raise bad_request("there are no administrators in the private chat")
        owner = self.owners.get(chat.id)
        ids = ([owner] if owner is not None else []) + [
            i for i in self.admins.get(chat.id, []) if i != owner
        ]
        return [self._member(chat, user_id) for user_id in ids]

    # ............................................................ API: payments

    def _api_send_invoice(self, p: _Params) -> dict[str, Any]:
        for key in ("title", "description", "payload", "currency"):
            if not p.text(key):
                raise bad_request(f'parameter "{key}" is required')
        prices = p.get("prices")
        if not isinstance(prices, list) or not prices:
            raise bad_request("can't parse prices JSON object")
        chat = self._chat_for_sending(p.get("chat_id"))
        invoice = {
            "title": p.text("title"),
            "description": p.text("description"),
            "start_parameter": p.text("start_parameter") or "",
            "currency": p.text("currency"),
            "total_amount": sum(int(price.get("amount", 0)) for price in prices),
        }
        message = self._deliver(chat, {"invoice": invoice}, p)
        message.extra["invoice_payload"] = p.text("payload")
        return copy.deepcopy(message.data)

    def _api_answer_pre_checkout_query(self, p: _Params) -> bool:
        query_id = p.text("pre_checkout_query_id") or ""
        query = self._open_checkouts.pop(query_id, None)
        if query is None:
            raise bad_request(QUERY_TOO_OLD)
        self.pre_checkout_answers[query_id] = {
            **query,
            "ok": p.flag("ok"),
            "error_message": p.text("error_message"),
        }
        return True

    # ............................................................ driver: people and chats

    def user(
        self,
        user_id: int,
        first_name: str = "Jean",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "fr",
        phone_number: str | None = None,
        started: bool = True,
    ) -> FakeUser:
        """A Telegram user with a private chat with the bot (the same one if called twice).

        ``started=False`` models someone who never wrote to the bot: sending
        to them answers 403 until they write.
        """
        if user_id in self.users:
            return self.users[user_id]
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = FakeUser(
            self,
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            phone_number=phone_number,
            started=started,
        )
        self.users[user_id] = user
        self.chats[user_id] = ChatState(user_id, "private", user=user)
        return user

    def same_user(self, user: FakeUser, *, started: bool = True) -> FakeUser:
        """The person ``user`` of another bot, as this bot sees them: the same Telegram user
        id, names, language and phone, in their own private chat with this bot (a parent
        of two communes talking to both communes' bots).

        ``started=False``: they never wrote to this bot yet.
        """
        if user.id in self.users:
            return self.users[user.id]
        return self.user(
            user.id,
            user.first_name,
            last_name=user.last_name,
            username=user.username,
            language_code=user.language_code,
            phone_number=user.phone_number,
            started=started,
        )

    def group(
        self,
        chat_id: int,
        title: str = "Parents de l'école",
        *,
        supergroup: bool | None = None,
        members: tuple[int, ...] | list[int] = (),
    ) -> FakeGroup:
        """A group chat the bot is in (a supergroup for -100… ids unless told)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id not in self.chats:
            is_super = chat_id <= -1_000_000_000_000 if supergroup is None else supergroup
            self.chats[chat_id] = ChatState(
                chat_id, "supergroup" if is_super else "group", title=title
            )
        self.members.setdefault(chat_id, []).extend(
            m for m in members if m not in self.members[chat_id]
        )
        return FakeGroup(self, chat_id)

    def chat(self, chat_id: int) -> ChatState:
        """The full state of a chat (messages, keyboard, actions...)."""
        try:
            return self.chats[chat_id]
        except KeyError:
            raise KeyError(
                f"chat {chat_id} is unknown: create it with stub.user() or stub.group()"
            ) from None

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sending to them answers 403."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """The user unblocks the bot (writing to it does that too)."""
        self.blocked.discard(user_id)

    def set_rate_limits(
        self,
        *,
        global_per_second: int | None = 30,
        group_per_minute: int | None = 20,
        private_per_second: int | None = None,
    ) -> None:
        """Replaces the flood limits (None disables one) and forgets past counts."""
        self.flood.limits = RateLimits(global_per_second, group_per_minute, private_per_second)
        self.flood.reset()

    def flood_wait(self, seconds: float) -> None:
        """This bot (only) is in flood wait: every message it sends or edits answers 429
        (``retry_after``: what remains) for ``seconds``, or until `end_flood_wait`."""
        self.flood.wait(seconds)

    def end_flood_wait(self) -> None:
        """Ends this bot's flood wait: its messages are accepted again (within the limits)."""
        self.flood.end_wait()

    @property
    def flood_rejections(self) -> int:
        """How many 429 the stub answered so far."""
        return self.flood.rejections

    def fail_next(
        self,
        method: str,
        error_code: int = 500,
        description: str = "Internal Server Error",
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Makes the next ``times`` calls of ``method`` fail with this answer."""
        error = ApiError(error_code, description, retry_after=retry_after)
        self._failures.setdefault(self._canonical(method), []).extend([error] * times)

    def hold(self, method: str, *, chat_id: int | None = None, after: int = 0) -> None:
        """Calls of ``method`` (to ``chat_id``) hang unanswered, after the first ``after`` pass.

        A process killed while its call hangs never learns the outcome; held calls are not
        carried out: `release` answers them with an error.
        """
        self._holds.append(_Hold(self._canonical(method), chat_id, after))

    def release(self) -> None:
        """Stops holding; the calls held so far fail (the message never arrived)."""
        self._holds.clear()
        self._released.set()

    @property
    def held(self) -> int:
        """How many calls hang now."""
        return self._held_now

    async def wait_held(self, count: int = 1, timeout: float = 30.0) -> None:
        """Waits until at least ``count`` calls hang."""
        if (
            await self._wait_until(lambda: True if self._held_now >= count else None, timeout)
            is None
        ):
            raise AssertionError(
                f"{self._held_now} call(s) held, {count} expected within {timeout}s"
            )

    async def _maybe_hold(self, method: str, params: _Params) -> None:
        for hold in self._holds:
            if hold.method != method or (
                hold.chat_id is not None and params.integer("chat_id") != hold.chat_id
            ):
                continue
            if hold.passed < hold.after:
                hold.passed += 1
                return
            self._held_now += 1
            self._activity.fire()
            try:
                await self._released.wait()
            finally:
                self._held_now -= 1
            raise ApiError(500, "Internal Server Error: the call was held and never carried out")

    def set_handler(self, method: str, handler: ApiHandler) -> None:
        """Serves ``method`` (new or existing) with ``handler(params) -> result``.

        The handler may be async and may raise `ApiError`.
        """
        canonical = self._methods.get(method.lower(), method)
        self._methods[method.lower()] = canonical
        self._overrides[canonical] = handler

    def _canonical(self, method: str) -> str:
        return self._methods.get(method.lower(), method)

    def enqueue_update(self, payload: dict[str, Any]) -> int:
        """Queues a raw update (``{"message": {...}}``...); returns its update_id."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **copy.deepcopy(payload)})
        self._updates_signal.fire()
        return update_id

    def redeliver(self, update: dict[str, Any]) -> None:
        """Queues ``update`` again under its own update_id, as Telegram does when the bot
        stopped before confirming it (the next getUpdates without an offset returns it)."""
        self._updates.append(copy.deepcopy(update))
        self._updates_signal.fire()

    def file_content(self, file_id: str) -> bytes:
        """The bytes stored under ``file_id``."""
        return self.files[file_id].content

    def my_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The commands set for this scope and language."""
        key = json.dumps(scope or {"type": "default"}, sort_keys=True), language_code
        return copy.deepcopy(self.commands.get(key, []))

    # ............................................................ driver: reading

    def messages(
        self, chat_id: int, *, include_user: bool = False, include_deleted: bool = False
    ) -> list[ChatMessage]:
        """Current state of the chat's messages, by default the bot's undeleted ones."""
        return [
            message.snapshot()
            for message in self.chat(chat_id).messages.values()
            if (include_user or message.from_bot) and (include_deleted or not message.deleted)
        ]

    def last_message(self, chat_id: int) -> ChatMessage | None:
        """Current state of the bot's latest undeleted message in the chat."""
        messages = self.messages(chat_id)
        return messages[-1] if messages else None

    async def next_message(self, chat_id: int, timeout: float = 5.0) -> ChatMessage:
        """The next message the bot sent or edited in the chat, as it was then."""
        chat = self.chat(chat_id)
        found = await self._wait_until(lambda: self._take_event(chat), timeout)
        if found is None:
            raise AssertionError(self._nothing_came(chat, timeout))
        return found

    async def expect_silence(self, chat_id: int, window: float = 0.3) -> None:
        """Fails as soon as the bot sends or edits something in the chat within ``window``.

        A message already there but not consumed by `next_message` counts too.
        """
        chat = self.chat(chat_id)
        found = await self._wait_until(lambda: self._take_event(chat), window)
        if found is not None:
            raise AssertionError(
                f"Expected silence in chat {chat_id}, the bot sent {found.describe()}"
            )

    def calls(self, method: str | None = None, chat_id: int | None = None) -> list[RecordedCall]:
        """Accepted calls, optionally of one method (any case) and/or chat."""
        return [call for call in self._calls if _matches(call, method, chat_id)]

    async def next_call(
        self, method: str | None = None, chat_id: int | None = None, timeout: float = 5.0
    ) -> RecordedCall:
        """The first accepted call not returned before that matches (getUpdates only if asked)."""

        def probe() -> RecordedCall | None:
            for call in self._calls:
                if not call.consumed and _matches(call, method, chat_id):
                    if method is None and call.method == "getUpdates":
                        continue
                    call.consumed = True
                    return call
            return None

        found = await self._wait_until(probe, timeout)
        if found is None:
            raise AssertionError(
                f"No {method or 'call'} (chat {chat_id}) within {timeout}s.{self._refusals()}"
            )
        return found

    @property
    def rejections(self) -> list[RejectedCall]:
        """Calls the stub refused, oldest first."""
        return list(self._rejections)

    async def wait_callback_answer(self, query_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The bot's answerCallbackQuery for a tap, once it comes."""
        answer = await self._wait_until(lambda: self.callback_answers.get(query_id), timeout)
        if answer is None:
            raise AssertionError(
                f"Callback query {query_id} not answered within {timeout}s.{self._refusals()}"
            )
        return answer

    async def wait_for_delivery(self, timeout: float = 5.0) -> None:
        """Waits until the bot has fetched every queued update."""

        def delivered() -> bool | None:
            return (
                True
                if not self._updates or self._updates[-1]["update_id"] <= self._delivered_up_to
                else None
            )

        if await self._wait_until(delivered, timeout) is None:
            raise AssertionError(
                f"The bot did not fetch {len(self._updates)} pending update(s) within {timeout}s"
            )

    async def _wait_until(self, probe: Callable[[], T | None], timeout: float) -> T | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (found := probe()) is None:
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                return None
            await self._activity.wait(remaining)
        return found

    def _take_event(self, chat: ChatState) -> ChatMessage | None:
        if chat.cursor < len(chat.events):
            chat.cursor += 1
            return chat.events[chat.cursor - 1]
        return None

    def _nothing_came(self, chat: ChatState, timeout: float) -> str:
        lines = [f"The bot sent or edited nothing in chat {chat.id} within {timeout}s."]
        if chat.events:
            lines.append("Already consumed: " + "; ".join(e.describe() for e in chat.events[-3:]))
        return "\n".join(lines) + self._refusals()

    def _refusals(self) -> str:
        if not self._rejections:
            return ""
        recent = self._rejections[-5:]
        return "\nCalls the stub refused: " + "; ".join(
            f"{r.method}(chat {r.params.get('chat_id')}) -> {r.description}" for r in recent
        )

    # ............................................................ driver: acting

    def _user_message(
        self,
        user: FakeUser,
        chat: ChatState,
        content: dict[str, Any],
        reply_to: StoredMessage | None = None,
    ) -> ChatMessage:
        if chat.user is not None and chat.id != user.id:
            raise AssertionError(
                f"{user.first_name} cannot write in the private chat of user {chat.id}"
            )
        if chat.user is not None:
            user.started = True
            self.blocked.discard(user.id)
        elif user.id not in self.members.setdefault(chat.id, []):
            self.members[chat.id].append(user.id)
        message = self._store_message(
            chat, user.as_user(), content, from_bot=False, reply_to=reply_to
        )
        self.enqueue_update({"message": message.data})
        return message.snapshot()

    def _live_message(self, message: ChatMessage) -> StoredMessage:
        stored = self.chat(message.chat_id).messages.get(message.message_id)
        if stored is None or stored.deleted:
            raise AssertionError(
                f"Message {message.message_id} no longer exists in chat {message.chat_id}"
            )
        return stored

    def _tap(self, user: FakeUser, message: ChatMessage, label: str) -> str:
        stored = self._live_message(message)
        button = stored.snapshot().button(label)
        if "callback_data" not in button:
            raise AssertionError(f"Button {label!r} sends no callback query: {button}")
        return self._callback_query(user, stored, button["callback_data"])

    def callback_query(self, user: FakeUser, message: ChatMessage, data: str) -> str:
        """Queues a callback query with any `data` from `message`, as a tampered client (or a
        second tap on a button already replaced) sends; returns the query id."""
        return self._callback_query(user, self._live_message(message), data)

    def _callback_query(self, user: FakeUser, stored: StoredMessage, data: str) -> str:
        query_id = f"{next(self._query_numbers)}{secrets.token_hex(6)}"
        self._open_queries[query_id] = {
            "user_id": user.id,
            "chat_id": stored.chat_id,
            "message_id": stored.message_id,
            "data": data,
        }
        query = {
            "id": query_id,
            "from": user.as_user(),
            "message": stored.data,
            "chat_instance": str(abs(stored.chat_id) * 31 + self.bot_id),
            "data": data,
        }
        self.enqueue_update({"callback_query": query})
        return query_id

    async def _pay(self, user: FakeUser, invoice: ChatMessage, timeout: float) -> bool:
        stored = self._live_message(invoice)
        if "invoice" not in stored.data:
            raise AssertionError(f"{invoice.describe()} is not an invoice")
        details = {
            "currency": stored.data["invoice"]["currency"],
            "total_amount": stored.data["invoice"]["total_amount"],
            "invoice_payload": stored.extra.get("invoice_payload") or "",
        }
        query_id = f"{next(self._query_numbers)}{secrets.token_hex(6)}"
        self._open_checkouts[query_id] = {"user_id": user.id, **details}
        self.enqueue_update(
            {"pre_checkout_query": {"id": query_id, "from": user.as_user(), **details}}
        )
        answer = await self._wait_until(lambda: self.pre_checkout_answers.get(query_id), timeout)
        if answer is None:
            raise AssertionError(
                f"Pre-checkout query not answered within {timeout}s.{self._refusals()}"
            )
        if not answer["ok"]:
            return False
        payment = {
            **details,
            "telegram_payment_charge_id": f"tg-{query_id}",
            "provider_payment_charge_id": f"provider-{query_id}",
        }
        self._user_message(user, self.chat(stored.chat_id), {"successful_payment": payment})
        return True


def _matches(call: RecordedCall, method: str | None, chat_id: int | None) -> bool:
    if method is not None and call.method.lower() != method.lower():
        return False
    return chat_id is None or call.chat_id == chat_id


def _validate_command(command: Any) -> None:
    if not isinstance(command, dict):
        raise bad_request("can't parse BotCommand: BotCommand must be an Object")
    name, description = command.get("command"), command.get("description")
    if not isinstance(name, str) or not COMMAND_RE.match(name):
        raise bad_request("BOT_COMMAND_INVALID")
    if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")


# --------------------------------------------------------------------------- people


class _ChatView:
    """What a person sees of one chat: the bot's messages, keyboard, actions."""

    def __init__(self, stub: BotApiStub, chat_id: int) -> None:
        self._stub = stub
        self.chat_id = chat_id

    @property
    def state(self) -> ChatState:
        """The stub's full state of this chat."""
        return self._stub.chat(self.chat_id)

    async def next_message(self, timeout: float = 5.0) -> ChatMessage:
        """The next message the bot sent or edited here, as it was then."""
        return await self._stub.next_message(self.chat_id, timeout)

    def last_message(self) -> ChatMessage | None:
        """Current state of the bot's latest undeleted message here."""
        return self._stub.last_message(self.chat_id)

    def messages(
        self, *, include_user: bool = False, include_deleted: bool = False
    ) -> list[ChatMessage]:
        """Current state of this chat's messages (the bot's by default)."""
        return self._stub.messages(
            self.chat_id, include_user=include_user, include_deleted=include_deleted
        )

    async def expect_silence(self, window: float = 0.3) -> None:
        """Fails if the bot sends or edits anything here within ``window`` seconds."""
        await self._stub.expect_silence(self.chat_id, window)

    @property
    def keyboard(self) -> list[str] | None:
        """Labels of the reply keyboard shown now, or None."""
        markup = self.state.reply_keyboard
        if not markup or "keyboard" not in markup:
            return None
        return [_button_label(button) for row in markup["keyboard"] for button in row]

    @property
    def actions(self) -> list[str]:
        """Chat actions ("typing"...) the bot sent here."""
        return list(self.state.actions)


class FakeUser(_ChatView):
    """A Telegram user talking to the bot, in private or in a group."""

    def __init__(
        self,
        stub: BotApiStub,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "fr",
        phone_number: str | None = None,
        started: bool = True,
    ) -> None:
        super().__init__(stub, user_id)
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.phone_number = phone_number
        self.started = started

    def as_user(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                user[key] = getattr(self, key)
        return user

    def _chat(self, chat: FakeGroup | int | None) -> ChatState:
        if chat is None:
            return self.state
        return self._stub.chat(chat.chat_id if isinstance(chat, FakeGroup) else chat)

    async def _post(
        self,
        content: dict[str, Any],
        chat: FakeGroup | int | None,
        reply_to: StoredMessage | None = None,
    ) -> ChatMessage:
        message = self._stub._user_message(self, self._chat(chat), content, reply_to)
        await asyncio.sleep(0)
        return message

    async def send(
        self,
        text: str,
        *,
        chat: FakeGroup | int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> ChatMessage:
        """Writes ``text`` (a leading /command gets its bot_command entity)."""
        if entities is None:
            match = LEADING_COMMAND_RE.match(text)
            entities = [_entity("bot_command", 0, utf16_len(match.group()))] if match else []
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return await self._post(content, chat)

    async def send_command(
        self, command: str, *args: str, chat: FakeGroup | int | None = None
    ) -> ChatMessage:
        """Sends ``/command arg1 arg2`` with its bot_command entity."""
        command = command if command.startswith("/") else f"/{command}"
        entities = [_entity("bot_command", 0, utf16_len(command))]
        return await self.send(" ".join((command, *args)), chat=chat, entities=entities)

    async def share_contact(
        self,
        phone_number: str | None = None,
        user_id: int | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        chat: FakeGroup | int | None = None,
    ) -> ChatMessage:
        """Shares a contact card, by default one's own.

        ``phone_number`` defaults to the user's; ``user_id`` defaults to the
        user's own id; ``user_id=0`` shares a card without Telegram account.
        """
        phone = phone_number or self.phone_number
        if not phone:
            raise ValueError(f"{self.first_name} has no phone number: pass one")
        contact: dict[str, Any] = {
            "phone_number": phone,
            "first_name": first_name or self.first_name,
        }
        if last_name or (first_name is None and self.last_name):
            contact["last_name"] = last_name or self.last_name
        if user_id != 0:
            contact["user_id"] = self.id if user_id is None else user_id
        return await self._post({"contact": contact}, chat)

    async def send_photo(
        self,
        content: bytes = TINY_PNG,
        *,
        caption: str | None = None,
        chat: FakeGroup | int | None = None,
    ) -> ChatMessage:
        """Sends a picture; the bot can getFile and download ``content``."""
        stored = self._stub.store_file(content, kind="photo", mime_type="image/jpeg")
        message: dict[str, Any] = {"photo": stored.as_photo()}
        if caption:
            message["caption"] = caption
        return await self._post(message, chat)

    async def send_document(
        self,
        content: bytes,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        *,
        caption: str | None = None,
        chat: FakeGroup | int | None = None,
    ) -> ChatMessage:
        """Sends a file; the bot can getFile and download ``content``."""
        stored = self._stub.store_file(
            content, kind="document", file_name=file_name, mime_type=mime_type
        )
        message: dict[str, Any] = {"document": stored.as_document()}
        if caption:
            message["caption"] = caption
        return await self._post(message, chat)

    async def send_sticker(
        self, emoji: str = "👍", *, chat: FakeGroup | int | None = None
    ) -> ChatMessage:
        """Sends a sticker, something the bot usually does not expect."""
        stored = self._stub.store_file(b"RIFF-sticker", kind="sticker", mime_type="image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return await self._post({"sticker": sticker}, chat)

    async def reply_to(self, message: ChatMessage, text: str) -> ChatMessage:
        """Replies to ``message`` in its chat (a group or the private chat)."""
        target = self._stub._live_message(message)
        return await self._post({"text": text}, message.chat_id, reply_to=target)

    async def tap(self, message: ChatMessage, label: str) -> str:
        """Taps the inline button whose text (or else data) is ``label``.

        The button is looked up in the message's current state. Returns the
        callback query id (see `BotApiStub.wait_callback_answer`).
        """
        query_id = self._stub._tap(self, message, label)
        await asyncio.sleep(0)
        return query_id

    async def tap_data(self, message: ChatMessage, data: str) -> str:
        """Sends a callback query with arbitrary data from ``message``, as a modified client can
        (to test that the bot never trusts a button's data). Returns the query id."""
        query_id = self._stub.callback_query(self, message, data)
        await asyncio.sleep(0)
        return query_id

    async def press(self, label: str) -> ChatMessage:
        """Presses a button of the reply keyboard shown in the private chat."""
        markup = self.state.reply_keyboard or {}
        buttons = [button for row in markup.get("keyboard", []) for button in row]
        button = next((b for b in buttons if _button_label(b) == label), None)
        if button is None:
            raise AssertionError(
                f"No keyboard button {label!r} shown to {self.first_name}; shown: {self.keyboard}"
            )
        if markup.get("one_time_keyboard"):
            self.state.reply_keyboard = None
        if isinstance(button, dict) and button.get("request_contact"):
            return await self.share_contact()
        return await self.send(label)

    async def pay(self, invoice: ChatMessage, *, timeout: float = 5.0) -> bool:
        """Pays an invoice: pre-checkout query, then successful_payment if the bot said ok."""
        return await self._stub._pay(self, invoice, timeout)


class FakeGroup(_ChatView):
    """A group chat with the bot; users write in it with ``chat=group``."""

    @property
    def id(self) -> int:
        """The (negative) chat id."""
        return self.chat_id

    @property
    def title(self) -> str:
        """The group's title."""
        return self.state.title or ""

    def kick_bot(self) -> None:
        """The bot is removed: sending here answers 403."""
        self.state.bot_kicked = True
