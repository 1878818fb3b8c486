"""OpenTelemetry traces across gateway → service → outbox → RabbitMQ → consumer; off by default.

Tracing is on only when an OTLP/HTTP endpoint is configured: the process
setting ``otel_exporter_otlp_endpoint`` (``<PREFIX>_OTEL_EXPORTER_OTLP_ENDPOINT``)
or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``; ``OTEL_SDK_DISABLED=true`` turns it
off again. The other standard variables (``OTEL_SERVICE_NAME``,
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``, exporter headers and
timeouts) are read by the SDK itself.

When it is off, every function here returns at once and nothing of the SDK,
the exporter or the instrumentations is imported: a process that does not
trace pays nothing for it.

How a trace crosses the bus: :func:`wishlist_shared.outbox.add_event` stores
the request's context (``traceparent``) in the outbox row's headers; the relay
publishes inside a PRODUCER span that continues it and puts its own context in
the message headers; the consumer's CONSUMER span continues from those, and
the events its handler writes carry that context on. Pushes of the notifier go
through the same outbox, so they are traced the same way.
"""

# Imports of OpenTelemetry are inside the functions on purpose: off, none loads.
# ruff: noqa: PLC0415

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from wishlist_shared.settings import ProcessSettings

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from opentelemetry.trace import TracerProvider

TRACES_PATH = "/v1/traces"
"""Appended to ``otel_exporter_otlp_endpoint``, as the standard variable's rule is."""
PROPAGATED_HEADERS = ("traceparent", "tracestate")
"""W3C trace context headers carried by outbox rows and messages."""

# Probes and scrapes every few seconds would drown the traces that matter.
_EXCLUDED_URLS = r"/(healthz|readyz|metrics)$"

_provider: TracerProvider | None = None


def enabled() -> bool:
    """True when this process records and exports spans."""
    return _provider is not None


def endpoint_configured(settings: ProcessSettings) -> bool:
    """Whether the settings or the standard OTEL_* variables ask for traces."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return bool(
        settings.otel_exporter_otlp_endpoint
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure(service: str, settings: ProcessSettings) -> bool:
    """Turns tracing on for this process when an endpoint is configured; True when on.

    Once per process: the first app created decides (tests create many apps in
    one process, all alike).
    """
    if _provider is not None:
        return True
    if not endpoint_configured(settings):
        return False
    # Imported here, not at the top: a process without tracing never loads them.
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    base = settings.otel_exporter_otlp_endpoint.rstrip("/")
    # None lets the exporter read OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT itself.
    exporter = OTLPSpanExporter(endpoint=base + TRACES_PATH if base else None)
    # OTEL_SERVICE_NAME, when set, names the process instead (the SDK reads it).
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service}
    provider = SdkTracerProvider(resource=Resource.create(attributes))
    # Batched and in the background: a slow collector never delays a request.
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    use(provider)
    return True


def use(provider: TracerProvider | None) -> None:
    """Sends this process's spans to ``provider``; None turns tracing off.

    :func:`configure` calls it; tests call it with a provider that exports to
    memory, and with None afterwards.
    """
    global _provider  # noqa: PLW0603 - one tracing switch per process, like logging's
    _provider = provider


def instrument_app(app: FastAPI) -> None:
    """Gives every HTTP request (and WebSocket) of ``app`` a SERVER span; nothing when off."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_provider,
        excluded_urls=_EXCLUDED_URLS,
        # A span per ASGI message would bury the request's own span.
        exclude_spans=["receive", "send"],
    )


def instrument_httpx(client: httpx.AsyncClient) -> None:
    """Gives every request of ``client`` a CLIENT span and a ``traceparent``; nothing when off."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=_provider)


def current_context_headers() -> dict[str, str]:
    """The current span's context as headers (``traceparent``), to store with an event."""
    if _provider is None:
        return {}
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def _carrier(headers: Mapping[str, Any]) -> dict[str, str]:
    # AMQP headers may arrive as bytes; the propagator wants text.
    carrier: dict[str, str] = {}
    for name in PROPAGATED_HEADERS:
        value = headers.get(name)
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, str):
            carrier[name] = value
    return carrier


@contextlib.contextmanager
def producer_span(
    name: str, headers: dict[str, str], attributes: Mapping[str, str]
) -> Iterator[None]:
    """A PRODUCER span continuing the trace in ``headers``, which then carry the span itself.

    ``headers`` is changed in place, so what is published names this span as
    the consumer's parent.
    """
    if _provider is None:
        yield
        return
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind

    parent = propagate.extract(_carrier(headers))
    tracer = _provider.get_tracer(__name__)
    with tracer.start_as_current_span(
        name, context=parent, kind=SpanKind.PRODUCER, attributes=dict(attributes)
    ):
        propagate.inject(headers)
        yield


@contextlib.contextmanager
def consumer_span(
    name: str, headers: Mapping[str, Any], attributes: Mapping[str, str]
) -> Iterator[None]:
    """A CONSUMER span continuing the producer's trace from a message's ``headers``."""
    if _provider is None:
        yield
        return
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind

    parent = propagate.extract(_carrier(headers))
    tracer = _provider.get_tracer(__name__)
    with tracer.start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, attributes=dict(attributes)
    ):
        yield
