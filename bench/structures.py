"""Benchmark: the cost per update of one process serving the bots of many structures.

    .venv/bin/python bench/structures.py [--structures 1 100] [--families 300] [--parents 300]
                                         [--rate 50]

For each count N of structures, an SQLite database holds N structures of F linked families each
(one child enrolled in the cantine and the garderie): structure 1 is the one of `.env`, the others
are added as `portail-famille structure add` adds them (the demo configuration, their own bot).
The bot runs as its own process (`bench/_bot_process.py structures`) serving every structure's
bot, as `portail-famille run` does (bot/deployment.py), all polling one local Bot API stand-in:
one server, one token per structure, as api.telegram.org. The same load is offered whatever N:
P parents spread evenly over the structures walk opening day's ten-step journey
(bench/opening_day.py), starting at `rate / 10` a second.

Printed for each N: how long the N bots took to start; the process's RSS once they all poll
(before any update) and its peak; what it costs idle (CPU ms and SQL statements a second: the
senders and schedulers of N bots); then, over the load, updates answered and lost, latency, the
bot process's CPU ms per update, SQL statements per update (both measured over the load's window
only); and the ratios of the last N to the first. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.opening_day import (  # noqa: E402 - the project root is put on the path first
    FIRST_ACCOUNT,
    STEPS,
    TOKEN,
    Figures,
    Journey,
    bot_environment,
    insert_linked_families,
    process_figures,
    report,
)

IDLE_SECONDS = 5.0
STOP_TIMEOUT = 60.0
FAILED = re.compile(r"^(error on update|an update was not handled|outbox sender:|.*Traceback)")
STARTUP_TIMEOUT = 600.0


def family_id(structure_id: int, number: int, families: int) -> int:
    """The id of family `number` (1…F) of a structure: ids are unique over the database."""
    return (structure_id - 1) * families + number


def account_id(structure_id: int, number: int, families: int) -> int:
    """The Telegram account of that family's parent (one person per family and structure)."""
    return FIRST_ACCOUNT + family_id(structure_id, number, families)


async def build_database(path: Path, bots: list[Any], families: int) -> str:
    """One structure per stand-in bot (the first the `.env` one), each with F linked families."""
    from bot.services.structure_sync import sync_structure
    from bot.settings import DEMO_STRUCTURE_FILE
    from bot.structure import load_structure
    from bot.tenancy import new_webhook_secret
    from storage.db import Database
    from storage.migrate import upgrade_async
    from storage.models import DEFAULT_STRUCTURE_ID, StructureRecord

    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    database = Database(url)
    structure = load_structure(DEMO_STRUCTURE_FILE)
    configuration = DEMO_STRUCTURE_FILE.read_text(encoding="utf-8")
    structure_ids = [DEFAULT_STRUCTURE_ID]
    async with database.registry().transaction() as uow:
        for number, bot in enumerate(bots[1:], start=2):
            record = await uow.repos.registry.add(
                StructureRecord(
                    slug=f"commune-{number}",
                    name=f"Commune {number}",
                    bot_token=bot.token,
                    bot_username=bot.username,
                    webhook_secret=new_webhook_secret(),
                    timezone="Europe/Paris",
                    staff_user_ids="",
                    configuration=configuration,
                    enabled=True,
                )
            )
            structure_ids.append(record.id)
    for sid in structure_ids:
        async with database.for_structure(sid).transaction() as uow:
            await sync_structure(uow, structure)
            await insert_linked_families(
                uow, [family_id(sid, n, families) for n in range(1, families + 1)]
            )
    await database.dispose()
    return url


@dataclass
class Run:
    """What one count of structures measured, beside opening day's figures of its load."""

    structures: int
    load: Figures = field(default_factory=Figures)
    startup_seconds: float = 0.0
    rss_at_rest_mib: float = 0.0
    idle_cpu_ms_per_second: float = 0.0
    idle_sql_per_second: float = 0.0
    log: Path | None = None
    """The bot process's log (its stderr)."""
    errors: int = 0
    """Lines of that log telling an update, the sender or a job failed."""
    snapshot_age: float = 0.0
    """Seconds between the bot's last snapshot of its counters and the end of the load."""
    stop_seconds: float = 0.0
    """From SIGTERM to the process's exit (killed after STOP_TIMEOUT)."""
    at_home: int = 0
    """Parents who were shown their family's home screen (linked in their own structure)."""
    walkers: int = 0


