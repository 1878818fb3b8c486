"""Prometheus metrics of the shared plumbing: outbox relays, event consumers, readiness.

Every process serves them on ``/metrics`` beside the request metrics of
:mod:`wishlist_shared.health`. Labels stay few and bounded: ``outbox`` is the
schema of the outbox (one per service), ``queue`` a consumer's queue without
the environment's prefix (``notifier.item_added``), never an id.
``docs/operations.md`` says what each one means and which alert watches it.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Seconds, from "at once" to "an outage": an event's way through the platform.
_LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)

OUTBOX_PENDING = Gauge(
    "outbox_pending_events",
    "Events in the outbox not yet published (sampled by the relay)",
    ["outbox"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_pending_age_seconds",
    "Age of the oldest event not yet published, 0 when none (sampled by the relay)",
    ["outbox"],
)
OUTBOX_PARKED = Gauge(
    "outbox_parked_events",
    "Events in the outbox the destination refused too often, set aside until re-driven "
    "(sampled by the relay)",
    ["outbox"],
)
OUTBOX_PUBLISHED = Counter(
    "outbox_events_published",
    "Outbox events published (RabbitMQ confirmed them, or Redis took the push)",
    ["outbox"],
)
OUTBOX_FAILURES = Counter(
    "outbox_publish_failures",
    "Attempts to publish an outbox event that failed (the event stays pending)",
    ["outbox"],
)
OUTBOX_DELAY = Histogram(
    "outbox_publish_delay_seconds",
    "Time from an event's transaction to its publication",
    ["outbox"],
    buckets=_LAG_BUCKETS,
)

CONSUMER_HANDLED = Counter(
    "consumer_messages_handled",
    "Messages whose handler succeeded and that were acknowledged",
    ["queue"],
)
CONSUMER_FAILURES = Counter(
    "consumer_handler_failures",
    "Handler attempts that raised (each retry counts)",
    ["queue"],
)
CONSUMER_REDELIVERED = Counter(
    "consumer_messages_redelivered",
    "Messages RabbitMQ delivered again (an earlier delivery was never settled)",
    ["queue"],
)
CONSUMER_DEAD_LETTERED = Counter(
    "consumer_messages_dead_lettered",
    "Messages sent to the dead-letter queue (invalid: not a valid event; oversized: "
    "larger than the limit; failed: retries spent)",
    ["queue", "reason"],
)
DEAD_LETTER_MESSAGES = Gauge(
    "dead_letter_queue_messages",
    "Messages waiting in the dead-letter queue of one of this service's queues "
    "(sampled by the service every few seconds)",
    ["queue"],
)
CONSUMER_DURATION = Histogram(
    "consumer_handling_duration_seconds",
    "Time from a message's delivery to its acknowledgement or rejection, retries included",
    ["queue"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CONSUMER_LAG = Histogram(
    "consumer_event_lag_seconds",
    "Time from an event's occurrence (its occurred_at) to its handling here: the consumer lag",
    ["queue"],
    buckets=_LAG_BUCKETS,
)

READINESS = Gauge(
    "readiness_check_up",
    "1 when the named readiness check passed at the last /readyz, 0 when it failed",
    ["check"],
)

CONSUMERS_PAUSED = Gauge(
    "consumers_paused",
    "1 while this process's consumers take no deliveries because a dependency of "
    "their handlers (its database, Redis, SMTP) is unavailable, else 0",
)
CONSUMER_WAITING = Gauge(
    "consumer_messages_waiting_on_dependency",
    "Deliveries held unacknowledged while their handler waits for a dependency to answer",
    ["queue"],
)
CONSUMER_DEPENDENCY_FAILURES = Counter(
    "consumer_dependency_failures",
    "Handler attempts that failed because a dependency was unavailable "
    "(waited out: not counted toward dead-lettering, nor in consumer_handler_failures)",
    ["queue"],
)
CONSUMER_RELEASED = Counter(
    "consumer_messages_released",
    "Deliveries held so long during a dependency outage that they were put back at the "
    "queue's tail (a copy published, the original acknowledged) before RabbitMQ's "
    "consumer_timeout; not a failure, no delivery counted",
    ["queue"],
)
