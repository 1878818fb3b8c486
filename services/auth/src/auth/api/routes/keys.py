"""``GET /jwks.json``: the public keys that verify access tokens."""

from __future__ import annotations

from fastapi import APIRouter

from auth.api.deps import RuntimeDep
from auth.api.routes import PREFIX
from auth.api.schemas import JWKS

router = APIRouter(prefix=PREFIX, tags=["keys"])


@router.get("/jwks.json")
async def jwks(runtime: RuntimeDep) -> JWKS:
    return JWKS.model_validate(await runtime.keys.jwks())
