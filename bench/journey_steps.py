"""Benchmark: what each step of the opening-day journey costs the bot, one parent at a time.

    .venv/bin/python bench/journey_steps.py [--families 300] [--journeys 30] [--sql]

The same database, bot process and journey as `bench/opening_day.py`, but walked by one parent
after another with no think time, so that nothing overlaps: for each step, the bot process's CPU
milliseconds (from /proc, averaged over the journeys) and the SQL statements it ran. With
`--sql`, the statements of one journey are printed step by step; with `--profile STEP`, the bot
is profiled (CPU of its event loop) during that step only. This is where to look before
and after a change meant to make a screen cheaper; `opening_day.py` says what the load does.
Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.opening_day import (  # noqa: E402 - the project root is put on the path first
    FIRST_ACCOUNT,
    TOKEN,
    Figures,
    Journey,
    bot_environment,
    build_database,
    process_figures,
)


class MeasuredJourney(Journey):
    """A journey that notes, for each step, the bot's CPU and statements spent on it."""

    def __init__(
        self, *args: object, pid: int, trace: Path, costs: dict, sql: dict, profiled: str | None
    ) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.pid, self.trace, self.costs, self.sql = pid, trace, costs, sql
        self.profiled = profiled

    async def step(self, kind: str, target: str) -> bool:
        cpu_before, _ = process_figures(self.pid)
        lines_before = _lines(self.trace)
        if target == self.profiled:
            os.kill(self.pid, signal.SIGUSR1)
        answered = await super().step(kind, target)
        await asyncio.sleep(0.05)  # let the step's last statements (persistence, audit) land
        if target == self.profiled:
            os.kill(self.pid, signal.SIGUSR2)
        cpu_after, _ = process_figures(self.pid)
        statements = _lines(self.trace)[len(lines_before) :]
        self.costs[target].append((cpu_after - cpu_before) * 1000)
        self.sql[target].append(statements)
        return answered


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def measure(
    url: str, families: int, journeys: int, show_sql: bool, profiled: str | None
) -> None:
    from tests.support.botapi import BotApiStub, RateLimits

    trace = Path(tempfile.mkstemp(prefix="pf-sql-trace-")[1])
    stats = Path(tempfile.mkstemp(prefix="pf-bench-stats-")[1])
    costs: dict[str, list[float]] = defaultdict(list)
    sql: dict[str, list[list[str]]] = defaultdict(list)
    async with BotApiStub(
        token=TOKEN, rate_limits=RateLimits(global_per_second=None, group_per_minute=20)
    ) as stub:
        users = [stub.user(FIRST_ACCOUNT + i, f"Parent{i}") for i in range(1, journeys + 1)]
        env = bot_environment(stub, url, PF_SQL_TRACE=str(trace))
        if profiled:
            env["PF_PROFILE_ON_SIGNAL"] = "1"
            env.setdefault("PF_PROFILE", "/tmp/pf-step.prof")
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bench" / "_bot_process.py"), "portail", str(stats), env=env
        )
        while not stub.calls("getUpdates"):
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        figures = Figures()
        for user in users:
            journey = MeasuredJourney(
                stub,
                user,
                figures,
                False,
                pid=process.pid,
                trace=trace,
                costs=costs,
                sql=sql,
                profiled=profiled,
            )
            journey.think_seconds = 0.0
            await journey.run()
        process.send_signal(signal.SIGTERM)
        await process.wait()
    counters = json.loads(stats.read_text() or "{}")
    print(f"{families} families, {journeys} journeys walked one after another")
    print(f"garbage collection   {counters.get('gc_seconds', 0) * 1000:.0f} ms in all")
    print(f"{'step':16s} {'CPU ms':>8s} {'SQL':>5s}")
    total_cpu = total_sql = 0.0
    for step, values in costs.items():
        cpu = statistics.mean(values)
        statements = statistics.mean(len(s) for s in sql[step])
        total_cpu += cpu
        total_sql += statements
        print(f"{step:16s} {cpu:8.1f} {statements:5.1f}")
    steps = len(costs) or 1
    print(f"{'mean per step':16s} {total_cpu / steps:8.1f} {total_sql / steps:5.1f}")
    if show_sql:
        for step, runs in sql.items():
            print(f"\n== {step}")
            for line in runs[-1]:
                print("  " + line)
    trace.unlink(missing_ok=True)
    stats.unlink(missing_ok=True)


async def bench(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="pf-steps-"))
    url = await build_database(folder / "steps.db", args.families)
    await measure(url, args.families, min(args.journeys, args.families), args.sql, args.profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", type=int, default=300)
    parser.add_argument("--journeys", type=int, default=30)
    parser.add_argument("--sql", action="store_true", help="print one journey's statements")
    parser.add_argument(
        "--profile",
        metavar="STEP",
        help="cProfile the bot during this step only (dump in $PF_PROFILE, default /tmp/pf-step.prof)",
    )
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
