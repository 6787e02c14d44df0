"""Health, the loaded funnel, and reloading it."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from nurture.web.auth import RuntimeDep, require_api_key
from nurture.web.schemas import FunnelOut, ReloadOut

router = APIRouter(tags=["admin"])


@router.get("/health")
def health(rt: RuntimeDep) -> JSONResponse:
    """Liveness and readiness: the database answers and a funnel is loaded."""
    try:
        with rt.database.unit_of_work(readonly=True) as uow:
            uow.session.execute(text("SELECT 1"))
    except Exception as exc:  # report, don't crash: this is what health checks are for
        return JSONResponse({"status": "error", "database": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok", "funnel_version": rt.funnels.current.version})


@router.get("/v1/funnel", response_model=FunnelOut, dependencies=[Depends(require_api_key)])
def funnel(rt: RuntimeDep) -> FunnelOut:
    """The funnel the engine is running now."""
    current = rt.funnels.current
    return FunnelOut(
        version=current.version,
        stages=list(current.stages),
        initial_stage=current.initial_stage,
        sequences={s.id: list(s.stages) for s in current.sequences.values()},
    )


@router.post("/v1/funnel/reload", response_model=ReloadOut, dependencies=[Depends(require_api_key)])
def reload(rt: RuntimeDep) -> ReloadOut:
    """Load the funnel files again. A bad funnel is refused (422 with every problem) and
    the engine keeps running the last good version."""
    fresh, changed = rt.funnels.reload()
    return ReloadOut(version=fresh.version, changed=changed)
