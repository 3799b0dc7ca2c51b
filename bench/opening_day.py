"""Benchmark: opening day — thousands of parents each walking a 10-step journey at once.

    .venv/bin/python bench/opening_day.py [--families 5000] [--parents 5000] [--rate 170]
                                          [--broadcast] [--bare/--no-bare]

N linked families (one child enrolled in the cantine and the garderie) are put in an SQLite
database. The bot runs as its own process (`bench/_bot_process.py`), polling the local Bot API
stand-in in this process over real HTTP. Parents start at `rate / 10` a second; each one walks
the journey as fast as the bot answers, one second of thinking between taps: /accueil, Planning,
next month, a day, Réserver, back to the month, home, Relevé de compte, Mes factures, home.
With `--broadcast`, a second run publishes an announcement to every family (the staff's use
case: an inbox copy and an outbox row each) as the parents start, to see whether it slows their
answers.

Printed for the bot and for a bare python-telegram-bot handler answering every update with one
call on the same stand-in and load: updates offered, answered, lost (no answer within 30 s);
latency from the update being queued at the stand-in to the bot's first answer (p50, p95, p99,
max); the bot process's CPU seconds per update; its peak RSS; SQL statements per update; and the
ratios. The stand-in enforces 20 messages a minute per group; the overall 30 a second applies to
messages a bot starts itself (our outbox paces those), not to answers, so it is off here.
Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "7000000001:AAStubTokenForLocalTestsOnly_0123456789"
FIRST_ACCOUNT = 100_000
STEPS = 10
THINK_SECONDS = 1.0
ANSWER_TIMEOUT = 30.0


async def build_database(path: Path, families: int) -> str:
    """The demo structure and N families with one child in the cantine and the garderie."""
    from bot.services.structure_sync import sync_structure
    from bot.settings import DEMO_STRUCTURE_FILE
    from bot.structure import load_structure
    from storage.db import Database
    from storage.migrate import upgrade_async

    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    database = Database(url)
    async with database.transaction() as uow:
        await sync_structure(uow, load_structure(DEMO_STRUCTURE_FILE))
        await insert_linked_families(uow, range(1, families + 1))
    await database.dispose()
    return url


async def insert_linked_families(uow: Any, ids: Iterable[int]) -> None:
    """Families of these ids (N° famille 9000000000000 + id), each with one child in the cantine
    and the garderie du soir and a parent linked as the Telegram account FIRST_ACCOUNT + id, in
    the structure of the unit of work (its services must be there)."""
    from sqlalchemy import insert

    from storage.models import (
        Child,
        Enrolment,
        Family,
        FamilyChild,
        Guardian,
        TelegramLink,
        TelegramUser,
    )

    ids = list(ids)
    now = dt.datetime.now(dt.UTC)
    services = [
        await uow.repos.structure.service_by_code(code) for code in ("cantine", "garderie_soir")
    ]
    session = uow.session
    await session.execute(
        insert(Family),
        [{"id": i, "number": f"{9000000000000 + i}", "direct_debit": False} for i in ids],
    )
    await session.execute(
        insert(Guardian),
        [
            {
                "family_id": i,
                "role": "responsable",
                "last_name": f"FAMILLE{i}",
                "first_name": "PARENT",
                "sms_consent": False,
                "email_consent": False,
            }
            for i in ids
        ],
    )
    await session.execute(
        insert(Child),
        [
            {"id": i, "last_name": f"FAMILLE{i}", "first_name": "ENFANT", "glasses": False}
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
                "service_id": s.id,
                "starts_on": dt.date(2026, 9, 1),
            }
            for i in ids
            for s in services
            if s
        ],
    )
    await session.execute(
        insert(TelegramUser),
        [{"id": FIRST_ACCOUNT + i, "first_seen_at": now, "language": "fr"} for i in ids],
    )
    await session.execute(
        insert(TelegramLink),
        [
            {
                "family_id": i,
                "telegram_user_id": FIRST_ACCOUNT + i,
                "linked_at": now,
                "linked_by": "invite",
            }
            for i in ids
        ],
    )


@dataclass
class Figures:
    """What one run measured."""

    offered: int = 0
    answered: int = 0
    lost: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mib: float = 0.0
    handled: int = 0
    statements: int = 0
    broadcast_sent: int = 0
    by_step: dict[str, list[float]] = field(default_factory=dict)
    statement_kinds: dict[str, int] = field(default_factory=dict)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Journey:
    """One parent's ten steps, reading the bot's buttons as a person would."""

    def __init__(self, stub: Any, user: Any, figures: Figures, bare: bool) -> None:
        self.stub, self.user, self.figures, self.bare = stub, user, figures, bare
        self.screen: Any = None
        self.think_seconds = THINK_SECONDS

    async def run(self) -> None:
        plan = [
            ("command", "/accueil"),
            ("tap", "menu:planning"),
            ("tap", "pm:"),  # next month (the ▶ of the month view)
            ("tap", "pd:"),  # a day of that month
            ("tap", "pa:b:"),  # Réserver
            ("tap", "pm:"),  # back to the month
            ("tap", "home"),
            ("tap", "menu:statement"),
            ("tap", "sti:"),  # Mes factures
            ("tap", "home"),
        ]
        for kind, target in plan:
            if not await self.step(kind, target):
                return
            await asyncio.sleep(self.think_seconds)

    async def step(self, kind: str, target: str) -> bool:
        chat = self.stub.chat(self.user.id)
        seen = len(chat.events)
        queued_at = time.monotonic()
        query_id = None
        if kind == "command" or self.screen is None:
            await self.user.send_command("/accueil")
        else:
            query_id = await self.user.tap_data(self.screen, self.pick(target))
        self.figures.offered += 1
        answered = await self.wait(
            lambda: (
                len(chat.events) > seen
                or (query_id is not None and query_id in self.stub.callback_answers)
            )
        )
        if not answered:
            self.figures.lost += 1
            return False
        self.figures.answered += 1
        self.figures.latencies.append(time.monotonic() - queued_at)
        self.figures.by_step.setdefault(target, []).append(time.monotonic() - queued_at)
        if await self.wait(lambda: len(chat.events) > seen):
            chat.cursor = len(chat.events)
            self.screen = chat.events[-1]
        return True

    @staticmethod
    async def wait(condition: Any) -> bool:
        """Poll a cheap condition (a dict or a length) every 5 ms, up to the answer timeout."""
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    def pick(self, prefix: str) -> str:
        """The callback data of the button the parent taps (or the nearest one)."""
        buttons = [
            b.get("callback_data", "")
            for row in self.screen.buttons
            for b in row
            if b.get("callback_data")
        ]
        matching = [data for data in buttons if data.startswith(prefix)]
        if prefix == "pm:" and len(matching) >= 3:
            return matching[2]  # ▶, the third button of the month's header
        if prefix == "pd:" and matching:
            return random.choice(matching)
        return matching[0] if matching else (buttons[0] if buttons else "home")


def process_figures(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) and peak RSS (MiB) of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return cpu, peak


async def queue_broadcast(url: str) -> None:
    """An announcement to every linked family, published as staff confirm one (the real use case)."""
    from bot.services.announcements import publish_announcement
    from storage.db import Database

    database = Database(url)
    await publish_announcement(
        database,
        body="Réunion d’information jeudi 18 h.",
        staff_id=FIRST_ACCOUNT,
        staff_name="Bench",
        now=dt.datetime.now(dt.UTC),
    )
    await database.dispose()


def bot_environment(stub: Any, url: str, **extra: str) -> dict[str, str]:
    """The settings of the bot process: the stand-in, the database, no reminder ticks."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BOT_USERNAME": "portail_bench_bot",
        "TELEGRAM_API_BASE_URL": stub.base_url,
        "TELEGRAM_API_BASE_FILE_URL": stub.base_file_url,
        "DATABASE_URL": url,
        "REMINDER_INTERVAL_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


