"""The gateway's own Prometheus metrics, beside the request metrics every app has.

They answer the operator's questions that ``http_requests_total`` cannot: is a
service failing behind the gateway, and why are clients being turned away.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

UPSTREAM_RESPONSES = Counter(
    "gateway_upstream_responses_total",
    "Responses received from a service, by status",
    ["service", "status"],
)
UPSTREAM_FAILURES = Counter(
    "gateway_upstream_failures_total",
    "Requests to a service that got no complete response",
    ["service", "kind"],
)
REJECTIONS = Counter(
    "gateway_rejections_total",
    "Requests the gateway answered itself instead of forwarding, by reason",
    ["reason"],
)
DEGRADED = Counter(
    "gateway_degraded_total",
    "Checks skipped because a dependency failed (the request went on without them)",
    ["check"],
)
SOCKETS_OPEN = Gauge(
    "gateway_websockets_open",
    "WebSockets this process is feeding now",
)
NOTIFICATIONS_SENT = Counter(
    "gateway_notifications_sent",
    "Notifications sent to WebSockets (live: pushed through Redis; replay: read back on resume)",
    ["source"],
)
NOTIFICATIONS_DROPPED = Counter(
    "gateway_notifications_dropped",
    "Pushes not sent to a socket (slow_consumer: its queue was full, closed with 4008;"
    " malformed: not a notification)",
    ["reason"],
)
SOCKET_CLOSES = Counter(
    "gateway_websocket_closes_total",
    "WebSockets ended, by close code (4008: resume, 4401: credentials, 1013: unavailable)",
    ["code"],
)
