"""The Prometheus metrics of the bot, served at `GET /metrics` (bot/webhook.py).

This module owns every metric object; the code that counts imports them from here and never
creates its own. It imports nothing of ours, so that any module may count without an import
cycle. The metrics live in prometheus-client's default registry (one process, one set of
figures; several workers are scraped one by one and summed by Prometheus).

No label ever holds personal data: update kinds, Telegram method families, exception type
names, outbox statuses.

- `portail_famille_updates_total{kind}` and `portail_famille_update_seconds{kind}`: updates
  handled, by kind (`message`, `callback_query`, ...), and how long each took, counted by the
  update processor (bot/update_processor.py) once the handlers finished;
- `portail_famille_updates_in_flight`: updates received and not finished yet;
- `portail_famille_messages_sent_total{source}`: messages Telegram accepted (send, edit, copy,
  forward), `answer` for those answering someone, `outbox` for those the bot started on its
  own, counted by the one rate limiter (bot/ratelimit.py) every request goes through;
- `portail_famille_telegram_429_total`: Telegram's "Too Many Requests" answers;
- `portail_famille_outbox_finished_total{status}`: outbox rows the sender finished, by status;
- `portail_famille_outbox_backlog` and `portail_famille_outbox_oldest_age_seconds`: rows
  waiting in the outbox and how long the oldest due one waits, read from the database when
  `/metrics` is scraped;
- `portail_famille_reminders_due_total`, `portail_famille_reminders_queued_total` and
  `portail_famille_reminders_sent_total`: reminders found due at a tick, queued into the outbox
  (each once), and delivered;
- `portail_famille_errors_total{source,type}`: exceptions by type name, `update` for those of a
  handler (bot/errors.py), `outbox` for those of the sender;
- `portail_famille_scheduler_last_tick_timestamp_seconds`: when the job queue last ticked.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

PREFIX = "portail_famille"

UPDATES = Counter(f"{PREFIX}_updates", "Updates handled, by kind.", ["kind"])
UPDATE_SECONDS = Histogram(
    f"{PREFIX}_update_seconds",
    "Time to handle one update, by kind (waiting for the chat's earlier updates included).",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
UPDATES_IN_FLIGHT = Gauge(
    f"{PREFIX}_updates_in_flight",
    "Updates received and not finished (those waiting for their chat's turn included).",
)
MESSAGES_SENT = Counter(
    f"{PREFIX}_messages_sent",
    "Messages Telegram accepted (send, edit, copy, forward), by source (answer or outbox).",
    ["source"],
)
TOO_MANY_REQUESTS = Counter(
    f"{PREFIX}_telegram_429", "Telegram's 429 Too Many Requests answers (each one waited out)."
)
OUTBOX_FINISHED = Counter(
    f"{PREFIX}_outbox_finished", "Outbox rows the sender finished, by status.", ["status"]
)
OUTBOX_BACKLOG = Gauge(f"{PREFIX}_outbox_backlog", "Outbox rows not sent yet (due or not).")
OUTBOX_OLDEST_AGE = Gauge(
    f"{PREFIX}_outbox_oldest_age_seconds",
    "How long the oldest due outbox row has waited (0: none).",
)
REMINDERS_DUE = Counter(f"{PREFIX}_reminders_due", "Reminders found due at a scheduler tick.")
REMINDERS_QUEUED = Counter(
    f"{PREFIX}_reminders_queued", "Reminders written into the outbox (each reminder once)."
)
REMINDERS_SENT = Counter(f"{PREFIX}_reminders_sent", "Reminders Telegram accepted.")
ERRORS = Counter(
    f"{PREFIX}_errors",
    "Exceptions, by source (update or outbox) and type name.",
    ["source", "type"],
)
SCHEDULER_LAST_TICK = Gauge(
    f"{PREFIX}_scheduler_last_tick_timestamp_seconds",
    "Unix time of the job queue's last tick in this process (0: none yet).",
)

UPDATE_KINDS = (
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "chat_member",
    "pre_checkout_query",
    "shipping_query",
    "chat_join_request",
    "inline_query",
    "chosen_inline_result",
    "channel_post",
    "edited_channel_post",
    "poll",
    "poll_answer",
    "message_reaction",
    "message_reaction_count",
    "chat_boost",
    "removed_chat_boost",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "purchased_paid_media",
)


def update_kind(update: object) -> str:
    """The kind of a Telegram update (its one filled field), `other` when none is known."""
    for kind in UPDATE_KINDS:
        if getattr(update, kind, None) is not None:
            return kind
    return "other"


def render_latest() -> tuple[bytes, str]:
    """The text exposition of every metric, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
