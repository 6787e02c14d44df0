"""The FastAPI application, built around a Runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nurture import __version__
from nurture.runtime import Runtime
from nurture.web import errors
from nurture.web.routes import (
    admin,
    events,
    handoffs,
    leads,
    reps,
    subscriptions,
    tracking,
    webhooks,
)


def create_app(runtime: Runtime) -> FastAPI:
    """The app over ``runtime``, with the process's one ``Webhooks`` (its SNS certificate
    client is closed on shutdown)."""
    verifier = webhooks.make_webhooks(runtime)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            verifier.close()

    app = FastAPI(
        lifespan=lifespan,
        title="nurture",
        version=__version__,
        description=(
            "Lead-nurturing engine. Authenticate with `Authorization: Bearer <API key>` "
            "(NURTURE_API_KEYS, or the generated key in var/api-key)."
        ),
    )
    app.state.runtime = runtime
    app.state.webhooks = verifier
    errors.install(app)
    app.include_router(admin.router)
    app.include_router(leads.router)
    app.include_router(webhooks.router)
    app.include_router(subscriptions.router)
    app.include_router(tracking.router)
    app.include_router(events.router)
    app.include_router(reps.router)
    app.include_router(handoffs.api)
    app.include_router(handoffs.links)
    return app