def rss_mib(pid: int) -> float:
    """The current resident memory of a running process (MiB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def counters(stats: Path) -> dict[str, Any]:
    """The bot process's last snapshot of its counters (updates, statements...)."""
    text = stats.read_text() if stats.exists() else ""
    snapshot: dict[str, Any] = json.loads(text) if text else {}
    return snapshot


async def wait_for(condition: Any, timeout: float) -> bool:
    """Poll a cheap condition every 50 ms, up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def saw_home(bot: Any, user: Any) -> bool:
    """Whether the bot showed this parent the home screen of a linked family (its menu)."""
    return any(
        str(button.get("callback_data", "")).startswith("menu:planning")
        for message in bot.messages(user.id)
        for row in message.buttons
        for button in row
    )


def parents_of(bots: list[Any], parents: int, families: int) -> list[tuple[Any, Any]]:
    """`parents` walkers spread evenly over the structures: (the structure's bot, the parent)."""
    walkers = []
    for index in range(parents):
        sid = index % len(bots) + 1
        number = index // len(bots) + 1
        if number > families:
            break
        bot = bots[sid - 1]
        walkers.append((bot, bot.user(account_id(sid, number, families), f"Parent{index}")))
    return walkers


async def run(count: int, folder: Path, families: int, parents: int, rate: float) -> Run:
    """Start the stand-in with `count` bots, build their database, serve them, offer the load."""
    from tests.support.botapi import BotApiStub, RateLimits

    limits = RateLimits(global_per_second=None, group_per_minute=20)
    result = Run(count)
    stats = folder / f"stats-{count}.json"
    async with BotApiStub(token=TOKEN, rate_limits=limits) as stub:
        bots = [stub] + [stub.add_bot(rate_limits=limits) for _ in range(count - 1)]
        url = await build_database(folder / f"structures-{count}.db", bots, families)
        walkers = parents_of(bots, parents, families)
        env = bot_environment(stub, url)
        env["TELEGRAM_BOT_USERNAME"] = stub.username
        result.log = folder / f"bot-{count}.log"
        started = time.monotonic()
        with result.log.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(ROOT / "bench" / "_bot_process.py"),
                "structures",
                str(stats),
                env=env,
                stderr=log,
            )
        try:
            if not await wait_for(
                lambda: all(bot.calls("getUpdates") for bot in bots), STARTUP_TIMEOUT
            ):
                raise RuntimeError(f"the {count} bots were not all polling in {STARTUP_TIMEOUT} s")
            result.startup_seconds = time.monotonic() - started
            await asyncio.sleep(2.0)  # let the first ticks of every bot's jobs pass
            result.rss_at_rest_mib = rss_mib(process.pid)
            cpu_idle, _ = process_figures(process.pid)
            before_idle = counters(stats)
            await asyncio.sleep(IDLE_SECONDS)
            cpu_before, _ = process_figures(process.pid)
            before = counters(stats)
            result.idle_cpu_ms_per_second = (cpu_before - cpu_idle) / IDLE_SECONDS * 1000
            result.idle_sql_per_second = (
                before.get("statements", 0) - before_idle.get("statements", 0)
            ) / IDLE_SECONDS
            figures = result.load
            begun = time.monotonic()
            journeys = []
            for bot, user in walkers:
                journeys.append(asyncio.create_task(Journey(bot, user, figures, False).run()))
                await asyncio.sleep(STEPS / rate)
            failed = [
                e for e in await asyncio.gather(*journeys, return_exceptions=True) if e is not None
            ]
            if failed:
                print(f"{len(failed)} journeys failed in the benchmark itself: {failed[0]!r}")
            figures.seconds = time.monotonic() - begun
            await asyncio.sleep(1.0)  # the next snapshot of the counters holds the last updates
            cpu_after, figures.peak_rss_mib = process_figures(process.pid)
            after = counters(stats)
            result.snapshot_age = time.time() - after.get("written_at", 0.0)
            figures.cpu_seconds = cpu_after - cpu_before
            figures.handled = after.get("updates", 0) - before.get("updates", 0)
            figures.statements = after.get("statements", 0) - before.get("statements", 0)
            figures.statement_kinds = {
                kind: number - before.get("kinds", {}).get(kind, 0)
                for kind, number in after.get("kinds", {}).items()
                if number > before.get("kinds", {}).get(kind, 0)
            }
            result.walkers = len(walkers)
            result.at_home = sum(1 for bot, user in walkers if saw_home(bot, user))
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                stopping = time.monotonic()
                try:
                    await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
                except TimeoutError:
                    process.kill()
                    await process.wait()
                result.stop_seconds = time.monotonic() - stopping
    result.errors = sum(1 for line in result.log.read_text().splitlines() if FAILED.search(line))
    return result


