"""Traces: off by default; when on, one trace from a request through the outbox to a consumer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
import pytest
from fastapi import FastAPI
from faststream.rabbit import RabbitBroker
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext, SpanKind
from sqlalchemy.ext.asyncio import AsyncSession

from wishlist_shared import tracing
from wishlist_shared.events import Envelope, EventPayload
from wishlist_shared.messaging import EventPublisher, subscribe
from wishlist_shared.outbox import OutboxRelay, add_event
from wishlist_shared.service import create_service_app
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import RelayDatabase


class ThingHappened(EventPayload):
    routing_key: ClassVar[str] = "test.thing_happened.v1"
    n: int


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    """Tracing on for this test; off again afterwards."""
    provider = TracerProvider()
    tracing.use(provider)
    try:
        yield provider
    finally:
        tracing.use(None)
        provider.shutdown()


@pytest.fixture
def spans(provider: TracerProvider) -> InMemorySpanExporter:
    """Every span of the test, kept in memory."""
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def _of_kind(exporter: InMemorySpanExporter, kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is kind]


def _run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_without_an_endpoint_no_exporter_instrumentation_or_tracer_is_even_imported() -> None:
    # (redis-py imports the SDK's metrics part by itself when it is installed.)
    code = (
        "import sys\n"
        "from wishlist_shared import tracing\n"
        "from wishlist_shared.service import create_service_app\n"
        "from wishlist_shared.settings import ServiceSettings\n"
        "from contextlib import asynccontextmanager\n"
        "@asynccontextmanager\n"
        "async def life(app):\n"
        "    yield\n"
        "create_service_app(service='x', settings=ServiceSettings(), lifespan=life, readiness={})\n"
        "print(tracing.enabled(), tracing.current_context_headers(), sorted(m for m in sys.modules"
        " if m.startswith(('opentelemetry.exporter', 'opentelemetry.instrumentation',"
        " 'opentelemetry.sdk.trace'))))\n"
    )
    assert _run_python(code) == "False {} []"


def test_an_endpoint_in_the_settings_or_the_standard_variable_turns_tracing_on() -> None:
    code = (
        "import os\n"
        "from wishlist_shared import tracing\n"
        "from wishlist_shared.settings import ServiceSettings\n"
        "on = tracing.configure('x', ServiceSettings(otel_exporter_otlp_endpoint='http://127.0.0.1:9'))\n"
        "tracing.use(None)\n"
        "os.environ['OTEL_EXPORTER_OTLP_ENDPOINT'] = 'http://127.0.0.1:9'\n"
        "by_env = tracing.configure('x', ServiceSettings())\n"
        "tracing.use(None)\n"
        "os.environ['OTEL_SDK_DISABLED'] = 'true'\n"
        "print(on, by_env, tracing.configure('x', ServiceSettings()))\n"
    )
    assert _run_python(code) == "True True False"


async def test_a_request_gets_a_server_span_whose_context_an_event_carries(
    spans: InMemorySpanExporter,
) -> None:
    app = create_service_app(
        service="things", settings=ServiceSettings(), lifespan=_lifespan, readiness={}
    )
    carried: list[dict[str, str]] = []

    @app.post("/api/v1/things/{thing_id}")
    async def make(thing_id: str) -> None:
        carried.append(tracing.current_context_headers())

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://internal") as client:
        assert (await client.post("/api/v1/things/42")).status_code == 200
        assert (await client.get("/healthz")).status_code == 200

    (server,) = _of_kind(spans, SpanKind.SERVER)
    assert server.name == "POST /api/v1/things/{thing_id}"
    assert server.context is not None
    trace_id, span_id = f"{server.context.trace_id:032x}", f"{server.context.span_id:016x}"
    assert [set(c) for c in carried] == [{"traceparent"}]
    assert carried[0]["traceparent"].startswith(f"00-{trace_id}-{span_id}-")

    # What the relay and a consumer do with those headers, in memory.
    headers = dict(carried[0])
    with tracing.producer_span("publish things", headers, {}):
        pass
    with tracing.consumer_span("process things", headers, {}):
        pass
    (producer,) = _of_kind(spans, SpanKind.PRODUCER)
    (consumer,) = _of_kind(spans, SpanKind.CONSUMER)
    assert producer.parent is not None
    assert producer.parent.span_id == server.context.span_id
    assert producer.context is not None
    assert consumer.parent is not None
    assert consumer.parent.span_id == producer.context.span_id
    assert {producer.context.trace_id, consumer.context.trace_id} == {server.context.trace_id}  # type: ignore[union-attr]


async def test_a_consumer_continues_the_trace_of_the_request_through_outbox_and_rabbitmq(
    spans: InMemorySpanExporter,
    relay_db: RelayDatabase,
    make_broker: Callable[..., RabbitBroker],
    settings: ServiceSettings,
) -> None:
    app = create_service_app(service="things", settings=settings, lifespan=_lifespan, readiness={})

    @app.post("/api/v1/things")
    async def make() -> None:
        async with AsyncSession(relay_db.engine) as session, session.begin():
            await add_event(session, relay_db.outbox, ThingHappened(n=1))

    in_handler: list[SpanContext] = []

    async def handler(envelope: Envelope[ThingHappened]) -> None:
        in_handler.append(trace.get_current_span().get_span_context())

    consumer_broker = make_broker()
    subscribe(
        consumer_broker,
        settings,
        service="things",
        purpose="traced",
        payload_type=ThingHappened,
        handler=handler,
    )
    await consumer_broker.start()
    publisher_broker = make_broker()
    await publisher_broker.start()
    relay = OutboxRelay(
        relay_db.engine, relay_db.outbox, EventPublisher(publisher_broker, settings)
    )
    await relay.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://internal") as client:
            assert (await client.post("/api/v1/things")).status_code == 200
        await eventually(lambda: _of_kind(spans, SpanKind.CONSUMER), timeout=15)
    finally:
        await relay.stop()

    (server,) = _of_kind(spans, SpanKind.SERVER)
    (producer,) = _of_kind(spans, SpanKind.PRODUCER)
    (consumer,) = _of_kind(spans, SpanKind.CONSUMER)
    assert producer.name == f"publish {ThingHappened.routing_key}"
    assert consumer.name == "process things.traced"
    chain: list[Any] = [server, producer, consumer]
    assert {s.context.trace_id for s in chain} == {server.context.trace_id}  # type: ignore[union-attr]
    assert producer.parent.span_id == server.context.span_id  # type: ignore[union-attr]
    assert consumer.parent.span_id == producer.context.span_id  # type: ignore[union-attr]
    # The handler ran inside the consumer's span: what it writes carries the trace on.
    assert [c.span_id for c in in_handler] == [consumer.context.span_id]  # type: ignore[union-attr]


async def test_an_instrumented_client_carries_the_trace_to_the_service_it_calls(
    spans: InMemorySpanExporter, provider: TracerProvider
) -> None:
    received: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(service)) as client:
        tracing.instrument_httpx(client)
        tracer = trace.get_tracer(__name__, tracer_provider=provider)
        with tracer.start_as_current_span("request at the gateway", kind=SpanKind.SERVER):
            await client.get("http://wishlists/api/v1/wishlists")

    (call,) = _of_kind(spans, SpanKind.CLIENT)
    (server,) = _of_kind(spans, SpanKind.SERVER)
    assert call.parent is not None
    assert server.context is not None
    assert call.parent.span_id == server.context.span_id
    trace_id, span_id = f"{call.context.trace_id:032x}", f"{call.context.span_id:016x}"  # type: ignore[union-attr]
    assert received[0].headers["traceparent"].startswith(f"00-{trace_id}-{span_id}-")
