"""Permissions are data: one ``Permission`` enum and one table mapping roles to them.

The three administrator duties of 等保 stay apart: ``bureau_admin`` runs the system and cannot read
the audit trail or approve; ``auditor`` reads and changes nothing; reviewers approve.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    bureau_admin = "bureau_admin"
    bureau_reviewer = "bureau_reviewer"
    region_reviewer = "region_reviewer"
    dept_admin = "dept_admin"
    dept_user = "dept_user"
    auditor = "auditor"


ROLE_LABELS: dict[Role, str] = {
    Role.bureau_admin: "市大数据局系统管理员",
    Role.bureau_reviewer: "市大数据局审核员",
    Role.region_reviewer: "县区共享主管机构审核员",
    Role.dept_admin: "部门数据资源管理员",
    Role.dept_user: "部门工作人员",
    Role.auditor: "审计员",
}

# Roles whose scope is a region rather than a department.
REGION_SCOPED = frozenset({Role.region_reviewer})


class Permission(StrEnum):
    # identity
    identity_read = "identity:read"
    identity_manage = "identity:manage"
    own_account = "identity:own_account"
    data_admin_register = "identity:data_admin_register"
    # a department's own sharing office and contacts (A6.1): the bureau, or that department's dept_admin
    department_contacts_edit = "identity:department_contacts_edit"
    # audit
    audit_read = "audit:read"
    # calendar
    calendar_read = "calendar:read"
    calendar_manage = "calendar:manage"
    # catalog
    catalog_read = "catalog:read"
    catalog_compile = "catalog:compile"
    catalog_review = "catalog:review"
    catalog_import = "catalog:import"
    catalog_export = "catalog:export"
    topic_manage = "catalog:topic_manage"
    change_request_file = "catalog:change_request_file"
    change_request_decide = "catalog:change_request_decide"
    # exchange: the gateway's allow-list of provider networks (bureau system administrator)
    provider_network_manage = "exchange:provider_network_manage"
    # exchange: a provider mounts its resources, uploads files, starts runs (own department only)
    exchange_mount = "exchange:mount"
    # exchange: the bureau's and regions' view of freshness, runs, probes and quality everywhere
    exchange_monitor = "exchange:monitor"
    # sharing (articles 20-23, 26, 35)
    sharing_apply = "sharing:apply"  # file and follow applications; request coordination
    sharing_decide = "sharing:decide"  # the provider answers applications for its resources
    sharing_oversee = "sharing:oversee"  # the authority sees every application, overdue and refusal counts
    coordination_decide = "sharing:coordination_decide"  # the authority records negotiation and outcome
    consumer_system_manage = "sharing:consumer_system_manage"  # register systems, rotate secrets
    grant_manage = "sharing:grant_manage"  # suspend, revoke or end a grant (provider or authority)
    shared_data_read = "sharing:read_data"  # people read and export data within grants / unconditional
    usage_read = "sharing:usage_read"  # usage history (A35.1): provider, authority, auditor


_READER = {Permission.own_account, Permission.catalog_read, Permission.calendar_read, Permission.catalog_export}
_AUTHORITY = {
    Permission.exchange_monitor,
    Permission.sharing_oversee,
    Permission.coordination_decide,
    Permission.grant_manage,
    Permission.usage_read,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.bureau_admin: frozenset(
        _READER
        | {
            Permission.identity_read,
            Permission.identity_manage,
            Permission.data_admin_register,
            Permission.department_contacts_edit,
            Permission.calendar_manage,
            Permission.topic_manage,
            Permission.provider_network_manage,
            Permission.exchange_monitor,
        }
    ),
    Role.bureau_reviewer: frozenset(
        _READER
        | {
            Permission.identity_read,
            Permission.catalog_review,
            Permission.change_request_decide,
            Permission.topic_manage,
        }
        | _AUTHORITY
    ),
    Role.region_reviewer: frozenset(
        _READER | {Permission.identity_read, Permission.catalog_review, Permission.change_request_decide} | _AUTHORITY
    ),
    Role.dept_admin: frozenset(
        _READER
        | {
            Permission.identity_read,
            Permission.catalog_compile,
            Permission.catalog_import,
            Permission.change_request_file,
            Permission.data_admin_register,
            Permission.department_contacts_edit,
            Permission.exchange_mount,
            Permission.sharing_apply,
            Permission.sharing_decide,
            Permission.consumer_system_manage,
            Permission.grant_manage,
            Permission.shared_data_read,
            Permission.usage_read,
        }
    ),
    # the department directory; apply for data and read what the department was granted
    Role.dept_user: frozenset(
        _READER | {Permission.identity_read, Permission.sharing_apply, Permission.shared_data_read}
    ),
    Role.auditor: frozenset(
        {
            Permission.own_account,
            Permission.audit_read,
            Permission.identity_read,
            Permission.catalog_read,
            Permission.calendar_read,
            Permission.exchange_monitor,
            Permission.usage_read,
        }
    ),
}


def permissions_for(roles: set[Role]) -> frozenset[Permission]:
    out: set[Permission] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS[role]
    return frozenset(out)
