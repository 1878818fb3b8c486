"""The benchmark scenarios, in the order ``make bench`` runs them."""

from harness import Named

from scenarios.event_to_socket import event_to_socket
from scenarios.fan_out import fan_out
from scenarios.gateway_hop import gateway_hop
from scenarios.login import login
from scenarios.outbox_relay import outbox_relay
from scenarios.reads_writes import reads_writes
from scenarios.service_read import service_read
from scenarios.sockets import sockets

SCENARIOS: list[Named] = [
    gateway_hop,
    service_read,
    login,
    reads_writes,
    outbox_relay,
    event_to_socket,
    sockets,
    fan_out,
]
