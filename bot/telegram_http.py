"""The HTTP connection to the Bot API, on aiohttp rather than python-telegram-bot's httpx default.

Every tap costs the bot two or three Bot API calls (answer the query, edit the screen, and its
share of `getUpdates`); with httpx each call spends about 2 ms of CPU in the client alone, with
aiohttp about a quarter of that (`bench/journey_steps.py` shows the difference). The request
class keeps python-telegram-bot's contract: the same default timeouts as `HTTPXRequest`,
`TimedOut` for a timeout and `NetworkError` for any other failure to talk to the server, and
files sent as multipart/form-data. aiohttp has no write timeout: the whole call is bounded by the
sum of the connect, write and read timeouts instead.

The bot never reads an inline keyboard back, yet python-telegram-bot builds one object per button
of every message it receives: the screen a tapped button belongs to (in the update) and the
screen the bot just sent or edited (in the answer). A month view has about sixty buttons, and
decoding them costs more than the rest of the update; `without_keyboards` drops them first.
The other way, python-telegram-bot serialises a keyboard by reflection over every attribute of
every button; `plain_keyboard` gives the same JSON for the buttons the bot uses (text with
callback data or a URL) in a tenth of the time.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0


class AiohttpRequest(BaseRequest):
    """python-telegram-bot's `BaseRequest` over one aiohttp session and its connection pool."""

    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        read_timeout: float | None = READ_TIMEOUT,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        write_timeout: float | None = WRITE_TIMEOUT,
        media_write_timeout: float | None = MEDIA_WRITE_TIMEOUT,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, in seconds."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (its connection pool) on the running loop."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        """The decoded answer, without the inline keyboards nobody reads (see the module)."""
        decoded = BaseRequest.parse_json_payload(payload)
        without_keyboards(decoded.get("result"))
        return decoded

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One call: the HTTP status and the body, or `TimedOut` / `NetworkError`."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        body = _body(request_data, files)
        connect = _given(connect_timeout, self._connect_timeout)
        read = _given(read_timeout, self._read_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        timeout = aiohttp.ClientTimeout(
            total=_sum(connect, write, read), connect=connect, sock_read=read
        )
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """The timeout a call asked for, or this connection's default."""
    if isinstance(value, DefaultValue):
        return default
    return value


def _sum(*timeouts: float | None) -> float | None:
    """A bound on the whole call (aiohttp has no write timeout of its own), or none."""
    if any(timeout is None for timeout in timeouts):
        return None
    return sum(t for t in timeouts if t is not None)


def _body(request_data: RequestData | None, files: dict[str, Any] | None) -> Any:
    """The parameters as a JSON body, or a multipart form when the call uploads files."""
    if request_data is None:
        return None
    if not files:
        return aiohttp.JsonPayload(request_data.parameters)  # urlencoding a keyboard costs ms
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def without_keyboards(result: Any) -> Any:
    """A Bot API result or update (or a list of them) without the messages' inline keyboards."""
    if isinstance(result, list):
        for item in result:
            without_keyboards(item)
    elif isinstance(result, dict):
        result.pop("reply_markup", None)
        for key in ("message", "callback_query", "edited_message", "reply_to_message"):
            nested = result.get(key)
            if isinstance(nested, dict):
                without_keyboards(nested)
    return result


_PLAIN_BUTTON_UNUSED = (
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
    "style",
    "icon_custom_emoji_id",
)


class PlainKeyboard(InlineKeyboardMarkup):
    """An inline keyboard that serialises its plain buttons directly (see the module)."""

    __slots__ = ()

    def to_dict(self, recursive: bool = True) -> JSONDict:
        """The Bot API's `InlineKeyboardMarkup` object, as python-telegram-bot would write it."""
        if self.api_kwargs:
            return super().to_dict(recursive)
        return {"inline_keyboard": [[_button(b) for b in row] for row in self.inline_keyboard]}


def _button(button: InlineKeyboardButton) -> JSONDict:
    if button.api_kwargs or any(getattr(button, name) is not None for name in _PLAIN_BUTTON_UNUSED):
        return button.to_dict()
    plain: JSONDict = {"text": button.text}
    if button.callback_data is not None:
        plain["callback_data"] = button.callback_data
    if button.url is not None:
        plain["url"] = button.url
    return plain


def plain_keyboard(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """The same keyboard, serialised directly when it is sent (see the module)."""
    if markup is None or isinstance(markup, PlainKeyboard):
        return markup
    return PlainKeyboard(markup.inline_keyboard)
