"""Who may do what with applications, coordinations and grants, beyond the role permissions.

- Applying, withdrawing and asking for coordination belong to the consumer department's people
  (``sharing:apply``), for their own department only.
- Answering an application belongs to the provider department's 数据资源管理员 (``sharing:decide``).
- The authority over an application is its ``authority_region_id`` (the resource's reviewing
  region, A15.2): the bureau's reviewers for the city, a county's reviewers for their county. Every
  application also reaches the bureau (A21.1: 向市大数据局及数据资源提供单位提出申请), so the bureau's
  reviewers oversee all of them; only the responsible authority decides a coordination.
Pages use these to decide which buttons to show; services use them to refuse.
"""

from __future__ import annotations

from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission, Role
from govshare.sharing.models import Application, Coordination


def is_authority(actor: Actor, region_id: int, city_region_id: int) -> bool:
    """Whether ``actor`` acts for the sharing authority of ``region_id`` (bureau or county)."""
    if actor.kind == "system":
        return True
    if region_id == city_region_id:
        return Role.bureau_reviewer in actor.roles
    return Role.region_reviewer in actor.roles and region_id in actor.reviewer_region_ids


def oversees(actor: Actor, region_id: int, city_region_id: int) -> bool:
    """The bureau oversees every application (A21.1); a county's reviewers their county's."""
    if actor.kind == "system":
        return True
    if not actor.can(Permission.sharing_oversee):
        return False
    return Role.bureau_reviewer in actor.roles or is_authority(actor, region_id, city_region_id)


def applies_for(actor: Actor, department_id: int) -> bool:
    """Whether ``actor`` files and follows applications of department ``department_id``."""
    if actor.kind == "system":
        return True
    return actor.can(Permission.sharing_apply) and actor.department_id == department_id


def decides_for(actor: Actor, provider_id: int) -> bool:
    """Whether ``actor`` answers applications for resources of department ``provider_id``."""
    if actor.kind == "system":
        return True
    return actor.can(Permission.sharing_decide) and actor.department_id == provider_id


def may_withdraw(actor: Actor, application: Application) -> bool:
    return application.status == "submitted" and applies_for(actor, application.consumer_department_id)


def may_decide(actor: Actor, application: Application) -> bool:
    return application.status == "submitted" and decides_for(actor, application.provider_id)


def may_request_coordination(actor: Actor, application: Application) -> bool:
    return application.status in ("refused", "partially_approved") and applies_for(
        actor, application.consumer_department_id
    )


def may_decide_coordination(actor: Actor, coordination: Coordination, city_region_id: int) -> bool:
    if coordination.status != "open":
        return False
    if actor.kind == "system":
        return True
    return actor.can(Permission.coordination_decide) and is_authority(
        actor, coordination.authority_region_id, city_region_id
    )
