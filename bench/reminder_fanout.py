"""Benchmark: the reminder fan-out to many families, against the local Bot API stand-in.

    .venv/bin/python bench/reminder_fanout.py [--families 10000] [--rate 200]

Creates an SQLite database with N linked families whose child is enrolled in the cantine and
has nothing booked, so that each family is due one reminder. A bot process queues the due
reminders into the outbox and its sender delivers them. The stand-in answers 429 above
`--rate` messages a second; the bot is configured with the same rate. Two runs:

1. one sender process from start to end;
2. a sender stopped (SIGTERM) half way, then restarted, on a fresh database.

It prints messages sent, duplicates, 429s, elapsed time, the achieved rate as a fraction of the
configured rate (target ≥ 0.9), the sender's peak memory, and whether every reminder was sent
exactly once. Figures only: nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 11, 27, 11, 0, tzinfo=PARIS)  # 1 h before the cantine cutoff of next week
TOKEN = "7000000001:AAStubTokenForLocalTestsOnly_0123456789"


def cantine_structure():  # type: ignore[no-untyped-def]
    """The demo structure reduced to the cantine."""
    from bot.settings import DEMO_STRUCTURE_FILE
    from bot.structure import load_structure

    structure = load_structure(DEMO_STRUCTURE_FILE)
    return dataclasses.replace(
        structure, services=tuple(s for s in structure.services if s.code == "cantine")
    )


async def build_database(path: Path, families: int) -> None:
    """N families, each with one child enrolled in the cantine and one linked account."""
    from sqlalchemy import insert

    from bot.services.structure_sync import sync_structure
    from storage.db import Database
    from storage.migrate import upgrade_async
    from storage.models import Child, Enrolment, Family, FamilyChild, TelegramLink, TelegramUser

    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    database = Database(url)
    async with database.unit_of_work() as uow:
        await sync_structure(uow, cantine_structure())
        cantine = await uow.repos.structure.service_by_code("cantine")
        session = uow.session
        ids = range(1, families + 1)
        await session.execute(
            insert(Family),
            [{"id": i, "number": f"{9000000000000 + i}", "direct_debit": False} for i in ids],
        )
        await session.execute(
            insert(Child),
            [
                {"id": i, "last_name": "FAMILLE", "first_name": f"ENFANT{i}", "glasses": False}
                for i in ids
            ],
        )
        await session.execute(
            insert(FamilyChild), [{"family_id": i, "child_id": i, "custody": "full"} for i in ids]
        )
        await session.execute(
            insert(Enrolment),
            [
                {
                    "child_id": i,
                    "family_id": i,
                    "service_id": cantine.id,
                    "starts_on": dt.date(2026, 9, 1),
                }
                for i in ids
            ],
        )
        await session.execute(
            insert(TelegramUser), [{"id": 100000 + i, "first_seen_at": NOW} for i in ids]
        )
        await session.execute(
            insert(TelegramLink),
            [
                {
                    "family_id": i,
                    "telegram_user_id": 100000 + i,
                    "linked_at": NOW,
                    "linked_by": "invite",
                }
                for i in ids
            ],
        )
        await uow.commit()
    await database.dispose()


async def worker(database_path: str, base_url: str, rate: int) -> None:
    """One bot process: queue the due reminders, then let the outbox sender deliver them until
    the outbox is empty; SIGTERM stops it (the sends in flight finish)."""
    from telegram.ext import ExtBot
    from telegram.request import HTTPXRequest

    from bot import reminder_job
    from bot.domain.reminders import ReminderKind
    from bot.ratelimit import TelegramRateLimiter
    from bot.runtime import Runtime
    from bot.sender import OutboxSender
    from bot.services.reminders import ReminderSettings
    from bot.settings import load_settings
    from storage.db import Database

    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    url = f"sqlite+aiosqlite:///{database_path}"
    settings = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, database_url=url, send_rate_per_second=rate
    )
    runtime = Runtime(
        settings=settings, database=Database(url), structure=cantine_structure(), clock=lambda: NOW
    )
    limiter = TelegramRateLimiter(overall_per_second=rate, max_retries=10)
    bot = ExtBot(
        TOKEN,
        base_url=base_url,
        request=HTTPXRequest(connection_pool_size=64),
        rate_limiter=limiter,
    )
    only_booking = ReminderSettings(kinds=frozenset({ReminderKind.BOOKING}))
    async with bot:
        queued = await reminder_job.queue_reminders(runtime, only_booking)
        sender = OutboxSender(runtime, bot, limiter)
        await sender.start()
        while not stopping.is_set():
            async with runtime.database.unit_of_work() as uow:
                backlog = await uow.repos.outbox.backlog(NOW)
            if backlog.pending == 0:
                break
            await asyncio.sleep(0.5)
        await sender.stop()
    async with runtime.database.unit_of_work() as uow:
        left_in_flight = (await uow.repos.outbox.backlog(NOW)).pending
    await runtime.database.dispose()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"WORKER sent={sender.figures.sent} due={queued.due} queued={len(queued.keys)} stopped_early={stopping.is_set()} "
        f"left={left_in_flight} peak_kib={peak_kib}",
        flush=True,
    )


async def run_sender(
    database: Path, stub, rate: int, stop_after: int | None = None
) -> tuple[str, float]:  # type: ignore[no-untyped-def]
    """Start a sender process; with `stop_after`, SIGTERM it once that many messages arrived."""
    start = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--worker",
        str(database),
        stub.base_url,
        str(rate),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if stop_after is not None:
        while len(stub.calls("sendMessage")) < stop_after and process.returncode is None:
            await asyncio.sleep(0.5)  # the stand-in shares this process: poll gently
        process.send_signal(signal.SIGTERM)
    output, _ = await process.communicate()
    return output.decode(), time.perf_counter() - start


def worker_line(output: str) -> dict[str, str]:
    """The WORKER line's key=value pairs."""
    line = next((text for text in output.splitlines() if text.startswith("WORKER")), "WORKER")
    return dict(part.split("=", 1) for part in line.split()[1:])


