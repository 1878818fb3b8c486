"""Single statements that need no transaction around them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


async def without_transaction(session: AsyncSession) -> None:
    """Runs the session's next statements in autocommit, to be called first inside
    ``session.begin()``.

    One read on its own is consistent without a transaction; autocommit spares
    its BEGIN and COMMIT, two of its three round trips. The connection's usual
    isolation comes back when it returns to the pool at the end of the block.
    """
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
