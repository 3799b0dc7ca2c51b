"""One process serving the bots of several structures, each its own Application.

Each structure of the registry (bot/tenancy.py) gets an Application built by
`bot.app.build_application` over its runtime: its token, its handlers' runtime (admin group,
staff, time zone, configuration), its dialogue state, its outbox sender with the rate limits of
its token, its job queue. They share the process's database engine, its scheduler lease and
its sender lock. A 429 of one token pauses that bot's sender only.

`serve_polling` runs them with long polling until SIGTERM/SIGINT (or `stop`): every bot is
initialised and started, then polled; on stop, polling ends for all, the updates taken are
handled, and each Application stops and shuts down. Webhook mode is `bot.webhook.serve_webhook`
with every bot on its own path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass

from bot.health import mark_started
from bot.logging_setup import acting_for
from bot.ptb_types import BotApplication
from bot.runtime import Runtime

logger = logging.getLogger("portail_famille.deployment")


@dataclass(frozen=True)
class Bot:
    """One structure's Application and its runtime."""

    application: BotApplication
    runtime: Runtime


async def start_bot(bot: Bot) -> None:
    """Initialise and start one structure's Application (its `post_init`: commands, sender).

    The tasks it starts (updates, sender, jobs) log as that structure's (`acting_for`)."""
    application = bot.application
    with acting_for(bot.runtime.slug):
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
    mark_started(bot.runtime)


async def stop_bot(bot: Bot) -> None:
    """Handle the updates taken, then stop and shut down one structure's Application."""
    application = bot.application
    if application.running:
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


def stop_on_signals(stop: asyncio.Event | None = None) -> asyncio.Event:
    """An event set on SIGTERM or SIGINT (`stop`, or a new one): how the process is told to stop."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def serve_polling(
    bots: Sequence[Bot], *, allowed_updates: Sequence[str], stop: asyncio.Event | None = None
) -> None:
    """Long polling for every bot until SIGTERM or SIGINT (or `stop`), then stopped in order."""
    stop = stop_on_signals(stop)
    started: list[Bot] = []
    try:
        for bot in bots:
            await start_bot(bot)
            started.append(bot)
            updater = bot.application.updater
            assert updater is not None, "build_application gives every bot an updater"
            with acting_for(bot.runtime.slug):
                await updater.start_polling(allowed_updates=list(allowed_updates))
        logger.info("polling for %s structures", len(started))
        await stop.wait()
        logger.info("stopping")
    finally:
        for bot in started:
            updater = bot.application.updater
            if updater is not None and updater.running:
                await updater.stop()
        for bot in started:
            await stop_bot(bot)
