"""Request and response bodies of the auth API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from auth.domain.users import (
    DISPLAY_NAME_MIN_LENGTH,
    EMAIL_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    User,
    valid_display_name,
    valid_email,
)

# The longest name is part of the event contracts: other services copy names into events.
from wishlist_shared.events import DISPLAY_NAME_MAX_LENGTH

# Passwords are never stripped or otherwise changed: every character counts.
NewPassword = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)]
# Any length up to a bound the hasher can take: a password that cannot be
# right is a wrong password (401), not a malformed request.
GivenPassword = Annotated[str, Field(max_length=1024)]
DisplayName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=DISPLAY_NAME_MIN_LENGTH,
        max_length=DISPLAY_NAME_MAX_LENGTH,
    ),
    AfterValidator(valid_display_name),
]
RegisteredEmail = Annotated[str, Field(max_length=EMAIL_MAX_LENGTH), AfterValidator(valid_email)]
OpaqueToken = Annotated[str, Field(min_length=1, max_length=512)]


class RegisterRequest(BaseModel):
    email: RegisteredEmail
    password: NewPassword
    display_name: DisplayName


class LoginRequest(BaseModel):
    email: Annotated[str, Field(max_length=320)]
    password: GivenPassword


# Optional in the model only for cookie mode; without its header a missing
# token is still a 422 (auth.api.cookies decides).
PresentedToken = Annotated[
    OpaqueToken | None,
    Field(
        description="Required, unless `X-Refresh-Token-Transport: cookie` "
        "lets the `wishlist_refresh` cookie carry it."
    ),
]


class RefreshRequest(BaseModel):
    refresh_token: PresentedToken = None


class LogoutRequest(BaseModel):
    refresh_token: PresentedToken = None


class UpdateMeRequest(BaseModel):
    display_name: DisplayName


class ChangePasswordRequest(BaseModel):
    current_password: GivenPassword
    new_password: NewPassword


class PasswordResetRequest(BaseModel):
    email: RegisteredEmail


class PasswordResetAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    """The same answer whether or not an account has the address."""


class PasswordResetConfirm(BaseModel):
    # Anything up to a bound is a token that does not work (400), not a
    # malformed request: the answer must not say what a real token looks like.
    token: Annotated[str, Field(max_length=1024)]
    new_password: NewPassword


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            created_at=user.created_at,
        )


class AccountExport(BaseModel):
    """Auth's part of a data export."""

    account: UserOut


class TokensOut(BaseModel):
    access_token: str
    refresh_token: Annotated[
        str | None,
        Field(
            description="The next refresh token; null in cookie mode "
            "(`X-Refresh-Token-Transport: cookie`), where the `wishlist_refresh` cookie has it."
        ),
    ]
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    """Seconds until the access token expires."""


class JWK(BaseModel):
    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str


class JWKS(BaseModel):
    keys: list[JWK]
