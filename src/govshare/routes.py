"""Every domain's routers, included in one place."""

from __future__ import annotations

from fastapi import FastAPI


def include_all(app: FastAPI) -> None:
    from govshare.audit import api as audit_api
    from govshare.audit import pages as audit_pages
    from govshare.calendar import api as calendar_api
    from govshare.calendar import pages as calendar_pages
    from govshare.catalog import api as catalog_api
    from govshare.catalog import change_request_api, change_request_pages, topic_api, topic_pages
    from govshare.catalog import excel_api as catalog_excel_api
    from govshare.catalog import excel_pages as catalog_excel_pages
    from govshare.catalog import pages as catalog_pages
    from govshare.catalog import search_api as catalog_search_api
    from govshare.exchange import api as exchange_api
    from govshare.exchange import api_mount_api as exchange_api_mount_api
    from govshare.exchange import api_mount_pages as exchange_api_mount_pages
    from govshare.exchange import file_api as exchange_file_api
    from govshare.exchange import file_pages as exchange_file_pages
    from govshare.exchange import gateway_api as exchange_gateway_api
    from govshare.exchange import pages as exchange_pages
    from govshare.identity import admin_pages as identity_admin_pages
    from govshare.identity import api as identity_api
    from govshare.identity import pages as identity_pages
    from govshare.sharing import application_api as sharing_application_api
    from govshare.sharing import application_pages as sharing_application_pages
    from govshare.sharing import consumer_api as sharing_consumer_api
    from govshare.sharing import data_pages as sharing_data_pages
    from govshare.sharing import grant_api as sharing_grant_api
    from govshare.sharing import grant_pages as sharing_grant_pages
    from govshare.sharing import system_api as sharing_system_api
    from govshare.sharing import system_pages as sharing_system_pages
    from govshare.sharing import usage_api as sharing_usage_api
    from govshare.sharing import usage_pages as sharing_usage_pages
    from govshare.sharing import verification_api as sharing_verification_api
    from govshare.sharing import verification_pages as sharing_verification_pages

    # first: the consumer data API is the busiest route, and routes are matched in order (~20 µs per router)
    sharing_consumer_api.add_rows_route(app)
    app.include_router(sharing_consumer_api.router, prefix="/api/v1")
    app.include_router(identity_api.router, prefix="/api/v1")
    app.include_router(catalog_search_api.router, prefix="/api/v1")
    app.include_router(catalog_api.router, prefix="/api/v1")
    app.include_router(catalog_pages.router)
    app.include_router(change_request_api.router, prefix="/api/v1")
    app.include_router(change_request_pages.router)
    app.include_router(topic_api.router, prefix="/api/v1")
    app.include_router(topic_pages.router)
    app.include_router(catalog_excel_api.router, prefix="/api/v1")
    app.include_router(catalog_excel_pages.router)
    app.include_router(identity_pages.router)
    app.include_router(identity_admin_pages.router)
    app.include_router(audit_api.router, prefix="/api/v1")
    app.include_router(audit_pages.router)
    app.include_router(calendar_api.router, prefix="/api/v1")
    app.include_router(exchange_gateway_api.router, prefix="/api/v1")
    app.include_router(exchange_api_mount_api.router, prefix="/api/v1")
    app.include_router(exchange_api_mount_pages.router)
    app.include_router(exchange_api.router, prefix="/api/v1")
    app.include_router(exchange_pages.router)
    app.include_router(exchange_file_api.router, prefix="/api/v1")
    app.include_router(exchange_file_pages.router)
    app.include_router(calendar_pages.router)
    app.include_router(sharing_application_api.router, prefix="/api/v1")
    app.include_router(sharing_application_pages.router)
    app.include_router(sharing_grant_api.router, prefix="/api/v1")
    app.include_router(sharing_grant_pages.router)
    app.include_router(sharing_consumer_api.people_router, prefix="/api/v1")
    app.include_router(sharing_system_api.router, prefix="/api/v1")
    app.include_router(sharing_system_pages.router)
    app.include_router(sharing_data_pages.router)
    app.include_router(sharing_usage_api.router, prefix="/api/v1")
    app.include_router(sharing_usage_pages.router)
    app.include_router(sharing_verification_api.router, prefix="/api/v1")
    app.include_router(sharing_verification_pages.router)
