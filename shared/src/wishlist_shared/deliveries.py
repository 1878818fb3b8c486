"""Deliveries that did not go through, for operators: parked outbox rows and dead letters.

Two ways an event can stop on its way, each kept rather than lost:

- a row of a service's outbox that the destination refused too often is
  *parked* (:mod:`wishlist_shared.outbox`); the rows after it flow on;
- a message a consumer gave up on is in its queue's dead-letter queue
  ``<queue>.dlq`` (:mod:`wishlist_shared.messaging`).

This module lists, shows and sends them on again, once their cause is fixed:
``python -m wishlist_shared.deliveries --help`` (``docs/operations.md`` has
the walk-through). The functions are what the command runs; the soak and the
fault suite check with them that nothing was left behind, and each service
samples the depth of its dead-letter queues with :class:`DeadLetterSampler`.

Re-driving a parked row makes it pending again, so the relay publishes it
once; a row already re-driven (or never parked) is left alone, so running the
command twice publishes nothing twice. Replaying dead letters is safe for the
same reason any redelivery is: consumers deduplicate on the event's id.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from faststream.rabbit import RabbitBroker
from sqlalchemy import MetaData, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from wishlist_shared.db import engine as db
from wishlist_shared.messaging import create_broker, dead_letter_queue_name
from wishlist_shared.metrics import DEAD_LETTER_MESSAGES
from wishlist_shared.outbox import PARKED, PENDING, notify_channel, outbox_table
from wishlist_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

CONSUMING_SERVICES = ("wishlists", "notifier")
"""Services with queues of their own (auth only publishes)."""
SERVICES = ("auth", *CONSUMING_SERVICES)
CONNECT_TIMEOUT_SECONDS = 30

# Headers RabbitMQ adds when it dead-letters; a replayed message starts afresh.
_DEATH_HEADERS = frozenset(
    {
        "x-death",
        "x-delivery-count",
        "x-first-death-exchange",
        "x-first-death-queue",
        "x-first-death-reason",
        "x-last-death-exchange",
        "x-last-death-queue",
        "x-last-death-reason",
    }
)
_SAMPLE_EVERY = 5.0


# --- parked outbox rows -------------------------------------------------------


@dataclass(frozen=True)
class ParkedRow:
    id: int
    event_id: str
    routing_key: str
    attempts: int
    refusals: int
    last_error: str | None
    created_at: datetime
    parked_at: datetime | None
    body: dict[str, Any]
    headers: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """What ``parked list`` prints per row: everything but the body and headers."""
        return {
            "id": self.id,
            "event_id": self.event_id,
            "routing_key": self.routing_key,
            "attempts": self.attempts,
            "refusals": self.refusals,
            "parked_at": self.parked_at.isoformat() if self.parked_at else None,
            "last_error": self.last_error,
        }

    def detail(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "created_at": self.created_at.isoformat(),
            "headers": self.headers,
            "body": self.body,
        }


def service_outbox(service: str) -> Table:
    """The outbox of ``service``, whose schema is named after it."""
    return outbox_table(MetaData(schema=service))


def _parked(table: Table) -> Any:
    t = table.c
    return select(
        t.id,
        t.event_id,
        t.routing_key,
        t.attempts,
        t.refusals,
        t.last_error,
        t.created_at,
        t.parked_at,
        t.body,
        t.headers,
    ).where(t.state == PARKED)


def _row(row: Any) -> ParkedRow:
    return ParkedRow(
        id=row.id,
        event_id=str(row.event_id),
        routing_key=row.routing_key,
        attempts=row.attempts,
        refusals=row.refusals,
        last_error=row.last_error,
        created_at=row.created_at,
        parked_at=row.parked_at,
        body=dict(row.body),
        headers=dict(row.headers),
    )


async def parked_rows(engine: AsyncEngine, table: Table, *, limit: int = 100) -> list[ParkedRow]:
    """The parked rows of ``table``, oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(_parked(table).order_by(table.c.id).limit(limit))
        return [_row(r) for r in rows]


async def parked_row(engine: AsyncEngine, table: Table, row_id: int) -> ParkedRow | None:
    async with engine.connect() as conn:
        row = (await conn.execute(_parked(table).where(table.c.id == row_id))).first()
    return _row(row) if row is not None else None


async def parked_count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(select(func.count()).where(table.c.state == PARKED))
    return int(count or 0)


