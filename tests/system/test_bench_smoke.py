"""The benchmarks cannot rot: every scenario of ``make bench`` runs once, for seconds.

The figures of a quick run mean nothing and are written nowhere; what is
checked is that each scenario still runs to its end against the platform.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.system, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tests" / "bench" / "bench.py"


def scenario_names() -> list[str]:
    sys.path.insert(0, str(BENCH.parent))
    try:
        from scenarios import SCENARIOS  # noqa: PLC0415 - tests/bench is not a package

        return [s.name for s in SCENARIOS]
    finally:
        sys.path.remove(str(BENCH.parent))


def test_every_benchmark_scenario_runs_to_its_end(tmp_path: Path) -> None:
    names = scenario_names()
    assert names, "no scenario is registered"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--plots", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in names:
        assert f"bench: {name} done" in done.stdout, done.stdout
