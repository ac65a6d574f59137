"""Reliability suite fixtures: the numbers each test reports, shown in pytest's summary.

Every test ends with a plain `print` of its numbers (kills survived, writes checked, fuzz
cases run, ...) and also hands them to the `numbers` fixture, so they appear in the
terminal summary of a normal run (CI does not pass -s).
"""

from __future__ import annotations

from collections.abc import Callable

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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = config.stash.get(_NUMBERS, [])
    if lines:
        terminalreporter.section("reliability numbers")
        for line in lines:
            terminalreporter.write_line(line)
