"""Reading the results of statements, typed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Result


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE, DELETE or INSERT statement changed.

    Executing such a statement gives a `CursorResult`, but the session's typing says `Result`.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of a data-changing statement: {type(result).__name__}")
    return result.rowcount or 0
