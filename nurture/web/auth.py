"""API key auth: ``Authorization: Bearer <key>``, keys from NURTURE_API_KEYS."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from nurture.runtime import Runtime

bearer = HTTPBearer(auto_error=False, description="An API key from NURTURE_API_KEYS")


def runtime(request: Request) -> Runtime:
    value: Runtime = request.app.state.runtime
    return value


def require_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    keys = runtime(request).settings.api_key_set
    given = credentials.credentials.encode()
    if not any(hmac.compare_digest(given, key.encode()) for key in keys):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="invalid API key",
            headers={"WWW-Authenticate": "Bearer"},
        )


RuntimeDep = Annotated[Runtime, Depends(runtime)]
