"""How each domain error is told to a client (RFC 9457 problem details).

Everything the caller may not see is one 404 per kind of resource, worded the
same whether it does not exist or is someone else's.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from wishlist_shared.problems import ProblemType, problem_response
from wishlists.domain.errors import (
    AlreadyReserved,
    GroupOwnerStays,
    InvalidInput,
    ItemReceived,
    LimitReached,
    LinkUnreadable,
    NotEnoughLeft,
    NotFound,
    NotGroupOwner,
    NotOwner,
    NotYourSuggestion,
    OwnerCannotReserve,
    OwnerCannotSuggest,
    RevealBeforeOccasion,
    UrlNotAllowed,
)

DOMAIN_ERRORS: dict[type[Exception], ProblemType] = {
    NotFound: ProblemType(404, "not-found", "Not Found"),
    NotOwner: ProblemType(403, "not-owner", "Forbidden"),
    OwnerCannotReserve: ProblemType(403, "owner-cannot-reserve", "Forbidden"),
    NotEnoughLeft: ProblemType(409, "not-enough-left", "Not enough left"),
    AlreadyReserved: ProblemType(409, "already-reserved", "Already reserved"),
    LimitReached: ProblemType(409, "limit-reached", "Limit reached"),
    NotGroupOwner: ProblemType(403, "not-group-owner", "Forbidden"),
    GroupOwnerStays: ProblemType(409, "group-owner-stays", "Group owner stays"),
    OwnerCannotSuggest: ProblemType(403, "owner-cannot-suggest", "Forbidden"),
    NotYourSuggestion: ProblemType(403, "not-your-suggestion", "Forbidden"),
    ItemReceived: ProblemType(409, "item-received", "Item received"),
    RevealBeforeOccasion: ProblemType(409, "reveal-before-occasion", "Before the occasion"),
    UrlNotAllowed: ProblemType(422, "url-not-allowed", "URL not allowed"),
    # 502 as a gateway says it: the link's server failed, not this one. The
    # gateway and nginx pass a service's 502 on unchanged.
    LinkUnreadable: ProblemType(502, "link-unreadable", "Link unreadable"),
}


async def _invalid_input(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInput)
    # The same shape as a request that failed pydantic's validation.
    return problem_response(
        422,
        "Validation failed",
        str(exc),
        type_="/problems/validation",
        extra={"errors": [{"field": e.field, "message": e.message} for e in exc.errors]},
    )


def install(app: FastAPI) -> None:
    """Adds the handler of rule violations across fields (``DOMAIN_ERRORS`` go elsewhere)."""
    app.add_exception_handler(InvalidInput, _invalid_input)
