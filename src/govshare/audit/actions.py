"""Every audit action name, in one place. Dotted, past tense: ``domain.object.verb_ed``."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    # identity
    login_succeeded = "identity.login.succeeded"
    login_failed = "identity.login.failed"
    login_locked = "identity.login.locked"
    mfa_failed = "identity.mfa.failed"
    mfa_enrolled = "identity.mfa.enrolled"
    logged_out = "identity.session.ended"
    concurrent_use_detected = "identity.session.concurrent_use_detected"
    password_changed = "identity.password.changed"
    password_reset = "identity.password.reset"
    user_created = "identity.user.created"
    user_updated = "identity.user.updated"
    user_disabled = "identity.user.disabled"
    user_enabled = "identity.user.enabled"
    user_unlocked = "identity.user.unlocked"
    region_created = "identity.region.created"
    region_updated = "identity.region.updated"
    department_created = "identity.department.created"
    department_updated = "identity.department.updated"
    office_created = "identity.office.created"
    data_admin_registered = "identity.data_admin.registered"
    data_admin_ended = "identity.data_admin.ended"
    api_token_created = "identity.api_token.created"
    api_token_revoked = "identity.api_token.revoked"
    access_denied = "identity.access.denied"
    department_deactivated = "identity.department.deactivated"
    department_reactivated = "identity.department.reactivated"
    office_updated = "identity.office.updated"
    office_removed = "identity.office.removed"
    user_roles_changed = "identity.user.roles_changed"
    mfa_reset = "identity.mfa.reset"
    login_alert_acknowledged = "identity.login_alert.acknowledged"
    # audit
    audit_exported = "audit.trail.exported"
    audit_verified = "audit.trail.verified"
    # calendar
    calendar_day_corrected = "calendar.day.corrected"
    calendar_year_loaded = "calendar.year.loaded"
    calendar_correction_removed = "calendar.day.correction_removed"
    # catalog
    resource_created = "catalog.resource.created"
    resource_updated = "catalog.resource.updated"
    resource_deleted = "catalog.resource.deleted"
    confidentiality_reviewed = "catalog.resource.confidentiality_reviewed"
    resource_submitted = "catalog.resource.submitted"
    resource_returned = "catalog.resource.returned"
    resource_published = "catalog.resource.published"
    resource_withdrawn = "catalog.resource.withdrawn"
    resource_imported = "catalog.resource.imported"
    catalog_exported = "catalog.catalog.exported"
    topic_created = "catalog.topic.created"
    topic_updated = "catalog.topic.updated"
    change_request_opened = "catalog.change_request.opened"
    change_request_updated = "catalog.change_request.proposal_updated"
    change_request_clock_recomputed = "catalog.change_request.clock_recomputed"
    change_request_filed = "catalog.change_request.filed"
    change_request_extension_requested = "catalog.change_request.extension_requested"
    change_request_extension_decided = "catalog.change_request.extension_decided"
    change_request_approved = "catalog.change_request.approved"
    change_request_rejected = "catalog.change_request.rejected"
    # exchange: the gateway's allow-list of provider networks
    provider_network_added = "exchange.provider_network.added"
    provider_network_removed = "exchange.provider_network.removed"
    # exchange: mounts and their runs
    mount_created = "exchange.mount.created"
    sync_requested = "exchange.sync.requested"
    # exchange: file channel versions
    file_version_added = "exchange.file_version.added"
    file_version_downloaded = "exchange.file_version.downloaded"
    mount_updated = "exchange.mount.updated"
    mount_paused = "exchange.mount.paused"
    mount_resumed = "exchange.mount.resumed"
    mount_secret_replaced = "exchange.mount.secret_replaced"
    api_description_uploaded = "exchange.api.description_uploaded"
    gateway_called = "exchange.gateway.called"
    # sharing: consumer systems and their credentials
    consumer_system_registered = "sharing.consumer_system.registered"
    consumer_system_updated = "sharing.consumer_system.updated"
    consumer_system_secret_rotated = "sharing.consumer_system.secret_rotated"
    consumer_system_disabled = "sharing.consumer_system.disabled"
    consumer_system_enabled = "sharing.consumer_system.enabled"
    consumer_token_issued = "sharing.consumer_token.issued"
    consumer_request_refused = "sharing.consumer_request.refused"
    # sharing: applications and decisions
    application_drafted = "sharing.application.drafted"
    application_submitted = "sharing.application.submitted"
    application_withdrawn = "sharing.application.withdrawn"
    application_approved = "sharing.application.approved"
    application_partially_approved = "sharing.application.partially_approved"
    application_refused = "sharing.application.refused"
    application_reminded = "sharing.application.reminded"
    application_overdue = "sharing.application.overdue_flagged"
    application_clock_recomputed = "sharing.application.clock_recomputed"
    # sharing: coordination
    coordination_requested = "sharing.coordination.requested"
    coordination_noted = "sharing.coordination.noted"
    coordination_granted = "sharing.coordination.granted"
    coordination_refused = "sharing.coordination.refused"
    # sharing: grants
    grant_issued = "sharing.grant.issued"
    grant_suspended = "sharing.grant.suspended"
    grant_resumed = "sharing.grant.resumed"
    grant_revoked = "sharing.grant.revoked"
    grant_ended = "sharing.grant.ended"
    grant_expired = "sharing.grant.expired"
    # sharing: reads of shared data (each also leaves an access record)
    data_read = "sharing.data.read"
    data_exported = "sharing.data.exported"
    data_verified = "sharing.data.verified"
    # sharing: verification settings (A22.1) and the usage history (A35.1)
    verification_setting_changed = "sharing.verification.setting_changed"
    usage_exported = "sharing.usage.exported"


# High-volume reads of shared data: appended to the read chains (see ``audit.models.AuditRecord``).
READ_ACTIONS = frozenset(
    {
        Action.data_read,
        Action.data_exported,
        Action.data_verified,
        Action.gateway_called,
        Action.file_version_downloaded,
        Action.consumer_request_refused,
    }
)
