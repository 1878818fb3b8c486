"""Cookie mode: the refresh token in an httpOnly cookie, for browsers that opt in.

A browser app keeps its access token in memory only and its refresh token in
a cookie that no script can read. It opts in on each request with
``X-Refresh-Token-Transport: cookie``; then ``/login`` and ``/refresh``
answer ``refresh_token: null`` and set the ``wishlist_refresh`` cookie, and
``/refresh`` and ``/logout`` read the token from that cookie when the body
has none. Without the header every route speaks the SPEC's JSON contract
(the token in the body both ways) and the cookie is ignored.

The CSRF defence is the header together with ``SameSite=Strict``: a browser
never attaches the cookie to a request started by another site, and even if
it did, a cross-site form or simple request cannot set a custom header (a
script on another origin would need a CORS preflight, which the gateway
grants only to its allow-listed origins). A cookie that arrives without the
header is therefore never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Cookie, Depends, Header, Response
from fastapi.exceptions import RequestValidationError

from auth.api.deps import RuntimeDep
from auth.api.errors import DOMAIN_ERRORS
from auth.api.routes import PREFIX
from auth.api.schemas import LogoutRequest, RefreshRequest, TokensOut
from auth.domain.errors import InvalidRefreshToken
from wishlist_shared.problems import Problem

TRANSPORT_HEADER = "X-Refresh-Token-Transport"
COOKIE_TRANSPORT = "cookie"
"""The header's value (any letter case) that turns cookie mode on."""
COOKIE_NAME = "wishlist_refresh"
COOKIE_PATH = PREFIX
"""Only auth's own routes ever see the cookie, never the other services."""


def _set_cookie(value: str, max_age: int, *, secure: bool) -> str:
    # Written by hand rather than with http.cookies: the attributes come out
    # spelled exactly as documented, and the value (URL-safe base64, or empty)
    # never needs quoting.
    attributes = [
        f"{COOKIE_NAME}={value}",
        "HttpOnly",
        "SameSite=Strict",
        f"Path={COOKIE_PATH}",
        f"Max-Age={max_age}",
    ]
    if secure:
        attributes.append("Secure")
    return "; ".join(attributes)


@dataclass(frozen=True)
class RefreshTransport:
    """How this request's refresh token travels: in the JSON body, or in the cookie."""

    cookie_mode: bool
    cookie: str | None
    max_age: int
    secure: bool
    response: Response
    """The request's response, whose headers FastAPI merges into the route's answer."""

    def presented(self, body: RefreshRequest | LogoutRequest | None) -> str | None:
        """The refresh token the client sent: the body's, else (cookie mode only) the cookie's.

        Outside cookie mode a missing token is the same 422 as before cookie
        mode existed, for clients that never heard of it.
        """
        if body is not None and body.refresh_token is not None:
            return body.refresh_token
        if self.cookie_mode:
            return self.cookie or None
        loc = ("body",) if body is None else ("body", "refresh_token")
        raise RequestValidationError(
            [{"type": "missing", "loc": loc, "msg": "Field required", "input": None}]
        )

    def deliver(self, tokens: TokensOut) -> TokensOut:
        """``tokens`` as the client gets them; in cookie mode the refresh token goes in a cookie."""
        if not self.cookie_mode or tokens.refresh_token is None:
            return tokens
        self.response.headers.append(
            "set-cookie", _set_cookie(tokens.refresh_token, self.max_age, secure=self.secure)
        )
        return tokens.model_copy(update={"refresh_token": None})

    def forget(self, response: Response) -> None:
        """In cookie mode, tells the browser to drop the cookie, on a response the route built."""
        if self.cookie_mode:
            response.headers.append("set-cookie", self._cleared())

    def refused(self) -> Problem:
        """The 401 for a refresh token that did not work; in cookie mode it also drops the cookie.

        A spent, reused or unknown token will never work again: a browser that
        kept it would only send it on every page load.
        """
        error = InvalidRefreshToken()
        headers = {"set-cookie": self._cleared()} if self.cookie_mode else None
        return Problem(DOMAIN_ERRORS[InvalidRefreshToken], str(error), headers=headers)

    def _cleared(self) -> str:
        return _set_cookie("", 0, secure=self.secure)


async def _cookie_mode(
    transport: Annotated[
        str | None,
        Header(
            alias=TRANSPORT_HEADER,
            description=(
                "`cookie`: the refresh token travels in the httpOnly `wishlist_refresh` "
                "cookie instead of the JSON body (browser apps). Absent: JSON only."
            ),
        ),
    ] = None,
) -> bool:
    return transport is not None and transport.strip().lower() == COOKIE_TRANSPORT


CookieMode = Annotated[bool, Depends(_cookie_mode)]


async def get_issuing_transport(
    runtime: RuntimeDep, cookie_mode: CookieMode, response: Response
) -> RefreshTransport:
    # Login reads no refresh token: it never looks at the cookie.
    settings = runtime.settings
    return RefreshTransport(
        cookie_mode=cookie_mode,
        cookie=None,
        max_age=settings.refresh_token_ttl_seconds,
        secure=settings.refresh_cookie_secure,
        response=response,
    )


async def get_refresh_transport(
    runtime: RuntimeDep,
    cookie_mode: CookieMode,
    response: Response,
    cookie: Annotated[
        str | None,
        Cookie(
            alias=COOKIE_NAME,
            description=f"The refresh token; read only with `{TRANSPORT_HEADER}: cookie`.",
        ),
    ] = None,
) -> RefreshTransport:
    settings = runtime.settings
    return RefreshTransport(
        cookie_mode=cookie_mode,
        # Outside cookie mode the cookie is dropped here, so nothing later can read it.
        cookie=cookie if cookie_mode else None,
        max_age=settings.refresh_token_ttl_seconds,
        secure=settings.refresh_cookie_secure,
        response=response,
    )


IssuingTransport = Annotated[RefreshTransport, Depends(get_issuing_transport)]
"""Where a new refresh token goes: the JSON body, or (cookie mode) the cookie."""
RefreshTransportDep = Annotated[RefreshTransport, Depends(get_refresh_transport)]
"""Where this request's refresh token comes from and goes to: body, or cookie."""
