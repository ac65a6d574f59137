"""Reliability suite fixtures: the numbers each test reports, shown in pytest's summary.

Every test ends with a plain `print` of its numbers (kills survived, writes checked, fuzz
cases run, ...) and also hands them to the `numbers` fixture, so they appear in the
terminal summary of a normal run (CI does not pass -s).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_NUMBERS = pytest.StashKey[list[str]]()


@pytest.fixture
def numbers(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """`numbers("12 kills survived, ...")`: print it and show it in the summary."""
    lines = request.config.stash.setdefault(_NUMBERS, [])

    def report(text: str) -> None:
        line = f"{request.node.nodeid}: {text}"
        print(line)
        lines.append(line)

    return report


@pytest.fixture
def workdir(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A private directory for a server's data and log (see `private_dir`)."""
    yield from private_dir(request)


@pytest.fixture(scope="module")
def module_workdir(request: pytest.FixtureRequest) -> Iterator[Path]:
    """`workdir` for a module's shared server."""
    yield from private_dir(request)


def private_dir(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A directory of our own, removed unless a test failed (then its path is printed).

    Not `tmp_path`: concurrent pytest sessions prune each other's old numbered temp
    directories, and these tests run long enough to lose their data dir that way.
    """
    path = Path(tempfile.mkdtemp(prefix="dynastore-reliability-"))
    failures = request.session.testsfailed
    yield path
    if request.session.testsfailed == failures:
        shutil.rmtree(path, ignore_errors=True)
    else:
        print(f"server data and log kept in {path}")


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    lines = config.stash.get(_NUMBERS, [])
    if lines:
        terminalreporter.section("reliability numbers")
        for line in lines:
            terminalreporter.write_line(line)