def deliveries(stub) -> Counter[int]:  # type: ignore[no-untyped-def]
    """Messages received per chat."""
    return Counter(int(call.params["chat_id"]) for call in stub.calls("sendMessage"))


async def bench(families: int, rate: int) -> None:
    """Both runs, printing figures."""
    from tests.support.botapi import BotApiStub, RateLimits

    folder = Path(tempfile.mkdtemp(prefix="pf-bench-"))
    template = folder / "template.db"
    await build_database(template, families)
    print(
        f"reminder fan-out: {families} families, configured rate {rate} msg/s, stand-in answers 429 above it"
    )

    for label, stop_fraction in (("single run", None), ("stopped half way, restarted", 0.5)):
        database = folder / f"{label.split()[0]}.db"
        shutil.copy(template, database)
        async with BotApiStub(
            token=TOKEN, rate_limits=RateLimits(global_per_second=rate, group_per_minute=20)
        ) as stub:
            for user in range(100001, 100001 + families):
                stub.user(user, "Parent")
            outputs, elapsed = [], 0.0
            stop_after = int(families * stop_fraction) if stop_fraction else None
            output, seconds = await run_sender(database, stub, rate, stop_after)
            outputs.append(worker_line(output))
            elapsed += seconds
            if stop_after is not None:
                output, seconds = await run_sender(database, stub, rate)
                outputs.append(worker_line(output))
                elapsed += seconds
            counts = deliveries(stub)
            sent = sum(counts.values())
            duplicates = sum(n - 1 for n in counts.values() if n > 1)
            missing = families - len(counts)
            print(f"\n== {label}")
            print(f"messages sent       {sent}")
            print(f"duplicates          {duplicates}")
            print(f"missing             {missing}")
            print(f"429s received       {stub.flood_rejections}")
            print(
                f"elapsed             {elapsed:.1f} s (processes: {' + '.join(o.get('sent', '?') + ' sent' for o in outputs)})"
            )
            times = sorted(call.at for call in stub.calls("sendMessage"))
            sending = max(times[-1] - times[0], 1e-9) if len(times) > 1 else elapsed
            print(
                f"sending phase       {sending:.1f} s (first to last message; the rest is start-up and the due query)"
            )
            print(
                f"achieved rate       {sent / sending:.1f} msg/s = {sent / sending / rate:.2f} of the configured rate (target >= 0.9)"
            )
            print(
                f"peak memory         {max(int(o.get('peak_kib', 0)) for o in outputs) / 1024:.1f} MiB (sender process)"
            )
            print(
                f"left after stop     {outputs[0].get('left', '?')} (still to send; the restarted process sends them)"
            )
            print(f"exactly once        {'yes' if duplicates == 0 and missing == 0 else 'NO'}")
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """Entry point (also the worker's, with --worker)."""
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        asyncio.run(worker(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument(
        "--rate",
        type=int,
        default=30,
        help="messages a second allowed by the stand-in and the bot (Telegram: about 30)",
    )
    args = parser.parse_args()
    asyncio.run(bench(args.families, args.rate))


if __name__ == "__main__":
    main()
