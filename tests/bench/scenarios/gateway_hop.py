"""Gateway hop: the same authenticated read straight to the service and through the gateway."""

from __future__ import annotations

from harness import API, Bench, Figure, Result, Spread, WrkRun, interleaved, scenario, wrk

CONNECTIONS = 16
ITEMS = 10


@scenario("gateway-hop", "Gateway hop")
async def gateway_hop(bench: Bench) -> Result:
    owner = await bench.person("Hop")
    wishlist = await bench.call("POST", "/wishlists", owner, {"title": "Hop"})
    for n in range(ITEMS):
        await bench.call(
            "POST", f"/wishlists/{wishlist['id']}/items", owner, {"title": f"gift {n}"}
        )
    path = f"{API}/wishlists/{wishlist['id']}"
    runs: dict[str, list[WrkRun]] = {"direct": [], "gateway": []}

    async def measure(where: str, base: str) -> float:
        run = await wrk(
            base + path, seconds=bench.seconds, connections=CONNECTIONS, headers=owner.headers
        )
        assert run.errors == 0, f"{where}: {run.errors} errors"
        runs[where].append(run)
        return run.requests_per_second

    via, direct, ratio = await interleaved(
        bench.repeats,
        lambda: measure("gateway", bench.gateway),
        lambda: measure("direct", bench.url("wishlists")),
    )

    def added(percentile: int) -> Spread:
        return Spread.of(
            [
                g.latency_ms[percentile] - d.latency_ms[percentile]
                for d, g in zip(runs["direct"], runs["gateway"], strict=True)
            ]
        )

    added_p50, added_p99 = added(50), added(99)
    return Result(
        "gateway-hop",
        "Gateway hop",
        f"`GET {API}/wishlists/{{id}}` of a list with {ITEMS} items, as its owner, with wrk"
        f" (one thread, {CONNECTIONS} connections, {bench.seconds} s per run), straight to"
        " the wishlists service and through the gateway, alternating, "
        f"{bench.repeats} runs each. Both processes and wrk share the machine's cores.",
        [
            Figure("straight to wishlists", direct, "req/s", digits=0),
            Figure("through the gateway", via, "req/s", digits=0),
            Figure(
                "throughput through the gateway",
                ratio,
                "x direct",
                target="≥ 0.8x direct",
                met=ratio.median >= 0.8,
                digits=2,
            ),
            Figure("added p50 latency", added_p50, "ms", digits=2),
            Figure(
                "added p99 latency",
                added_p99,
                "ms",
                target="< 2 ms",
                met=added_p99.median < 2,
                digits=2,
            ),
        ],
    )
