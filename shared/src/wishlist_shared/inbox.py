"""The inbox: which events a consumer has already applied, so a redelivery has no second effect.

A consumer claims the event's id with :func:`claim` in the same transaction as
its effect. Both commit together or neither does, so "recorded as handled" and
"effect applied" can never disagree, whatever crashes in between.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Column, DateTime, MetaData, PrimaryKeyConstraint, Table, Text, func
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession


def inbox_table(metadata: MetaData) -> Table:
    """The ``inbox`` table in ``metadata.schema``; migrations create the same shape by hand."""
    return Table(
        "inbox",
        metadata,
        Column("consumer", Text, nullable=False),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id", name="inbox_pkey"),
    )


async def claim(session: AsyncSession, table: Table, consumer: str, event_id: uuid.UUID) -> bool:
    """Records that ``consumer`` handles ``event_id``; False when it already did (skip the effect).

    ``consumer`` names the handler, stable across deployments and without the
    environment's queue prefix (``"notifier.user_registered"``): two handlers
    of one event each apply it once. Call it inside the transaction that
    applies the effect. A replica handling the same event at the same moment
    waits on the primary key until this transaction ends, then gets False if
    it committed, True if it rolled back.
    """
    result = await session.execute(
        insert(table)
        .values(consumer=consumer, event_id=event_id)
        .on_conflict_do_nothing(index_elements=[table.c.consumer, table.c.event_id])
        .returning(table.c.event_id)
    )
    return result.first() is not None