async def run(
    kind: str, url: str, families: int, parents: int, rate: float, broadcast: bool = False
) -> Figures:
    """One run against a fresh copy of the database."""
    from tests.support.botapi import BotApiStub, RateLimits

    figures = Figures()
    stats = Path(tempfile.mkstemp(prefix="pf-bench-stats-")[1])
    async with BotApiStub(
        token=TOKEN, rate_limits=RateLimits(global_per_second=None, group_per_minute=20)
    ) as stub:
        users = [stub.user(FIRST_ACCOUNT + i, f"Parent{i}") for i in range(1, parents + 1)]
        for i in range(parents + 1, families + 1):
            stub.user(FIRST_ACCOUNT + i, f"Parent{i}")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bench" / "_bot_process.py"),
            kind,
            str(stats),
            env=bot_environment(stub, url),
        )
        while not stub.calls("getUpdates"):
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        cpu_before, _ = process_figures(process.pid)
        if broadcast:
            await queue_broadcast(url)
        started = time.monotonic()
        journeys = []
        for user in users:
            journeys.append(asyncio.create_task(Journey(stub, user, figures, kind == "bare").run()))
            await asyncio.sleep(STEPS / rate)
        await asyncio.gather(*journeys)
        figures.seconds = time.monotonic() - started
        cpu_after, figures.peak_rss_mib = process_figures(process.pid)
        figures.cpu_seconds = cpu_after - cpu_before
        figures.broadcast_sent = sum(
            1 for c in stub.calls("sendMessage") if "Réunion" in str(c.params.get("text", ""))
        )
        process.send_signal(signal.SIGTERM)
        await process.wait()
    counters = json.loads(stats.read_text() or "{}")
    stats.unlink(missing_ok=True)
    figures.handled = counters.get("updates", 0)
    figures.statements = counters.get("statements", 0)
    figures.statement_kinds = counters.get("kinds", {})
    return figures


