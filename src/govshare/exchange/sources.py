"""Provider source databases for 库表交换: any database SQLAlchemy reaches.

Passwords are kept out of the URL stored in a mount's config and joined in only to connect;
``redacted`` is the only form of a source address that may appear in a message or a log.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from govshare.errors import FieldError, ValidationFailed

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def parse_source_url(url: str) -> URL:
    """A source address with the default driver filled in; refuses one SQLAlchemy cannot read."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValidationFailed(
            "源数据库地址格式有误", errors=[FieldError("url", "请填写形如 postgresql://用户@主机/库 的地址")]
        ) from exc
    return parsed.set(drivername=_DRIVERS.get(parsed.drivername, parsed.drivername))


def split_secret(url: str) -> tuple[str, str]:
    """(the address without its password, the password) — the first is safe to store in config."""
    parsed = parse_source_url(url)
    password = parsed.password or ""
    return parsed._replace(password=None).render_as_string(hide_password=False), str(password)


def redacted(url: str) -> str:
    return parse_source_url(url).render_as_string(hide_password=True)


def source_engine(url: str, password: str = "") -> Engine:
    """An engine on a provider source; pooled connections are not kept (a run opens and closes its own)."""
    parsed = parse_source_url(url)
    if password:
        parsed = parsed.set(password=password)
    kwargs: dict[str, object] = {}
    if parsed.get_backend_name() != "sqlite":
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 10}
    return create_engine(parsed, **kwargs)
