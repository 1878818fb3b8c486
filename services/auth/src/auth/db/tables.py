"""Tables of the auth schema (the migrations create them; keep the two in step)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wishlist_shared.outbox import outbox_table

SCHEMA = "auth"
metadata = MetaData(schema=SCHEMA)

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = metadata


class UserRecord(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # Stored in canonical (lower-case) form; the unique index on lower(email)
    # keeps it unique case-insensitively even for rows written another way.
    email: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())

    __table_args__ = (
        CheckConstraint(
            "char_length(display_name) BETWEEN 1 AND 80", name="ck_users_display_name_length"
        ),
        Index("ux_users_email_lower", func.lower(text("email")), unique=True),
    )


class SessionRecord(Base):
    """One login: the family of refresh tokens it issues, revoked as a whole."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    # When its newest refresh token expires; past that the session is over
    # and its rows may be pruned.
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_sessions_user_id", "user_id"),
        # The pruner finds expired sessions by it, oldest first.
        Index("ix_sessions_expires_at", "expires_at"),
        # Restoring the revocation list reads the recently revoked sessions only.
        Index(
            "ix_sessions_revoked_at", "revoked_at", postgresql_where=text("revoked_at IS NOT NULL")
        ),
    )


class RefreshTokenRecord(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    # SHA-256 of the token: a database leak gives no usable token.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    # Spent tokens are kept until they expire: one coming back is a reuse.
    spent_at: Mapped[datetime | None] = mapped_column(Timestamp)

    __table_args__ = (Index("ix_refresh_tokens_session_id", "session_id"),)


class PasswordResetTokenRecord(Base):
    """A password-reset token sent by email; single use, short-lived."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # SHA-256 of the token, as for refresh tokens: a database leak resets no password.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    spent_at: Mapped[datetime | None] = mapped_column(Timestamp)

    __table_args__ = (Index("ix_password_reset_tokens_user_id", "user_id"),)


class SigningKeyRecord(Base):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(Text, primary_key=True)
    algorithm: Mapped[str] = mapped_column(Text, server_default="EdDSA")
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSONB)
    # PKCS#8 PEM encrypted with the service's secret key.
    private_key_pem: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    retired_at: Mapped[datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        # At most one active key, whatever replicas and operators do at once.
        Index(
            "ux_signing_keys_one_active",
            text("(retired_at IS NULL)"),
            unique=True,
            postgresql_where=text("retired_at IS NULL"),
        ),
    )


outbox = outbox_table(metadata)
