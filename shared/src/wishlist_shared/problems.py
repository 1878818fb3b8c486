"""RFC 9457 problem details: the one shape of every error the platform returns.

Domain code raises its own exceptions and knows nothing of HTTP; each service
maps them to a status here, in one place, with :func:`install`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from wishlist_shared.outages import RETRY_AFTER_SECONDS, dependency_unavailable

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


# The two shapes above as JSON Schema, for the public OpenAPI document: every
# error is a problem, and a 422 also names the offending fields. Extra members
# are allowed (RFC 9457 lets a problem type add its own).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error, as RFC 9457 problem details.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
}
VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ValidationProblem",
    "description": "A request that failed validation: problem details naming each field.",
    "type": "object",
    "properties": {
        **PROBLEM_SCHEMA["properties"],
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": [*PROBLEM_SCHEMA["required"], "errors"],
}


@dataclass(frozen=True)
class ProblemType:
    """How one kind of error is told to a client."""

    status: int
    slug: str
    title: str

    @property
    def type(self) -> str:
        return f"/problems/{self.slug}"


DEPENDENCY_UNAVAILABLE = ProblemType(503, "dependency-unavailable", "Service Unavailable")
"""PostgreSQL or Redis could not be reached: retry after ``Retry-After`` seconds."""


class Problem(Exception):  # noqa: N818 - it is the problem itself, not a failure of one
    """An error that already knows its HTTP shape; raised by the API layer only."""

    def __init__(
        self,
        problem_type: ProblemType,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.problem_type = problem_type
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    type_: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra or {})
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=MEDIA_TYPE
    )


def _field_name(loc: Sequence[int | str]) -> str:
    # "body" / "query" prefixes say where the field was; the dotted rest names it.
    return ".".join(str(part) for part in loc)


def validation_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    return [
        {"field": _field_name(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in errors
    ]


def install(
    app: FastAPI, domain_errors: Mapping[type[Exception], ProblemType] | None = None
) -> None:
    """Make every error of ``app`` a problem+json response.

    ``domain_errors`` maps a service's domain exceptions (and their subclasses)
    to how they are told; their message becomes ``detail``.
    """

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        pt = exc.problem_type
        return problem_response(
            pt.status, pt.title, exc.detail, type_=pt.type, headers=exc.headers, extra=exc.extra
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        status = HTTPStatus(exc.status_code)
        detail = exc.detail if isinstance(exc.detail, str) else status.description
        return problem_response(
            exc.status_code, status.phrase, detail, headers=getattr(exc, "headers", None)
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc.errors())
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
        return problem_response(
            422,
            "Validation failed",
            detail,
            type_="/problems/validation",
            extra={"errors": errors},
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        if dependency_unavailable(exc):
            # Expected while a server restarts: a line, not a stack trace.
            log.warning("dependency unavailable: %r", exc)
            return problem_response(
                DEPENDENCY_UNAVAILABLE.status,
                DEPENDENCY_UNAVAILABLE.title,
                "A server this request needs cannot be reached right now; try again shortly.",
                type_=DEPENDENCY_UNAVAILABLE.type,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        log.exception("unhandled error", exc_info=exc)
        return problem_response(
            500, "Internal Server Error", "The server could not complete the request."
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_unexpected)

    for exc_type, problem_type in (domain_errors or {}).items():

        async def on_domain(
            request: Request, exc: Exception, pt: ProblemType = problem_type
        ) -> JSONResponse:
            # Every 422 names its fields, as the API document promises; a
            # domain error names its own with ``field`` (else the whole body).
            extra = (
                {"errors": [{"field": getattr(exc, "field", "body"), "message": str(exc)}]}
                if pt.status == 422
                else None
            )
            return problem_response(pt.status, pt.title, str(exc), type_=pt.type, extra=extra)

        app.add_exception_handler(exc_type, on_domain)
