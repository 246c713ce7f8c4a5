"""Who may do what to a resource, beyond the role permissions of ``identity.permissions``.

- Compiling (create, edit, 保密审查, submit) belongs to the provider department's own
  data administrators (``catalog:compile``); nobody compiles for another department — not even the
  bureau's system administrator, who holds no compile permission at all.
- Reviewing (decide, withdraw) belongs to the authority responsible for the resource (A15.2): the
  bureau's reviewers for resources of the city region, a county's region reviewers for their own.
Pages use these to decide which buttons to show; services use them to refuse.
"""

from __future__ import annotations

from govshare.catalog.enums import ResourceStatus
from govshare.catalog.models import Resource
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission, Role

EDITABLE = frozenset({ResourceStatus.draft, ResourceStatus.returned})


def compiles_for(actor: Actor, provider_id: int) -> bool:
    """Whether ``actor`` may compile the catalog of department ``provider_id``."""
    if actor.kind == "system":
        return True
    return actor.can(Permission.catalog_compile) and actor.department_id == provider_id


def reviews(actor: Actor, reviewing_region_id: int, city_region_id: int) -> bool:
    """Whether ``actor`` is the authority for resources reviewed in ``reviewing_region_id``."""
    if actor.kind == "system":
        return True
    if not actor.can(Permission.catalog_review):
        return False
    if reviewing_region_id == city_region_id:
        return Role.bureau_reviewer in actor.roles
    return Role.region_reviewer in actor.roles and reviewing_region_id in actor.reviewer_region_ids


def may_edit(actor: Actor, resource: Resource) -> bool:
    """Content changes only in draft or returned, by the provider's own compiler."""
    return compiles_for(actor, resource.provider_id) and resource.status in EDITABLE


def may_submit(actor: Actor, resource: Resource) -> bool:
    """Submission (the 保密审查 is checked by the service, which says what is missing)."""
    return may_edit(actor, resource)


def may_decide(actor: Actor, resource: Resource, city_region_id: int) -> bool:
    """A submitted resource, decided by its responsible authority."""
    return resource.status == ResourceStatus.submitted and reviews(actor, resource.reviewing_region_id, city_region_id)


def may_withdraw(actor: Actor, resource: Resource, city_region_id: int) -> bool:
    """A published resource, withdrawn by its responsible authority."""
    return resource.status == ResourceStatus.published and reviews(actor, resource.reviewing_region_id, city_region_id)
