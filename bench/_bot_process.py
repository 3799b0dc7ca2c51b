"""A bot process for the benchmarks: Portail Famille as `portail-famille run` builds it, or a bare
python-telegram-bot handler answering every update with one call, both polling the stand-in.

    python bench/_bot_process.py portail|bare|structures STATS_FILE

`structures`: every structure of the registry, each its bot, in this one process, as
`portail-famille run` serves several structures (bot/deployment.py); its counters are also
written to STATS_FILE every half second while it runs, so the benchmark reads what a window of
time cost (bench/structures.py).

Settings come from the environment (TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL, DATABASE_URL…).
On SIGTERM it stops like the real bot and writes {"updates": …, "statements": …} to STATS_FILE:
the updates it handled and the SQL statements it ran (SQLAlchemy's cursor events).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Counters:
    """What the process did."""

    def __init__(self) -> None:
        self.updates = 0
        self.statements = 0
        self.kinds: dict[str, int] = {}
        trace = os.environ.get("PF_SQL_TRACE")
        self.trace = open(trace, "a") if trace else None  # noqa: SIM115 - open for the process's life
        """Every statement, one a line, when PF_SQL_TRACE names a file (bench/journey_steps.py)."""


async def _count_update(update: object, context: Any, counters: Counters) -> None:
    counters.updates += 1


def build_portail(counters: Counters) -> Any:
    """The real application, with a statement counter on its engine."""
    from sqlalchemy import event
    from telegram.ext import TypeHandler

    from bot.app import build_application
    from bot.runtime import Runtime
    from bot.settings import load_settings
    from bot.structure import load_structure
    from storage.db import Database

    settings = load_settings()
    runtime = Runtime(
        settings=settings,
        database=Database(settings.database_url),
        structure=load_structure(settings.structure_file),
    )
    event.listen(
        runtime.database.engine.sync_engine,
        "before_cursor_execute",
        lambda *args: _add_statement(counters, args[2]),
    )
    application = build_application(runtime)
    application.add_handler(
        TypeHandler(object, lambda u, c: _count_update(u, c, counters)), group=-1000
    )
    return application


def _add_statement(counters: Counters, statement: str) -> None:
    counters.statements += 1
    if counters.trace is not None:
        counters.trace.write(statement.replace("\n", " ")[:160] + "\n")
        counters.trace.flush()
    words = statement.split()
    table = next(
        (
            w
            for i, w in enumerate(words)
            if i and words[i - 1].upper() in ("FROM", "INTO", "UPDATE")
        ),
        "",
    )
    key = f"{words[0].upper() if words else '?'} {table}"
    counters.kinds[key] = counters.kinds.get(key, 0) + 1


def serve_structures(counters: Counters, stats_file: Path) -> None:
    """Every enabled structure's bot in one process, over one engine, until SIGTERM."""
    from sqlalchemy import event
    from telegram.ext import TypeHandler

    from bot.app import ALLOWED_UPDATES, build_application
    from bot.deployment import Bot, serve_polling
    from bot.settings import load_settings
    from bot.structure import load_structure
    from bot.tenancy import claim_env_structure, served_structures
    from storage.db import Database

    settings = load_settings()
    env_structure = load_structure(settings.structure_file)
    gc_seconds = _time_garbage_collection()

    async def snapshots() -> None:
        while True:
            _write_stats(stats_file, counters, gc_seconds)
            await asyncio.sleep(0.5)

    async def serve() -> None:
        database = Database(settings.database_url)
        event.listen(
            database.engine.sync_engine,
            "before_cursor_execute",
            lambda *args: _add_statement(counters, args[2]),
        )
        await claim_env_structure(settings, env_structure, database)
        bots = []
        for item in await served_structures(settings, database, env_structure):
            runtime = item.runtime()
            application = build_application(runtime)
            application.add_handler(
                TypeHandler(object, lambda u, c: _count_update(u, c, counters)), group=-1000
            )
            bots.append(Bot(application, runtime))
        writer = asyncio.create_task(snapshots())
        try:
            await serve_polling(bots, allowed_updates=ALLOWED_UPDATES)
        finally:
            writer.cancel()
            await database.dispose()
            _write_stats(stats_file, counters, gc_seconds)

    asyncio.run(serve())


def _write_stats(stats_file: Path, counters: Counters, gc_seconds: list[float]) -> None:
    """The counters as JSON, replacing STATS_FILE at once (a reader never sees half of it)."""
    partial = stats_file.with_suffix(".partial")
    partial.write_text(
        json.dumps(
            {
                "updates": counters.updates,
                "statements": counters.statements,
                "kinds": counters.kinds,
                "gc_seconds": gc_seconds[0],
                "written_at": time.time(),
            }
        )
    )
    partial.replace(stats_file)


def build_bare(counters: Counters) -> Any:
    """One handler answering each update with one call (the floor to compare with)."""

    from telegram import Update
    from telegram.ext import ApplicationBuilder, TypeHandler

    async def answer(update: object, context: Any) -> None:
        counters.updates += 1
        if isinstance(update, Update) and update.callback_query is not None:
            await update.callback_query.edit_message_text(f"ok {update.update_id}")
        elif isinstance(update, Update) and update.effective_chat is not None:
            await update.effective_chat.send_message(f"ok {update.update_id}")

    application = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .concurrent_updates(int(os.environ.get("MAX_CONCURRENT_UPDATES", "32")))
        .build()
    )
    application.add_handler(TypeHandler(object, answer))
    return application


def _time_garbage_collection() -> list[float]:
    """CPU seconds spent collecting garbage (gc.callbacks), as a one-item list kept up to date."""
    import gc
    import time

    spent, started = [0.0], [0.0]

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.thread_time()
        else:
            spent[0] += time.thread_time() - started[0]

    gc.callbacks.append(note)
    return spent


def main() -> None:
    """Run until SIGTERM, then write the counters (and a cProfile dump when PF_PROFILE names a file)."""

    kind, stats_file = sys.argv[1], Path(sys.argv[2])
    counters = Counters()
    if kind == "structures":
        serve_structures(counters, stats_file)
        return
    application = build_portail(counters) if kind == "portail" else build_bare(counters)
    gc_seconds = _time_garbage_collection()
    profile_to = os.environ.get("PF_PROFILE")
    profiler = None
    if profile_to:
        import cProfile
        import time

        profiler = cProfile.Profile(
            time.thread_time
        )  # CPU of the event loop's thread, not wall time
        if os.environ.get("PF_PROFILE_ON_SIGNAL"):  # SIGUSR1 starts it, SIGUSR2 stops it
            signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
            signal.signal(signal.SIGUSR2, lambda *_: profiler.disable())
        else:
            profiler.enable()
    try:
        application.run_polling(
            allowed_updates=["message", "callback_query"],
            stop_signals=(signal.SIGTERM,),
            close_loop=False,
        )
    finally:
        if profiler is not None and profile_to:
            profiler.disable()
            profiler.dump_stats(profile_to)
        stats_file.write_text(
            json.dumps(
                {
                    "updates": counters.updates,
                    "statements": counters.statements,
                    "kinds": counters.kinds,
                    "gc_seconds": gc_seconds[0],
                }
            )
        )
        asyncio.set_event_loop(asyncio.new_event_loop())


if __name__ == "__main__":
    main()
