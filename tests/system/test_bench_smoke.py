"""The benchmarks cannot rot: every scenario of ``make bench`` runs once, for seconds.

The figures of a quick run mean nothing and are written nowhere; what is
checked is that each scenario still runs to its end against the platform.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

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


def bench_module(name: str) -> ModuleType:
    """A module of tests/bench (not a package), imported as bench.py imports it."""
    sys.path.insert(0, str(BENCH.parent))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH.parent))


def test_the_ramp_places_where_p99_passes_its_limit_between_two_steps() -> None:
    click = bench_module("scenarios.event_to_socket")
    rates = (10, 20, 50, 100)
    words, at = click.crossing(rates, {10: 10.0, 20: 30.0, 50: 70.0, 100: 900.0}, 50.0)
    assert at == 35.0
    assert "interpolated between 20/s" in words
    _, first = click.crossing(rates, {10: 60.0, 20: 70.0, 50: 80.0, 100: 90.0}, 50.0)
    _, never = click.crossing(rates, {10: 1.0, 20: 2.0, 50: 3.0, 100: 4.0}, 50.0)
    _, lost = click.crossing(rates, {10: 10.0, 20: math.inf, 50: 3.0, 100: 4.0}, 50.0)
    assert math.isnan(first)
    assert math.isnan(never)
    # Pushes that never came make p99 infinite: the limit is passed at that step.
    assert lost == 10.0


def test_shedding_starts_at_the_first_step_with_more_than_half_a_percent_refused() -> None:
    click = bench_module("scenarios.event_to_socket")
    rates = (10, 50, 100)

    def step(rate: int, shed: int) -> object:
        s = click.Step(rate, answered=1000 - shed, latencies=[5.0])
        s.statuses = Counter({"503": shed})
        s.retry_after = shed
        return s

    ramps = [{10: step(10, 0), 50: step(50, 5), 100: step(100, 6)}]
    words, at = click.shedding(rates, ramps)
    assert at == 100.0
    assert "6 of 6 with Retry-After" in words
    assert math.isnan(click.shedding(rates, [{r: step(r, 0) for r in rates}])[1])


def test_a_missed_target_shows_by_how_much() -> None:
    harness = bench_module("harness")
    bench = bench_module("bench")
    slow = harness.Figure("p99", harness.Spread.of([80.0]), "ms", target="< 50 ms", met=False)
    ratio = harness.Figure(
        "ratio", harness.Spread.of([0.72]), "x", target="≥ 0.8x direct", met=False, digits=2
    )
    assert bench.missed_by(slow) == "by 30.0 ms"
    assert bench.missed_by(ratio) == "by 0.08 x"
    result = harness.Result("click-to-socket", "Click to socket", "", [slow, ratio])
    table = "\n".join(bench.targets([result]))
    # Every row of the issue's table is there, measured or not.
    for row in bench.ISSUE_ROWS:
        assert row.row in table
    assert "**no**, by 30.0 ms" in table
    assert "not run" in table


def test_the_soak_fails_on_an_endpoint_slower_than_500_ms_at_p99_but_not_on_login() -> None:
    spec = importlib.util.spec_from_file_location("soak", ROOT / "tests" / "load" / "soak.py")
    assert spec is not None
    assert spec.loader is not None
    soak = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = soak
    spec.loader.exec_module(soak)
    report = soak.SoakReport(options=soak.SoakOptions(), started_at="")
    report.totals = {"requests": 3, "failures": 0}

    def endpoint(name: str, p99: float) -> dict[str, object]:
        return {"name": name, "requests": 1, "failures": 0, "p99_ms": p99}

    report.endpoints = [endpoint("POST auth/login", 2600.0), endpoint("GET notifications", 120.0)]
    assert report.slow_endpoints() == []
    report.endpoints.append(endpoint("GET wishlists/{id} (as viewer)", 510.0))
    assert report.slow_endpoints() == ["GET wishlists/{id} (as viewer): p99 510 ms (limit 500 ms)"]
    assert any("as viewer" in p for p in report.problems())
    # The short smoke run (tests/system/test_soak.py) judges neither memory nor latency.
    assert not any("as viewer" in p for p in report.problems(check_memory=False))