async def redrive(engine: AsyncEngine, table: Table, row_ids: Sequence[int] | None = None) -> int:
    """Makes parked rows pending again (``None``: all of them); returns how many.

    Their refusals start again from 0, so a cause that was not fixed parks
    them again after as many refusals. Only parked rows change: a row already
    re-driven or published is not published again.
    """
    t = table.c
    statement = (
        update(table)
        .where(t.state == PARKED)
        .values(state=PENDING, refusals=0, parked_at=None)
        .returning(t.id)
    )
    if row_ids is not None:
        statement = statement.where(t.id.in_(list(row_ids)))
    async with engine.begin() as conn:
        moved = len((await conn.execute(statement)).all())
        if moved:
            # Wakes the relay at commit, as a new event would.
            await conn.execute(select(func.pg_notify(notify_channel(table), "")))
    log.info("re-drove %d parked row(s) of %s's outbox", moved, table.schema)
    return moved


# --- dead letters -------------------------------------------------------------


def consumer_queues(broker: RabbitBroker) -> list[str]:
    """The consumer queues ``broker`` subscribes to (without their dead-letter queues)."""
    names = {subscriber.queue.name for subscriber in broker.subscribers}  # type: ignore[attr-defined]
    return sorted(name for name in names if not name.endswith(".dlq"))


def platform_queues(
    settings: ServiceSettings, services: Iterable[str] = CONSUMING_SERVICES
) -> list[str]:
    """Every consumer queue of the platform's ``services``, as their own code declares them.

    AMQP cannot list queues, so the names come from each service's
    ``events.consumers.subscribe_all`` run against a broker that never connects.
    """
    queues: list[str] = []
    for service in services:
        consumers = importlib.import_module(f"{service}.events.consumers")
        # Its defaults, not its environment: run from another service's
        # container, this one's secrets are not there to validate.
        service_settings = importlib.import_module(f"{service}.settings").Settings.model_construct(
            rabbitmq_url=settings.rabbitmq_url,
            events_exchange=settings.events_exchange,
            queue_prefix=settings.queue_prefix,
        )
        broker = create_broker(service_settings, service=service)
        # The handlers are never called: no session is ever opened.
        consumers.subscribe_all(broker, service_settings, async_sessionmaker())
        queues += consumer_queues(broker)
    return sorted(queues)


@contextlib.asynccontextmanager
async def _connection(settings: ServiceSettings) -> AsyncIterator[AbstractConnection]:
    # A broker busy with many queues can take seconds to answer a handshake;
    # an operator's command waits for it rather than reporting a failure.
    connection = await aio_pika.connect(settings.rabbitmq_url, timeout=CONNECT_TIMEOUT_SECONDS)
    async with connection:
        yield connection


async def _depth(connection: AbstractConnection, queue: str) -> int | None:
    """Ready messages in ``queue``; None when it does not exist."""
    # A passive declaration of a missing queue closes its channel: one each.
    channel = await connection.channel()
    try:
        declared = await channel.declare_queue(queue, passive=True)
    except aiormq.exceptions.ChannelNotFoundEntity:
        return None
    finally:
        if not channel.is_closed:
            await channel.close()
    return declared.declaration_result.message_count or 0


async def queue_depths(settings: ServiceSettings, queues: Iterable[str]) -> dict[str, int | None]:
    """Ready messages in each of ``queues`` (None: no such queue), from passive declarations."""
    async with _connection(settings) as connection:
        return {queue: await _depth(connection, queue) for queue in queues}


async def dead_letter_depths(settings: ServiceSettings, queues: Iterable[str]) -> dict[str, int]:
    """Messages in the dead-letter queue of each of ``queues``; a missing one holds 0."""
    depths = await queue_depths(settings, [dead_letter_queue_name(q) for q in queues])
    return {name.removesuffix(".dlq"): depth or 0 for name, depth in depths.items()}


def _describe(message: AbstractIncomingMessage) -> dict[str, Any]:
    try:
        body: Any = json.loads(message.body)
    except ValueError:
        body = message.body.decode("utf-8", "replace")
    headers = dict(message.headers or {})
    return {
        "message_id": message.message_id,
        "type": message.type,
        "correlation_id": message.correlation_id,
        "app_id": message.app_id,
        "reason": headers.get("x-first-death-reason"),
        "headers": json.loads(json.dumps(headers, default=str)),
        "body": body,
    }


