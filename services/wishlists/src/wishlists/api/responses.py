"""A model answered as JSON bytes in one step.

A route that returns a pydantic model has FastAPI check it against the
response model again, turn it into plain data and encode that: three passes
over an answer the route has just built and checked. For the hottest reads
the route declares ``response_model`` (the OpenAPI document stays the same)
and returns this instead, which pydantic's serialiser writes once.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


class JsonModelResponse(Response):
    media_type = "application/json"

    def __init__(self, model: BaseModel, status_code: int = 200) -> None:
        super().__init__(model.model_dump_json().encode(), status_code=status_code)
