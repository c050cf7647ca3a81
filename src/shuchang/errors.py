"""The one error tree. Services raise these; one handler renders them as RFC 9457 problems.

Every error carries an HTTP ``status``, a stable machine ``code`` (an instance may refine the
class default with a more specific one, e.g. ``participant.identifier_invalid``), a message in
zh-CN and English, and the offending ``field`` where there is one::

    ShuchangError                      500 internal
    ├── InvalidInput                   400 invalid_input        malformed body, wrong types
    │   └── ValidationFailed           422 validation_failed    well-formed but not acceptable
    ├── Unauthenticated                401 unauthenticated      no, unknown or revoked API key
    ├── PermissionDenied               403 forbidden            role or ownership does not allow it
    ├── NotFound                       404 not_found
    └── Conflict                       409 conflict
        ├── Duplicate                  409 duplicate            unique fact already registered
        └── InvalidTransition          409 invalid_transition   lifecycle does not allow the step
"""

from __future__ import annotations

from typing import Any, ClassVar


class ShuchangError(Exception):
    """Base of every error the platform raises on purpose."""

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal"
    default_zh: ClassVar[str] = "服务器内部错误"
    default_en: ClassVar[str] = "Internal error"

    def __init__(
        self,
        en: str | None = None,
        zh: str | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        self.http_status = status or type(self).status  # an instance may carry its own status
        self.message_en = en or self.default_en
        self.message_zh = zh or self.default_zh
        self.code = code or self.default_code
        self.field = field
        self.extra = extra or {}
        super().__init__(self.message_en)

    @property
    def title(self) -> str:
        return type(self).default_en

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 body: standard members plus ``code``, both messages and ``field``."""
        body: dict[str, Any] = {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.http_status,
            "detail": self.message_en,
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }
        if self.field is not None:
            body["field"] = self.field
        if instance is not None:
            body["instance"] = instance
        body.update(self.extra)
        return body


class InvalidInput(ShuchangError):
    status = 400
    default_code = "invalid_input"
    default_zh = "请求格式错误"
    default_en = "Malformed request"


class ValidationFailed(InvalidInput):
    status = 422
    default_code = "validation_failed"
    default_zh = "请求内容未通过校验"
    default_en = "Request failed validation"


class Unauthenticated(ShuchangError):
    status = 401
    default_code = "unauthenticated"
    default_zh = "需要有效的 API 密钥"
    default_en = "A valid API key is required"


class PermissionDenied(ShuchangError):
    status = 403
    default_code = "forbidden"
    default_zh = "无权执行此操作"
    default_en = "Not allowed"


class NotFound(ShuchangError):
    status = 404
    default_code = "not_found"
    default_zh = "资源不存在"
    default_en = "Not found"


class Conflict(ShuchangError):
    status = 409
    default_code = "conflict"
    default_zh = "与当前状态冲突"
    default_en = "Conflicts with the current state"


class Duplicate(Conflict):
    default_code = "duplicate"
    default_zh = "已存在相同记录"
    default_en = "Already registered"


class InvalidTransition(Conflict):
    default_code = "invalid_transition"
    default_zh = "当前状态不允许此操作"
    default_en = "The lifecycle does not allow this step"


__all__ = [
    "Conflict",
    "Duplicate",
    "InvalidInput",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "ShuchangError",
    "Unauthenticated",
    "ValidationFailed",
]
