"""Test support code: the local Bot API stand-in and its driver."""

from tests.support.botapi import (
    ApiError,
    BotApiStub,
    ChatMessage,
    FakeGroup,
    FakeUser,
    RateLimits,
    RecordedCall,
    RejectedCall,
)

__all__ = [
    "ApiError",
    "BotApiStub",
    "ChatMessage",
    "FakeGroup",
    "FakeUser",
    "RateLimits",
    "RecordedCall",
    "RejectedCall",
]
