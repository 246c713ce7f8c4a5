"""Password hashing (argon2id) and the 等保 complexity rule."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from govshare.config import Environment, get_settings
from govshare.errors import FieldError, ValidationFailed

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# The test suite creates hundreds of accounts; at the recommended cost (64 MiB, about half a second
# on a loaded CI core) hashing alone would take minutes. Only GOVSHARE_ENVIRONMENT=test uses this;
# each hash records its own parameters, so verification works whichever hasher made it.
_test_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _current() -> PasswordHasher:
    return _test_hasher if get_settings().environment == Environment.test else _hasher


def hash_password(password: str) -> str:
    return _current().hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _current().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_policy(password: str, *, username: str, min_length: int) -> None:
    """等保 level-3: a minimum length, three of four character classes, and not the account name."""
    problems: list[str] = []
    if len(password) < min_length:
        problems.append(f"长度至少 {min_length} 位")
    classes = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if classes < 3:
        problems.append("需包含大写字母、小写字母、数字、符号中的至少三类")
    if username and username.lower() in password.lower():
        problems.append("不能包含账号名")
    if problems:
        raise ValidationFailed(
            "密码不符合复杂度要求:" + ";".join(problems),
            code="weak_password",
            errors=[FieldError("password", ";".join(problems))],
        )
