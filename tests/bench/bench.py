"""``make bench``: every benchmark scenario on a platform of its own, then BENCHMARKS.md.

The platform runs as real processes on the local servers, on a fresh database
and namespace (as the system tests do); load comes from separate processes
(wrk, or a Python client) on 127.0.0.1 only. ``--quick`` is the CI smoke:
every scenario once, for about a second per measurement, so that none can
rot; its figures mean nothing and are not written anywhere.

    python tests/bench/bench.py                  # all, writes BENCHMARKS.md and docs/bench/
    python tests/bench/bench.py --only gateway-hop,login
    python tests/bench/bench.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

# tests/ is not a package: the harness and the scenarios are imported from here.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, Bench, Named, Result, machine
from scenarios import SCENARIOS

from wishlist_shared.testing.platform import standalone_stack
from wishlist_shared.testing.stack import UNTHROTTLED

DEFAULT_PLOTS = ROOT / "docs" / "bench"

# Thousands of sockets of one minted user are the sockets scenario, not an abuse.
OVERRIDES = {
    **UNTHROTTLED,
    "gateway": {**UNTHROTTLED["gateway"], "GATEWAY_WS_MAX_SOCKETS_PER_USER": "100000"},
}


async def run(scenarios: list[Named], *, quick: bool, plots: Path) -> list[Result]:
    results: list[Result] = []
    async with standalone_stack(ROOT) as stack:
        await stack.start_platform(OVERRIDES)
        async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=60) as http:
            bench = Bench(stack, quick, plots, http)
            for scenario in scenarios:
                started = time.monotonic()
                print(f"bench: {scenario.name} …", flush=True)
                result = await scenario(bench)
                print(f"bench: {scenario.name} done in {time.monotonic() - started:.0f} s")
                for figure in result.figures:
                    print(f"  {figure.name}: {figure.value.show(figure.unit, figure.digits)}")
                results.append(result)
    return results


def markdown(results: list[Result], facts: dict[str, str], seconds: float) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`tests/bench/`); do not edit by hand. What each",
        "scenario measures and how is in `tests/bench/scenarios/`. Every figure is the",
        "median of its runs with the lowest and highest in brackets; a ratio is taken",
        "against a baseline measured in the same run, interleaved with it.",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in facts.items()),
        f"| duration | {seconds / 60:.1f} min |",
        "",
        "## Targets",
        "",
        "| scenario | figure | value | target | met |",
        "| --- | --- | --- | --- | --- |",
    ]
    for result in results:
        for f in result.figures:
            if f.target:
                met = "yes" if f.met else ("**no**" if f.met is False else "-")
                value = f.value.show(f.unit, f.digits)
                lines.append(f"| {result.title} | {f.name} | {value} | {f.target} | {met} |")
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
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the CI smoke: seconds, no output")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--plots", type=Path, default=DEFAULT_PLOTS)
    args = parser.parse_args(argv)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = wanted - {s.name for s in SCENARIOS}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    chosen = [s for s in SCENARIOS if not wanted or s.name in wanted]
    if args.quick and args.plots == DEFAULT_PLOTS:
        # A quick run's plots mean nothing: they must not replace the real ones.
        args.plots = Path(tempfile.mkdtemp(prefix="bench-plots-"))
    args.plots.mkdir(parents=True, exist_ok=True)
    # Read before the run: its plots make the working tree dirty.
    facts = machine()
    started = time.monotonic()
    results = asyncio.run(run(chosen, quick=args.quick, plots=args.plots))
    if args.quick:
        return 0
    text = markdown(results, facts, time.monotonic() - started)
    if wanted:
        print("bench: only some scenarios ran; BENCHMARKS.md is left as it was")
        print(text)
    else:
        args.output.write_text(text)
        print(f"bench: wrote {args.output.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
