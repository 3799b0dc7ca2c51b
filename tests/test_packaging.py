"""The lock files stay in step with pyproject.toml (`make lock` regenerates them).

`make install` installs `requirements.lock` (everything, with the test tools); the container
image installs `requirements-runtime.lock`, the same versions without the test tools.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = ROOT / "requirements.lock"
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def locked(path: Path) -> dict[str, str]:
    """Package name -> pinned version, for every requirement of a lock file."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def pinned(requirements: list[str]) -> dict[str, str]:
    """Package name -> the version pyproject.toml pins it to with `==`."""
    pins: dict[str, str] = {}
    for text in requirements:
        requirement = Requirement(text)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{text}: pin it with =="
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


RUNTIME = pinned(PYPROJECT["project"]["dependencies"])
TEST_TOOLS = pinned(PYPROJECT["project"]["optional-dependencies"]["test"])


def test_the_lock_pins_every_dependency_of_pyproject_at_its_version() -> None:
    lock = locked(LOCK)
    stale = {
        name: (version, lock.get(name))
        for name, version in {**RUNTIME, **TEST_TOOLS}.items()
        if lock.get(name) != version
    }
    assert not stale, f"pyproject.toml and requirements.lock differ, run `make lock`: {stale}"


def test_the_runtime_lock_has_the_versions_of_the_lock_without_the_test_tools() -> None:
    lock, runtime = locked(LOCK), locked(RUNTIME_LOCK)
    assert {name: lock.get(name) for name in runtime} == runtime
    assert {name: runtime.get(name) for name in RUNTIME} == RUNTIME
    only_for_tests = set(TEST_TOOLS) - set(RUNTIME)
    assert not only_for_tests & set(runtime), "the image would carry the test tools"


def test_every_locked_package_is_checked_against_a_hash() -> None:
    for path in (LOCK, RUNTIME_LOCK):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", path.read_text(encoding="utf-8"))
        without = [b.split()[0] for b in blocks if _PIN.match(b) and "--hash=sha256:" not in b]
        assert not without, f"{path.name}: no hash for {without}"