def report(label: str, f: Figures) -> None:
    per_update = f.answered or 1
    print(f"\n== {label}")
    print(
        f"updates offered      {f.offered} in {f.seconds:.0f} s ({f.offered / max(f.seconds, 1e-9):.0f}/s)"
    )
    print(f"answered / lost      {f.answered} / {f.lost}")
    print(
        f"latency (s)          p50 {f.percentile(50):.3f}  p95 {f.percentile(95):.3f}  p99 {f.percentile(99):.3f}  max {max(f.latencies, default=float('nan')):.3f}"
    )
    print(f"CPU per update       {f.cpu_seconds / per_update * 1000:.2f} ms")
    print(f"peak RSS             {f.peak_rss_mib:.0f} MiB")
    print(f"SQL per update       {f.statements / max(f.handled, 1):.1f}")
    if f.statement_kinds:
        top = sorted(f.statement_kinds.items(), key=lambda item: -item[1])[:8]
        print(
            "  most run           "
            + ", ".join(f"{kind} {count / max(f.handled, 1):.1f}" for kind, count in top)
        )
    slowest = sorted(
        f.by_step.items(), key=lambda item: -sorted(item[1])[int(0.95 * (len(item[1]) - 1))]
    )[:3]
    print(
        "slowest steps (p95)  "
        + ", ".join(f"{name} {sorted(v)[int(0.95 * (len(v) - 1))]:.3f}" for name, v in slowest)
    )
    if f.broadcast_sent:
        print(f"broadcast delivered  {f.broadcast_sent} during the run")


def ratios(ours: Figures, bare: Figures) -> None:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "n/a"

    print("\n== ratios (Portail Famille / bare handler)")
    print(f"p95 latency          {ratio(ours.percentile(95), bare.percentile(95))}")
    print(
        f"CPU per update       {ratio(ours.cpu_seconds / max(ours.answered, 1), bare.cpu_seconds / max(bare.answered, 1))}"
    )


async def bench(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="pf-opening-"))
    parents = min(args.parents, args.families)
    print(
        f"opening day: {args.families} families, {parents} parents x {STEPS} steps, offered at {args.rate:.0f} updates/s"
    )
    template = folder / "template.db"
    url = await build_database(template, args.families)
    results: dict[str, Figures] = {}
    kinds = (["bare"] if args.bare else []) + ["portail"]
    for kind in kinds:
        copy = folder / f"{kind}.db"
        copy.write_bytes(template.read_bytes())
        results[kind] = await run(
            kind, url.replace(str(template), str(copy)), args.families, parents, args.rate
        )
        report(
            "bare python-telegram-bot handler" if kind == "bare" else "Portail Famille",
            results[kind],
        )
    if "bare" in results:
        ratios(results["portail"], results["bare"])
    if args.broadcast:
        copy = folder / "broadcast.db"
        copy.write_bytes(template.read_bytes())
        loaded = await run(
            "portail",
            url.replace(str(template), str(copy)),
            args.families,
            parents,
            args.rate,
            broadcast=True,
        )
        report(
            f"Portail Famille with an announcement to {args.families} families going out", loaded
        )
        base = results["portail"].percentile(95)
        print(
            f"p95 slowed by        {(loaded.percentile(95) / base - 1) * 100:+.0f}% (target: at most +20%)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", type=int, default=5000)
    parser.add_argument(
        "--parents", type=int, default=5000, help="how many of them walk the journey"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=170.0,
        help="updates a second offered (parents start at rate/10 a second)",
    )
    parser.add_argument(
        "--broadcast",
        action="store_true",
        help="also run with an announcement to every family going out",
    )
    parser.add_argument(
        "--bare",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the bare handler",
    )
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
