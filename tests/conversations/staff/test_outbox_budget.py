"""The admin group's budget: a sliding minute, as Telegram counts."""

from __future__ import annotations

import pytest

from conversations.staff.outbox import SlidingBudget


@pytest.mark.parametrize("limit", [1, 3])
def test_the_admin_group_budget_is_a_sliding_minute(limit: int) -> None:
    now = [0.0]
    budget = SlidingBudget(limit, 60.0, clock=lambda: now[0])
    budget.spend(limit)
    assert budget.free() == 0 and budget.wait_time() == 60.0
    now[0] = 59.0
    assert budget.free() == 0 and budget.wait_time() == pytest.approx(1.0)
    now[0] = 60.0
    assert budget.free() == limit and budget.wait_time() == 0.0
