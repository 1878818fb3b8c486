"""The suite on several workers (wishlist_shared.testing.parallel), tried on a small
project of its own run by pytest-xdist as ``make test`` runs the real one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONFTEST = """
import os
from pathlib import Path

import pytest

pytest_plugins = ["wishlist_shared.testing.parallel"]
SETUPS = Path(os.environ["SETUPS"])


def record(what):
    with (SETUPS / f"{what}-{os.getpid()}").open("a") as f:
        f.write("x")


@pytest.fixture(scope="session")
def platform():
    record("platform")
    yield "running"


@pytest.fixture(scope="module")
def shop():
    record("shop")
    yield "open"


@pytest.fixture
def where():
    return lambda what: record(what)


@pytest.fixture(scope="session")
def launch():
    # Returns a factory: nothing held between tests, nothing to keep together.
    return lambda: record("launched")
"""

TESTS = """
import pytest


@pytest.mark.parametrize("n", range(8))
def test_on_the_platform(platform, n):
    assert platform == "running"


@pytest.mark.parametrize("n", range(4))
def test_at_the_shop(shop, n):
    assert shop == "open"


@pytest.mark.parametrize("n", range(8))
def test_on_a_platform_of_its_own(launch, n):
    launch()


@pytest.mark.xdist_group("by_hand")
@pytest.mark.parametrize("n", range(4))
def test_grouped_by_hand(where, n):
    where("by_hand")
"""

# As the fault suite's: a folder of its own, whose conftest only workers load.
FAULTS_CONFTEST = """
from wishlist_shared.testing.parallel import add_summary

TABLE = []


def pytest_sessionfinish(session):
    if TABLE:
        add_summary(session.config, "faults x outcomes", "\\n".join(TABLE))
"""

FAULTS = """
from conftest import TABLE


def test_a_fault():
    TABLE.append("| redis restarted | pass |")
"""


def run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """pytest on the small project; also which fixtures were set up, once per process."""
    project = tmp_path / "project"
    setups = tmp_path / "setups"
    (project / "faults").mkdir(parents=True)
    setups.mkdir()
    files = {
        "pytest.ini": "[pytest]\n",
        "conftest.py": CONFTEST,
        "test_things.py": TESTS,
        "faults/conftest.py": FAULTS_CONFTEST,
        "faults/test_faults.py": FAULTS,
    }
    for path, text in files.items():
        (project / path).write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "xdist.plugin", *args],
        cwd=project,
        env={
            # Not this run's own xdist variables, should it run on a worker itself.
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
            # Only xdist of the installed plugins: a worker starts in a second, not ten.
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "SETUPS": str(setups),
        },
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    return done, sorted(p.name for p in setups.iterdir())


def test_tests_sharing_a_held_fixture_run_on_one_worker_and_summaries_reach_the_terminal(
    tmp_path: Path,
) -> None:
    done, setups = run(tmp_path, "-n", "4", "--dist", "loadgroup")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "25 passed" in done.stdout
    # Without the groups, each of the 4 workers would start its own.
    assert len([s for s in setups if s.startswith("platform-")]) == 1
    assert len([s for s in setups if s.startswith("shop-")]) == 1
    assert len([s for s in setups if s.startswith("by_hand-")]) == 1
    launched_by = [s for s in setups if s.startswith("launched-")]
    assert len(launched_by) > 1, "tests without a held fixture should spread over workers"
    # The fault suite's table, made on a worker, printed once by the controller.
    assert "faults x outcomes" in done.stdout
    assert done.stdout.count("| redis restarted | pass |") == 1


def test_the_summary_is_printed_without_workers_too(tmp_path: Path) -> None:
    done, _ = run(tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "faults x outcomes" in done.stdout
    assert done.stdout.count("| redis restarted | pass |") == 1
