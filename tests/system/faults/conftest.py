"""The fault suite's table: one row per fault, printed at the end of the run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# importlib mode puts no test directory on sys.path; the suite's modules are
# imported by name from here.
sys.path.insert(0, str(Path(__file__).parent))

from fault_report import Row, render

TABLE: list[Row] = []


@pytest.fixture
def fault_table() -> list[Row]:
    return TABLE


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TABLE:
        terminalreporter.write_sep("=", "faults x outcomes")
        terminalreporter.write_line(render(TABLE))
