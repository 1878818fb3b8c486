"""The load and soak scenario (tests/load/soak.py) in miniature, so that it cannot rot.

A few users for a few seconds through the same runner as ``make soak``: the
locustfile must still speak the current API (no failed request), the runner
must still read every process's memory, and the outbox must still empty
within a second of the end. Memory growth is not judged: too short a run to
tell a leak from a warm-up.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from wishlist_shared.testing.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.timeout(240)]

SOAK = Path(__file__).resolve().parents[1] / "load" / "soak.py"


def load_soak() -> ModuleType:
    # tests/ is not a package; the runner is loaded from its file, as the
    # deploy tests load deploy/nginx/render.py.
    spec = importlib.util.spec_from_file_location("soak", SOAK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: its dataclasses resolve their module by name.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_a_short_soak_fails_no_request_and_drains_the_outbox(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    soak = load_soak()
    options = soak.SoakOptions(users=20, spawn_rate=4, duration=20, sample_every=2)
    report = await soak.run_soak(stack, options, tmp_path)

    with capsys.disabled():
        print("\n" + soak.describe(report))
    assert report.requests > 100
    assert report.problems(check_memory=False) == []
    assert set(report.memory) == {"auth", "wishlists", "notifier", "gateway"}
    assert all(m["end_kib"] > 0 for m in report.memory.values())
