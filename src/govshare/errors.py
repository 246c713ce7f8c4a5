"""Domain errors. Services raise these; the central handlers render them (problem+json or a page).

Each error carries a stable machine ``code`` and a Chinese ``detail`` a person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class FieldError:
    """One problem with one input field; ``row`` is set for spreadsheet imports."""

    field: str
    message: str
    row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        return out


@dataclass
class DomainError(Exception):
    detail: str
    code: str = ""
    errors: list[FieldError] = field(default_factory=list)

    status: ClassVar[int] = 400
    title: ClassVar[str] = "请求无法处理"
    default_code: ClassVar[str] = "bad_request"

    def __post_init__(self) -> None:
        if not self.code:
            self.code = self.default_code
        super().__init__(self.detail)


class ValidationFailed(DomainError):
    status = 422
    title = "输入有误"
    default_code = "validation_failed"


def raise_if_errors(prefix: str, errors: list[FieldError]) -> None:
    """Refuse with every field's message listed after ``prefix`` (e.g. "部门信息有误:"), if there are any."""
    if errors:
        raise ValidationFailed(prefix + ";".join(e.message for e in errors), errors=errors)


class Unauthorized(DomainError):
    status = 401
    title = "未登录或登录已失效"
    default_code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "无权执行此操作"
    default_code = "forbidden"


class NotFound(DomainError):
    status = 404
    title = "对象不存在"
    default_code = "not_found"


class Conflict(DomainError):
    status = 409
    title = "与现有数据冲突"
    default_code = "conflict"


class InvalidTransition(Conflict):
    title = "当前状态不允许此操作"
    default_code = "invalid_transition"


class TooManyRequests(DomainError):
    status = 429
    title = "请求过于频繁"
    default_code = "too_many_requests"
