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
    change_request_filed = "catalog.change_request.filed"
    change_request_extension_requested = "catalog.change_request.extension_requested"
    change_request_extension_decided = "catalog.change_request.extension_decided"
    change_request_approved = "catalog.change_request.approved"
    change_request_rejected = "catalog.change_request.rejected"
