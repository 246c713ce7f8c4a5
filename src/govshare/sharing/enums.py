"""Status vocabularies of the sharing domain, with their Chinese labels."""

from __future__ import annotations

from enum import StrEnum


class ApplicationStatus(StrEnum):
    submitted = "submitted"  # waiting for the provider; the 10-working-day clock runs
    approved = "approved"  # every 信息项 asked for was granted
    partially_approved = "partially_approved"  # some 信息项 granted, the others refused with reasons
    refused = "refused"  # nothing granted; the reason is required (A20.3)
    withdrawn = "withdrawn"  # the applicant took it back before a decision


APPLICATION_LABELS: dict[str, str] = {
    "submitted": "待提供部门答复",
    "approved": "已同意",
    "partially_approved": "部分同意",
    "refused": "不同意",
    "withdrawn": "已撤回",
}


class CoordinationStatus(StrEnum):
    open = "open"
    granted = "granted"  # the authority's outcome: the data is to be shared (a grant is issued)
    refused = "refused"  # the authority's reasoned no


COORDINATION_LABELS: dict[str, str] = {"open": "协调中", "granted": "协调结果:予以共享", "refused": "协调结果:不予共享"}


class GrantStatus(StrEnum):
    active = "active"
    suspended = "suspended"  # temporarily stopped; can be resumed
    revoked = "revoked"  # withdrawn for cause; final
    ended = "ended"  # ended early by agreement or because the need ended; final
    expired = "expired"  # its period ran out; final


GRANT_LABELS: dict[str, str] = {
    "active": "有效",
    "suspended": "已暂停",
    "revoked": "已撤销",
    "ended": "已终止",
    "expired": "已到期",
}


class Masking(StrEnum):
    masked = "masked"  # sensitive 信息项 masked with the platform-wide window (DESIGN.md)
    clear = "clear"  # the grant allows clear values


MASKING_LABELS: dict[str, str] = {"masked": "脱敏", "clear": "明文(经授权)"}


class SystemStatus(StrEnum):
    active = "active"
    disabled = "disabled"


def label(value: str, vocabulary: dict[str, str]) -> str:
    return vocabulary.get(value, value)
