"""The home page: what waits for the signed-in person. Each domain contributes its own panel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from govshare.identity.actor import Actor


@dataclass
class Panel:
    """One box on the dashboard: a title, a count, a link and up to a few lines."""

    title: str
    count: int
    link: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # (text, href)
    tone: str = ""


PanelProvider = Callable[[Session, Actor], list[Panel]]
_providers: list[PanelProvider] = []


def register_panels(provider: PanelProvider) -> PanelProvider:
    _providers.append(provider)
    return provider


def dashboard_context(session: Session, actor: Actor) -> dict[str, Any]:
    panels: list[Panel] = []
    for provider in _providers:
        panels.extend(provider(session, actor))
    return {"panels": panels}