def report_run(result: Run, families: int) -> None:
    report(f"{result.structures} structure(s) of {families} families in one process", result.load)
    print(f"linked parents       {result.at_home} / {result.walkers} saw their family's home")
    print(f"failures logged      {result.errors} (the bot's log: {result.log})")
    print(f"bots polling after   {result.startup_seconds:.1f} s")
    stopped = (
        f"{result.stop_seconds:.1f} s"
        if result.stop_seconds < STOP_TIMEOUT
        else f"not within {STOP_TIMEOUT:.0f} s: killed"
    )
    print(f"stopped (SIGTERM)    {stopped}")
    if result.snapshot_age > 2.0:
        print(f"counters             {result.snapshot_age:.0f} s old at the end of the load")
    print(f"RSS at rest          {result.rss_at_rest_mib:.0f} MiB (every bot polling, no update)")
    print(
        f"idle                 {result.idle_cpu_ms_per_second:.1f} CPU ms/s, "
        f"{result.idle_sql_per_second:.1f} SQL/s"
    )


def compare(first: Run, last: Run) -> None:
    def per_update(value: float, run: Run) -> float:
        return value / max(run.load.answered, 1)

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "n/a"

    print(f"\n== {last.structures} structures / {first.structures}")
    print(
        "CPU per update       "
        + ratio(per_update(last.load.cpu_seconds, last), per_update(first.load.cpu_seconds, first))
    )
    print(
        "SQL per update       "
        + ratio(
            last.load.statements / max(last.load.handled, 1),
            first.load.statements / max(first.load.handled, 1),
        )
    )
    print(f"p95 latency          {ratio(last.load.percentile(95), first.load.percentile(95))}")
    print(
        f"RSS at rest          {ratio(last.rss_at_rest_mib, first.rss_at_rest_mib)} "
        f"(+{(last.rss_at_rest_mib - first.rss_at_rest_mib) / max(last.structures - first.structures, 1):.1f} MiB a structure)"
    )


async def bench(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="pf-structures-"))
    print(
        f"structures: {' and '.join(map(str, args.structures))} structures of {args.families} "
        f"families, {args.parents} parents x {STEPS} steps, offered at {args.rate:.0f} updates/s"
    )
    results = []
    for count in args.structures:
        result = await run(count, folder, args.families, args.parents, args.rate)
        report_run(result, args.families)
        results.append(result)
    if len(results) > 1:
        compare(results[0], results[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--structures",
        type=int,
        nargs="+",
        default=[1, 100],
        help="the counts of structures to measure, one run each",
    )
    parser.add_argument("--families", type=int, default=300, help="families of each structure")
    parser.add_argument(
        "--parents",
        type=int,
        default=300,
        help="how many parents walk the journey in each run (spread over the structures)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=20.0,
        help="updates a second offered (parents start at rate/10 a second)",
    )
    args = parser.parse_args()
    if min(args.structures) < 1 or args.families < 1 or args.parents < 1:
        parser.error("--structures, --families and --parents must be at least 1")
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
