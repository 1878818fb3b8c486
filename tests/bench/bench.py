"""``make bench``: every benchmark scenario on a platform of its own, then BENCHMARKS.md.

The platform runs as real processes on the local servers, on a fresh database
and namespace (as the system tests do); load comes from separate processes
(wrk, or a Python client) on 127.0.0.1 only. ``--quick`` is the CI smoke:
every scenario once, for about a second per measurement, so that none can
rot; its figures mean nothing and are not written anywhere.

    python tests/bench/bench.py                  # all, writes BENCHMARKS.md and docs/bench/
    python tests/bench/bench.py --only gateway-hop,login
    python tests/bench/bench.py --quick
    python tests/bench/bench.py --only click-to-socket --baseline-tree /tmp/base

``--platform-tree DIR`` runs the platform (services, gateway, migrations) from
another checkout's sources, with this venv and those packages first on
PYTHONPATH; the scenarios, the load and the clients stay this tree's.
``--baseline-tree DIR`` runs the chosen scenarios a second time, right after,
on a platform from ``DIR`` (say ``git worktree add /tmp/base 3556ae8``), and
adds a section comparing the two runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

# tests/ is not a package: the harness and the scenarios are imported from here.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, Bench, Figure, Named, Result, machine
from scenarios import SCENARIOS

from wishlist_shared.testing.platform import standalone_stack
from wishlist_shared.testing.stack import UNTHROTTLED

DEFAULT_PLOTS = ROOT / "docs" / "bench"

# Thousands of sockets of one minted user are the sockets scenario, not an abuse.
OVERRIDES = {
    **UNTHROTTLED,
    "gateway": {**UNTHROTTLED["gateway"], "GATEWAY_WS_MAX_SOCKETS_PER_USER": "100000"},
}


PACKAGES = (
    "shared/src",
    "services/auth/src",
    "services/wishlists/src",
    "services/notifier/src",
    "gateway/src",
)
"""Where a checkout keeps its packages' sources (the venv has this tree's, editable)."""


@contextlib.contextmanager
def platform_from(tree: Path) -> Iterator[None]:
    """The platform's processes and migrations (children of this process) import ``tree``'s
    packages: they come before the venv's editable paths on PYTHONPATH."""
    if tree.resolve() == ROOT:
        yield
        return
    paths = [tree / p for p in PACKAGES]
    missing = [str(p) for p in paths if not p.is_dir()]
    if missing:
        raise SystemExit(f"bench: {tree} is not a checkout of the platform: no {missing}")
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(str(p.resolve()) for p in paths)
    try:
        # What a service process will import, checked the way it will be imported.
        found = subprocess.run(
            [sys.executable, "-c", "import wishlists, gateway; print(wishlists.__file__)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not Path(found).resolve().is_relative_to(tree.resolve()):
            raise SystemExit(f"bench: the platform would import {found}, not {tree}'s")
        yield
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


def commit_of(tree: Path) -> str:
    return (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=tree,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        or "unknown"
    )


async def run(
    scenarios: list[Named],
    *,
    quick: bool,
    plots: Path,
    tree: Path = ROOT,
    repeats: int | None = None,
) -> list[Result]:
    # The tree comes resolved: standalone_stack runs its migrations from it.
    results: list[Result] = []
    with platform_from(tree):
        async with standalone_stack(tree) as stack:
            await stack.start_platform(OVERRIDES)
            async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=60) as http:
                bench = Bench(stack, quick, plots, http, repeats)
                results += await _each(bench, scenarios)
    return results


async def _each(bench: Bench, scenarios: list[Named]) -> list[Result]:
    results: list[Result] = []
    for scenario in scenarios:
        started = time.monotonic()
        print(f"bench: {scenario.name} …", flush=True)
        result = await scenario(bench)
        print(f"bench: {scenario.name} done in {time.monotonic() - started:.0f} s")
        for figure in result.figures:
            print(f"  {figure.name}: {figure.value.show(figure.unit, figure.digits)}")
        results.append(result)
    return results


@dataclass(frozen=True)
class IssueRow:
    """A row of issue 18's targets table: BENCHMARKS.md shows each, measured or not."""

    row: str
    scenario: str
    target: str


ISSUE_ROWS = (
    IssueRow("event to socket, offered 100/s", "click-to-socket", "100/s achieved, p99 < 50 ms"),
    IssueRow("event to socket, offered 200/s", "click-to-socket", "≥ 190/s achieved, p99 < 100 ms"),
    IssueRow(
        "fan-out: one item to 1,000 viewers' sockets", "fan-out", "< 200 ms to the last socket"
    ),
    IssueRow(
        "outbox relay vs a bare publisher that streams confirms",
        "outbox-relay",
        "≥ 0.8 x the streaming baseline, in commit order",
    ),
    IssueRow(
        "GET list of 10 items, wishlists alone vs a minimal FastAPI + asyncpg app",
        "service-read",
        "≥ 0.7 x the minimal app",
    ),
    IssueRow(
        "gateway hop, open-loop at half the direct capacity",
        "gateway-hop",
        "throughput ≥ 0.9 x, added p50 < 1 ms, added p99 < 3 ms",
    ),
    IssueRow("login vs raw Argon2id, many accounts", "login", "≥ 0.95 x"),
    IssueRow("idle sockets, fresh gateway process, 10k", "sockets", "< 25 KiB each"),
)

_THRESHOLD = re.compile(r"^\s*(<|≤|<=|>|≥|>=)\s*(-?[\d,]*\.?\d+)")


def missed_by(figure: Figure) -> str:
    """How far a missed target is from its threshold, read from the target's words
    ("< 50 ms", "≥ 0.8x direct"); empty when they name no threshold."""
    found = _THRESHOLD.match(figure.target)
    if found is None or not math.isfinite(figure.value.median):
        return ""
    gap = abs(figure.value.median - float(found.group(2).replace(",", "")))
    return f"by {gap:.{figure.digits}f} {figure.unit}"


def verdict(result: Result, figure: Figure) -> str:
    if figure.met:
        return "yes"
    if figure.met is None:
        return "-"
    anchor = result.title.lower().replace(" ", "-").replace(",", "")
    by = missed_by(figure)
    return f"**no**{', ' + by if by else ''}; profile: [{result.title}](#{anchor})"


def targets(results: list[Result]) -> list[str]:
    """The issue's rows in its order, each with the figures that judge it, then any other
    figure with a target."""
    lines = [
        "| issue target | scenario | figure | value | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    by_scenario = {r.scenario: r for r in results}
    rows_of = {
        name: [row.row for row in ISSUE_ROWS if row.scenario == name] for name in by_scenario
    }
    claimed: set[int] = set()
    for row in ISSUE_ROWS:
        result = by_scenario.get(row.scenario)
        judged = [
            f
            for f in (result.figures if result else [])
            if f.target
            and (f.issue_row == row.row or (not f.issue_row and rows_of[row.scenario] == [row.row]))
        ]
        if not judged:
            why = "not run" if result is None else "no figure of this run judges it"
            lines.append(f"| {row.row} | {row.scenario} | - | {why} | {row.target} | - |")
        assert result is not None or not judged
        for f in judged:
            claimed.add(id(f))
            value = f.value.show(f.unit, f.digits)
            lines.append(
                f"| {row.row} | {result.title if result else row.scenario} | {f.name} | {value}"
                f" | {f.target} | {verdict(result, f) if result else '-'} |"
            )
    for result in results:
        for f in result.figures:
            if f.target and id(f) not in claimed:
                value = f.value.show(f.unit, f.digits)
                lines.append(
                    f"| (other) | {result.title} | {f.name} | {value} | {f.target}"
                    f" | {verdict(result, f)} |"
                )
    return lines


def markdown(
    results: list[Result],
    facts: dict[str, str],
    seconds: float,
    baseline: tuple[str, list[Result], str] | None = None,
) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`tests/bench/`); do not edit by hand. What each",
        "scenario measures and how is in `tests/bench/scenarios/`. Every figure is the",
        "median of its runs with the lowest and highest in brackets; a ratio is taken",
        "against a baseline measured in the same run, interleaved with it. A missed",
        "target shows by how much, and its scenario's section the profile of that run.",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in facts.items()),
        f"| duration | {seconds / 60:.1f} min |",
        "",
        "## Targets",
        "",
        *targets(results),
    ]
    for result in results:
        lines += ["", f"## {result.title}", "", result.setup, "", "| figure | value | note |"]
        lines.append("| --- | --- | --- |")
        for f in result.figures:
            lines.append(f"| {f.name} | {f.value.show(f.unit, f.digits)} | {f.note} |")
        for plot in result.plots:
            shown = plot.relative_to(ROOT) if plot.is_relative_to(ROOT) else plot
            lines += ["", f"![{plot.stem}]({shown})"]
        if result.findings:
            lines += ["", result.findings]
    if baseline is not None:
        lines += comparison(results, *baseline)
    return "\n".join(lines) + "\n"


