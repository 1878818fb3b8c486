"""The benchmark scenarios, in the order ``make bench`` runs them."""

from harness import Named

from scenarios.gateway_hop import gateway_hop

SCENARIOS: list[Named] = [gateway_hop]
