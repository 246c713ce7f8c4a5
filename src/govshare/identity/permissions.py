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


_READER = {Permission.own_account, Permission.catalog_read, Permission.calendar_read, Permission.catalog_export}

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
    ),
    Role.region_reviewer: frozenset(
        _READER | {Permission.identity_read, Permission.catalog_review, Permission.change_request_decide}
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
        }
    ),
    Role.dept_user: frozenset(_READER | {Permission.identity_read}),  # the department directory
    Role.auditor: frozenset(
        {
            Permission.own_account,
            Permission.audit_read,
            Permission.identity_read,
            Permission.catalog_read,
            Permission.calendar_read,
        }
    ),
}


def permissions_for(roles: set[Role]) -> frozenset[Permission]:
    out: set[Permission] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS[role]
    return frozenset(out)
