"""The reviewed list of routes anyone may reach without signing in. Every other route declares a
permission through ``require``; the route-inventory test holds both lists to that."""

from __future__ import annotations

PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("GET", "/healthz"),
        ("GET", "/api/openapi.json"),
        ("GET", "/api/docs"),
    }
)

PUBLIC_PREFIXES: tuple[str, ...] = ("/static/", "/api/docs-assets/")
