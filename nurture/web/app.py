"""The FastAPI application, built around a Runtime."""

from __future__ import annotations

from fastapi import FastAPI

from nurture import __version__
from nurture.runtime import Runtime
from nurture.web import errors
from nurture.web.routes import admin, leads, subscriptions, tracking


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="nurture",
        version=__version__,
        description=(
            "Lead-nurturing engine. Authenticate with `Authorization: Bearer <API key>` "
            "(NURTURE_API_KEYS, or the generated key in var/api-key)."
        ),
    )
    app.state.runtime = runtime
    errors.install(app)
    app.include_router(admin.router)
    app.include_router(leads.router)
    app.include_router(subscriptions.router)
    app.include_router(tracking.router)
    return app
