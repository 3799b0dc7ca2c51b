"""The layering the code promises, checked on the source: dialogues open no transaction and
import nothing of the staff's for a parent feature, no import cycle, one rate limiter."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "conversations", "storage")


def source_files(*packages: str) -> Iterator[Path]:
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every module of ours that `path` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    known = {module_name(p) for p in source_files(*PACKAGES)}
    return {name for name in found if name in known} - {module_name(path)}


def test_no_dialogue_opens_a_transaction_of_its_own() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in source_files("conversations")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "unit_of_work(" in line or ".transaction(" in line
    ]
    assert offenders == [], "dialogues call one service, which owns the transaction"


def test_parent_dialogues_import_nothing_from_the_staff_modules() -> None:
    offenders = {
        module_name(path): sorted(
            name for name in imported_modules(path) if name.startswith("conversations.staff")
        )
        for path in source_files("conversations")
        if "staff" not in path.relative_to(ROOT).parts
    }
    assert {name: staff for name, staff in offenders.items() if staff} == {}


def test_no_import_cycle() -> None:
    graph = {module_name(path): imported_modules(path) for path in source_files(*PACKAGES)}
    graph = {
        name: {
            target for target in targets if target in graph and not name.startswith(target + ".")
        }
        for name, targets in graph.items()
    }
    cycles = [sorted(component) for component in strongly_connected(graph) if len(component) > 1]
    assert cycles == []


def test_one_rate_limiter_and_no_other_pacer() -> None:
    classes = {
        node.name: module_name(path)
        for path in source_files(*PACKAGES)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
    }
    pacers = {
        name: where
        for name, where in classes.items()
        if "Pacer" in name or "Budget" in name or "RateLimiter" in name
    }
    assert pacers == {"TelegramRateLimiter": "bot.ratelimit"}
    uses = [
        path.name
        for path in source_files(*PACKAGES)
        if "AIORateLimiter" in path.read_text(encoding="utf-8")
    ]
    assert uses == []


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return components