ACCEPTANCE = {
    # figure name → (at least, or at most, this x the baseline's)
    "p99 passes 50 ms at": ("≥", 2.0),
    "100/s: CPU per reservation, all processes": ("≤", 0.5),
}
"""Issue 18's acceptance against commit 3556ae8, measured the same day."""


def comparison(
    results: list[Result], commit: str, base: list[Result], failure: str = ""
) -> list[str]:
    """Every figure both runs have, side by side, with the ratio of this tree's to the
    baseline's; the acceptance's two ratios judged."""
    lines = [
        "",
        f"## Against the baseline {commit}",
        "",
        f"The same scenarios, run right after this tree's in the same session, on a platform"
        f" started from a checkout of {commit} (its packages first on PYTHONPATH, its"
        " migrations, this venv); the load, the clients and the accounting are this tree's.",
    ]
    if failure:
        # Only its first lines: a process's log may follow.
        lines += ["", f"The run on {commit} failed: " + " ".join(failure.splitlines()[:3])]
    old = {(r.scenario, f.name): f for r in base for f in r.figures}
    for result in results:
        pairs = [
            (f, old[(result.scenario, f.name)])
            for f in result.figures
            if (result.scenario, f.name) in old
        ]
        if not pairs:
            continue
        lines += [
            "",
            f"### {result.title}",
            "",
            f"| figure | this tree | {commit} | ratio | acceptance | {commit}: note |",
        ]
        lines.append("| --- | --- | --- | --- | --- | --- |")
        for now, then in pairs:
            ratio = now.value.median / then.value.median if then.value.median else math.nan
            judged = "-"
            if now.name in ACCEPTANCE:
                sense, bound = ACCEPTANCE[now.name]
                ok = ratio >= bound if sense == "≥" else ratio <= bound
                judged = f"{sense} {bound:g}x: " + ("met" if ok else "**missed**")
            lines.append(
                f"| {now.name} | {now.value.show(now.unit, now.digits)}"
                f" | {then.value.show(then.unit, then.digits)} | {ratio:.2f} | {judged}"
                f" | {then.note} |"
            )
        findings = next((r.findings for r in base if r.scenario == result.scenario), "")
        if findings:
            lines += ["", f"{commit}: {findings}"]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the CI smoke: seconds, no output")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--plots", type=Path, default=DEFAULT_PLOTS)
    parser.add_argument("--repeats", type=int, default=None, help="runs of each measurement")
    parser.add_argument(
        "--platform-tree", type=Path, default=ROOT, help="a checkout whose platform to run"
    )
    parser.add_argument(
        "--baseline-tree", type=Path, default=None, help="a checkout to compare with"
    )
    args = parser.parse_args(argv)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = wanted - {s.name for s in SCENARIOS}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    chosen = [s for s in SCENARIOS if not wanted or s.name in wanted]
    tree = args.platform_tree.resolve()
    partial = bool(wanted) or tree != ROOT or args.baseline_tree is not None
    if (args.quick or partial) and args.plots == DEFAULT_PLOTS:
        # Only a full run's plots go beside the BENCHMARKS.md it writes: a
        # quick or partial run's must not replace them.
        args.plots = Path(tempfile.mkdtemp(prefix="bench-plots-"))
    args.plots.mkdir(parents=True, exist_ok=True)
    # Read before the run: its plots make the working tree dirty.
    facts = machine()
    if tree != ROOT:
        facts["platform"] = f"{commit_of(tree)} (from {tree})"
    started = time.monotonic()
    results = asyncio.run(
        run(chosen, quick=args.quick, plots=args.plots, tree=tree, repeats=args.repeats)
    )
    baseline: tuple[str, list[Result], str] | None = None
    if args.baseline_tree is not None:
        base_plots = Path(tempfile.mkdtemp(prefix="bench-baseline-plots-"))
        commit = commit_of(args.baseline_tree)
        print(f"bench: the same scenarios on the baseline {commit}", flush=True)
        failure = ""
        try:
            base_results = asyncio.run(
                run(
                    chosen,
                    quick=args.quick,
                    plots=base_plots,
                    tree=args.baseline_tree.resolve(),
                    repeats=args.repeats,
                )
            )
        except Exception as error:  # noqa: BLE001 - this tree's figures are still worth writing
            failure = f"{type(error).__name__}: {error}"
            print(f"bench: the baseline's run failed: {failure}", flush=True)
            base_results = []
        baseline = commit, base_results, failure
    text = markdown(results, facts, time.monotonic() - started, baseline)
    if args.quick:
        if baseline is not None:
            print(text)
        return 0
    if partial:
        print(
            "bench: not a full run of this tree; BENCHMARKS.md and its plots are left"
            f" as they were (plots of this run: {args.plots})"
        )
        print(text)
    else:
        args.output.write_text(text)
        print(f"bench: wrote {args.output.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
