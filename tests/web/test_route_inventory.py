"""Deny by default (A31.1): every route either declares a permission through ``deps.require`` or is on
the reviewed public list in ``govshare.web.public``. A route added without one fails here, by name."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount

from govshare.web.public import PUBLIC_PREFIXES, PUBLIC_ROUTES


def _permissions(dependant: Dependant) -> set[str]:
    """Every ``__permission__`` found on the route's dependencies, however deeply nested."""
    found: set[str] = set()
    call: Any = dependant.call
    marker = getattr(call, "__permission__", None)
    if marker is not None:
        found.add(str(marker))
    for sub in dependant.dependencies:
        found |= _permissions(sub)
    return found


def _is_public(method: str, path: str) -> bool:
    return (method, path) in PUBLIC_ROUTES or path.startswith(PUBLIC_PREFIXES)


def _routes(app: FastAPI) -> list[tuple[str, str, Dependant | None, str]]:
    """(method, full path, effective dependant, endpoint name) for every route, routers included.

    FastAPI includes routers lazily; ``iter_route_contexts`` gives each route as mounted, with the
    include-level dependencies merged into its dependant.
    """
    out: list[tuple[str, str, Dependant | None, str]] = []
    for ctx in iter_route_contexts(app.routes):
        original = ctx.original_route
        if isinstance(original, Mount):
            out.append(("MOUNT", original.path, None, "mounted app"))
            continue
        dependant = ctx.dependant if isinstance(original, APIRoute) else None
        endpoint = ctx.endpoint
        name = f"{endpoint.__module__}.{endpoint.__name__}" if endpoint is not None else "?"
        for method in sorted(ctx.methods or ()):
            if method != "HEAD":
                out.append((method, str(ctx.path), dependant, name))
    return out


def _inventory(app: FastAPI) -> tuple[list[str], list[str], int]:
    offenders: list[str] = []
    stale_public: list[str] = []
    checked = 0
    for method, path, dependant, name in _routes(app):
        if method == "MOUNT":
            if not (path + "/").startswith(PUBLIC_PREFIXES):
                offenders.append(f"MOUNT {path} (mounted app outside the public prefixes)")
            continue
        checked += 1
        perms = _permissions(dependant) if dependant is not None else set()
        public = _is_public(method, path)
        if not perms and not public:
            offenders.append(f"{method} {path} ({name})")
        if perms and (method, path) in PUBLIC_ROUTES:
            stale_public.append(f"{method} {path} declares {sorted(perms)} but is listed as public")
    return offenders, stale_public, checked


@pytest.mark.article("A31.1")
def test_every_route_declares_a_permission_or_is_reviewed_public(app: FastAPI) -> None:
    offenders, stale_public, checked = _inventory(app)
    assert checked > 50, "the inventory found suspiciously few routes"
    assert not offenders, "routes without require(Permission.X) and not in web/public.py:\n" + "\n".join(offenders)
    assert not stale_public, "\n".join(stale_public)


def test_public_list_names_only_real_routes(app: FastAPI) -> None:
    real = {(method, path) for method, path, _, _ in _routes(app)}
    assert real >= PUBLIC_ROUTES, f"public entries with no route: {sorted(PUBLIC_ROUTES - real)}"


def test_the_inventory_catches_an_unprotected_route(app: FastAPI) -> None:
    """The check itself can fail: an added route without a permission is reported by name."""

    @app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    offenders, _, _ = _inventory(app)
    assert any("GET /api/v1/forgotten" in o for o in offenders)
