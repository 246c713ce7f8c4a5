"""Consumer systems (应用系统, A26.2): a department registers the systems that call the data API.

Each system gets a public app key and a secret that is shown once, at registration or rotation.
The secret is stored encrypted with the platform data key (HMAC verification needs the secret
itself, so a one-way hash will not do); people see only its last four characters. Rotation takes
effect at once: the old secret and every bearer token issued under it stop working. Only the
department's own data administrators see or manage its systems.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.catalog.models import Resource
from govshare.config import get_settings
from govshare.errors import FieldError, Forbidden, InvalidTransition, NotFound, raise_if_errors
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit import clock
from govshare.kit.crypto import decrypt, encrypt
from govshare.sharing.enums import SystemStatus
from govshare.sharing.models import ConsumerSystem, Grant, GrantSystem

APP_KEY_PREFIX = "gsk_"
SECRET_PREFIX = "gss_"
MAX_RATE_LIMIT = 100_000


def readable(actor: Actor) -> Select[ConsumerSystem]:
    """The systems an actor may see: its own department's (the platform itself sees all)."""
    stmt = select(ConsumerSystem)
    if actor.kind == "system":
        return stmt
    return stmt.where(ConsumerSystem.department_id == (actor.department_id or -1))


def _check(name: str, description: str, rate_limit_per_minute: int) -> None:
    errors: list[FieldError] = []
    if not name.strip():
        errors.append(FieldError("name", "请填写应用系统名称"))
    elif len(name.strip()) > 100:
        errors.append(FieldError("name", "应用系统名称不能超过 100 个字"))
    if len(description) > 2000:
        errors.append(FieldError("description", "说明不能超过 2000 个字"))
    if not 1 <= rate_limit_per_minute <= MAX_RATE_LIMIT:
        errors.append(FieldError("rate_limit_per_minute", f"每分钟调用上限应在 1 到 {MAX_RATE_LIMIT} 之间"))
    raise_if_errors("应用系统信息有误:", errors)


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def store_secret(system: ConsumerSystem, secret: str) -> None:
    """Encrypt and keep ``secret`` as the system's HMAC secret (and its hint)."""
    sec = get_settings().security
    system.secret_encrypted = encrypt(secret, sec.data_key, sec.crypto_profile)
    system.secret_hint = secret[-4:]


def secret_of(system: ConsumerSystem) -> str:
    """The system's HMAC secret, decrypted for verifying a signature; never shown or logged."""
    return decrypt(system.secret_encrypted, get_settings().security.data_key)


def _manageable(actor: Actor) -> None:
    actor.require(Permission.consumer_system_manage)
    if actor.kind != "system" and actor.department_id is None:
        raise Forbidden("只有部门的数据资源管理员可以管理应用系统")


def register_system(
    session: Session,
    actor: Actor,
    *,
    name: str,
    description: str = "",
    rate_limit_per_minute: int = 600,
    department_id: int | None = None,
) -> tuple[ConsumerSystem, str]:
    """Register a system of the actor's department; returns it and its secret, shown only this once."""
    _manageable(actor)
    _check(name, description, rate_limit_per_minute)
    owner = department_id if actor.kind == "system" and department_id is not None else actor.department_id
    if owner is None:
        raise Forbidden("只有部门的数据资源管理员可以登记应用系统")
    secret = _new_secret()
    system = ConsumerSystem(
        department_id=owner,
        name=name.strip(),
        description=description.strip(),
        app_key=APP_KEY_PREFIX + secrets.token_hex(16),
        status=SystemStatus.active,
        rate_limit_per_minute=rate_limit_per_minute,
        created_by_id=actor.user_id,
        secret_rotated_at=clock.now(),
    )
    store_secret(system, secret)
    session.add(system)
    session.flush()
    audit.record(
        session,
        actor,
        Action.consumer_system_registered,
        object_type="consumer_system",
        object_id=system.id,
        after={"name": system.name, "app_key": system.app_key, "rate_limit_per_minute": rate_limit_per_minute},
        department_id=owner,
    )
    return system, secret


def list_systems(session: Session, actor: Actor) -> list[ConsumerSystem]:
    return list(session.scalars(readable(actor).order_by(ConsumerSystem.id)))


def get_system(session: Session, actor: Actor, system_id: int) -> ConsumerSystem:
    """One system the actor may see; another department's is reported as not existing."""
    system = session.scalars(readable(actor).where(ConsumerSystem.id == system_id)).first()
    if system is None:
        raise NotFound("应用系统不存在")
    return system


@dataclass(frozen=True)
class BoundGrant:
    """A grant that names a system, with what its engineers need to call it."""

    grant_id: int
    status: str
    valid_from: dt.date
    valid_until: dt.date
    resource_code: str
    resource_name: str
    channel: str


def grants_of(session: Session, system: ConsumerSystem) -> list[BoundGrant]:
    """The grants that name a system (one the caller may see: ``get_system``), newest first."""
    statement = (
        select(
            Grant.id,
            Grant.status,
            Grant.valid_from,
            Grant.valid_until,
            Resource.code,
            Resource.name,
            Resource.channel,
        )
        .join(GrantSystem, GrantSystem.grant_id == Grant.id)
        .join(Resource, Resource.id == Grant.resource_id)
        .where(GrantSystem.consumer_system_id == system.id)
        .order_by(Grant.id.desc())
    )
    return [BoundGrant(*row) for row in session.execute(statement)]


def update_system(
    session: Session, actor: Actor, system_id: int, *, name: str, description: str, rate_limit_per_minute: int
) -> ConsumerSystem:
    """Change a system's name, description or rate limit."""
    _manageable(actor)
    system = get_system(session, actor, system_id)
    _check(name, description, rate_limit_per_minute)
    before = {"name": system.name, "description": system.description, "rate_limit": system.rate_limit_per_minute}
    system.name = name.strip()
    system.description = description.strip()
    system.rate_limit_per_minute = rate_limit_per_minute
    system.version += 1
    session.flush()
    audit.record(
        session,
        actor,
        Action.consumer_system_updated,
        object_type="consumer_system",
        object_id=system.id,
        before=before,
        after={"name": system.name, "description": system.description, "rate_limit": rate_limit_per_minute},
    )
    return system


def rotate_secret(session: Session, actor: Actor, system_id: int) -> tuple[ConsumerSystem, str]:
    """A new secret, shown once; the old one and tokens issued under it stop at once."""
    _manageable(actor)
    system = get_system(session, actor, system_id)
    secret = _new_secret()
    store_secret(system, secret)
    system.secret_rotated_at = clock.now()
    system.version += 1
    session.flush()
    audit.record(
        session,
        actor,
        Action.consumer_system_secret_rotated,
        object_type="consumer_system",
        object_id=system.id,
        after={"secret_hint": system.secret_hint},
    )
    return system, secret


def set_status(session: Session, actor: Actor, system_id: int, status: SystemStatus) -> ConsumerSystem:
    """Disable (its calls are refused from the next one on) or enable a system."""
    _manageable(actor)
    system = get_system(session, actor, system_id)
    if system.status == status:
        state = "已停用" if status == SystemStatus.disabled else "已启用"
        raise InvalidTransition(f"应用系统{state}")
    before = system.status
    system.status = status
    system.version += 1
    session.flush()
    action = Action.consumer_system_disabled if status == SystemStatus.disabled else Action.consumer_system_enabled
    audit.record(
        session,
        actor,
        action,
        object_type="consumer_system",
        object_id=system.id,
        before={"status": before},
        after={"status": status.value},
    )
    return system