async def peek_dead_letters(
    settings: ServiceSettings, queue: str, *, limit: int = 10
) -> list[dict[str, Any]]:
    """The first ``limit`` messages of ``queue``'s dead-letter queue, left where they are.

    They are taken unacknowledged and given back when the channel closes, so
    nothing leaves the queue (their delivery count goes up by one).
    """
    queue = queue.removesuffix(".dlq")
    async with _connection(settings) as connection:
        channel: AbstractChannel = await connection.channel()
        dead = await channel.declare_queue(dead_letter_queue_name(queue), passive=True)
        seen: list[dict[str, Any]] = []
        while len(seen) < limit:
            message = await dead.get(no_ack=False, fail=False)
            if message is None:
                break
            seen.append(_describe(message))
        await channel.close()
    return seen


def _replayed(message: AbstractIncomingMessage) -> aio_pika.Message:
    headers = {k: v for k, v in (message.headers or {}).items() if k not in _DEATH_HEADERS}
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        priority=message.priority,
        correlation_id=message.correlation_id,
        message_id=message.message_id,
        timestamp=message.timestamp,
        type=message.type,
        app_id=message.app_id,
    )


async def replay_dead_letters(
    settings: ServiceSettings, queue: str, limit: int | None = None
) -> int:
    """Moves messages from ``<queue>.dlq`` back to ``queue``, oldest first; returns how many.

    Each message is acknowledged on the dead-letter queue only after RabbitMQ
    confirmed it on the main queue, so a failure midway loses nothing (at worst
    a message is in both). Only the messages there at the start are moved: one
    that fails again while this runs waits for the next replay.
    """
    queue = queue.removesuffix(".dlq")
    connection = await aio_pika.connect(settings.rabbitmq_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        # Passive declarations: replaying into a queue that does not exist is a
        # mistake to report, not something to create.
        await channel.declare_queue(queue, passive=True)
        dead = await channel.declare_queue(dead_letter_queue_name(queue), passive=True)
        waiting = dead.declaration_result.message_count or 0
        budget: int = waiting if limit is None else min(limit, waiting)
        moved = 0
        while moved < budget:
            message = await dead.get(no_ack=False, fail=False)
            if message is None:
                break
            await channel.default_exchange.publish(_replayed(message), routing_key=queue)
            await message.ack()
            moved += 1
    log.info("replayed %d dead letters into %s", moved, queue)
    return moved


class DeadLetterSampler:
    """Sets ``dead_letter_queue_messages`` for a service's queues every few seconds.

    Its own connection, opened when needed and dropped on any failure: a
    RabbitMQ that is away costs a warning now and then, never the service.
    """

    def __init__(
        self, settings: ServiceSettings, queues: Sequence[str], *, every: float = _SAMPLE_EVERY
    ) -> None:
        self.settings = settings
        self.queues = list(queues)
        self.every = every
        self.failures = 0
        """Rounds failed in a row (RabbitMQ away); 0 once a round succeeds."""

    @classmethod
    def of(cls, broker: RabbitBroker, settings: ServiceSettings) -> DeadLetterSampler:
        """A sampler of the queues ``broker`` subscribes to (call after subscribing)."""
        return cls(settings, consumer_queues(broker))

    async def sample(self, connection: AbstractConnection) -> None:
        for queue in self.queues:
            depth = await _depth(connection, dead_letter_queue_name(queue))
            label = queue.removeprefix(self.settings.queue_prefix)
            DEAD_LETTER_MESSAGES.labels(label).set(depth or 0)

    async def _run(self) -> None:
        while True:
            try:
                async with _connection(self.settings) as connection:
                    while True:
                        await self.sample(connection)
                        self.failures = 0
                        await asyncio.sleep(self.every)
            except Exception as exc:  # noqa: BLE001 - the gauges keep their last value
                self.failures += 1
                if self.failures == 1:
                    log.warning("sampling dead-letter queues failed: %r", exc)
            await asyncio.sleep(self.every)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Samples in the background for the body of the ``with``."""
        if not self.queues:
            yield
            return
        task = asyncio.create_task(self._run(), name="dead-letter-sampler")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def watch_dead_letters(
    broker: RabbitBroker, settings: ServiceSettings
) -> contextlib.AbstractAsyncContextManager[None]:
    """``async with watch_dead_letters(broker, settings):`` in a service's lifespan."""
    return DeadLetterSampler.of(broker, settings).running()


# --- the command --------------------------------------------------------------


def _print(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")


def _settings(args: argparse.Namespace) -> ServiceSettings:
    settings = ServiceSettings()
    update: dict[str, Any] = {}
    if args.rabbitmq_url:
        update["rabbitmq_url"] = args.rabbitmq_url
    if args.queue_prefix is not None:
        update["queue_prefix"] = args.queue_prefix
    return settings.model_copy(update=update)


async def _parked_command(args: argparse.Namespace) -> int:
    url = args.database_url or os.environ.get(
        f"{args.service.upper()}_DATABASE_URL", db.default_database_url(args.service)
    )
    engine = db.create_engine(url, args.service, pool_size=1)
    table = service_outbox(args.service)
    try:
        if args.action == "list":
            _print([row.summary() for row in await parked_rows(engine, table, limit=args.limit)])
        elif args.action == "show":
            row = await parked_row(engine, table, args.id)
            if row is None:
                sys.stderr.write(f"no parked row {args.id} in {args.service}'s outbox\n")
                return 1
            _print(row.detail())
        else:
            if args.all == (args.id is not None):
                sys.stderr.write("redrive takes a row id or --all\n")
                return 2
            moved = await redrive(engine, table, None if args.all else [args.id])
            sys.stdout.write(f"re-drove {moved} parked row(s) of {args.service}'s outbox\n")
            if not args.all and moved == 0:
                return 1
    finally:
        await engine.dispose()
    return 0


async def _dead_letters_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.action == "list":
        queues = args.queue or platform_queues(settings)
        depths = await dead_letter_depths(settings, queues)
        _print({dead_letter_queue_name(q): n for q, n in depths.items()})
    elif args.action == "show":
        _print(await peek_dead_letters(settings, args.queue, limit=args.limit))
    else:
        moved = await replay_dead_letters(settings, args.queue, args.limit)
        sys.stdout.write(f"moved {moved} message(s) back to {args.queue.removesuffix('.dlq')}\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wishlist_shared.deliveries",
        description="Show and send on again parked outbox rows and dead-lettered messages.",
    )
    kinds = parser.add_subparsers(dest="kind", required=True)

    parked = kinds.add_parser("parked", help="outbox rows the destination refused too often")
    parked_actions = parked.add_subparsers(dest="action", required=True)
    for name, text in (
        ("list", "list a service's parked rows"),
        ("show", "one parked row: body, headers, error, attempts"),
        ("redrive", "make parked rows pending again (once the cause is fixed)"),
    ):
        action = parked_actions.add_parser(name, help=text)
        action.add_argument(
            "--service",
            required=True,
            help=f"whose outbox: {', '.join(SERVICES)} (the schema of the same name)",
        )
        action.add_argument(
            "--database-url",
            default=None,
            help="default: $<SERVICE>_DATABASE_URL, else the local default",
        )
        if name == "list":
            action.add_argument("--limit", type=int, default=100)
        elif name == "show":
            action.add_argument("id", type=int)
        else:
            action.add_argument("id", type=int, nargs="?")
            action.add_argument("--all", action="store_true", help="every parked row")

    dead = kinds.add_parser("dead-letters", help="messages consumers gave up on")
    dead_actions = dead.add_subparsers(dest="action", required=True)
    for name, text in (
        ("list", "the dead-letter queues and how many messages each holds"),
        ("show", "the first messages of a dead-letter queue, left in it"),
        ("replay", "move a queue's dead letters back to it, oldest first"),
    ):
        action = dead_actions.add_parser(name, help=text)
        action.add_argument(
            "--rabbitmq-url", default=None, help="default: $RABBITMQ_URL, else the local default"
        )
        action.add_argument("--queue-prefix", default=None, help="default: $QUEUE_PREFIX")
        if name == "list":
            action.add_argument(
                "queue", nargs="*", help="consumer queues (default: every queue of the platform)"
            )
        else:
            action.add_argument(
                "queue", help="the consumer's queue (its '.dlq' suffix is optional)"
            )
            action.add_argument(
                "--limit",
                type=int,
                default=10 if name == "show" else None,
                help="at most this many" + (" (default 10)" if name == "show" else ""),
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m wishlist_shared.deliveries {parked,dead-letters} {list,show,...}``."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    command = _parked_command if args.kind == "parked" else _dead_letters_command
    return asyncio.run(command(args))


if __name__ == "__main__":
    sys.exit(main())
