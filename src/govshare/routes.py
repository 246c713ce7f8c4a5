"""Every domain's routers, included in one place."""

from __future__ import annotations

from fastapi import FastAPI


def include_all(app: FastAPI) -> None:
    from govshare.identity import api as identity_api
    from govshare.identity import pages as identity_pages

    app.include_router(identity_api.router, prefix="/api/v1")
    app.include_router(identity_pages.router)
