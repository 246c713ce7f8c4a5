"""``PgStatement``: a Core statement compiled once for psycopg, its parameters prepared as an engine would."""

from __future__ import annotations

import datetime as dt

from psycopg.types.json import Json
from sqlalchemy import create_engine, select

from govshare.audit.models import AuditRecord
from govshare.kit.pgsql import PgStatement
from govshare.sharing.access import records_statement
from govshare.sharing.data import resource_rows_stmt


def _engine() -> object:
    return create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connects


def test_constants_are_kept_and_literal_parameters_rendered() -> None:
    statement = PgStatement(resource_rows_stmt(True), _engine())  # type: ignore[arg-type]
    sql, params = statement.bind({"code": "101/000001", "grant_id": 7})
    assert "POSTCOMPILE" not in sql and "%(code)s" in sql and "%(grant_id)s" in sql
    assert params["code"] == "101/000001" and params["grant_id"] == 7
    assert "active" in params.values()  # the active-mount condition's constant


def test_utc_datetimes_and_json_are_processed_as_an_engine_would() -> None:
    statement = PgStatement(records_statement(), _engine())  # type: ignore[arg-type]
    at = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    params = statement.params({"a_at": at, "a_after": {"rows": 3}, "r_data_item_ids": [2, 1], "h_chain": 2})
    assert params["a_at"] == dt.datetime(2026, 11, 25, 0, 0)  # naive UTC, as UTCDateTime stores it
    # JSON goes as psycopg's Json wrapper, which psycopg serialises (with a server- or client-side cursor)
    assert isinstance(params["a_after"], Json) and params["a_after"].obj == {"rows": 3}
    assert params["r_data_item_ids"].obj == [2, 1]
    assert params["h_chain"] == 2


def test_one_compiled_text_for_every_call() -> None:
    statement = PgStatement(select(AuditRecord.id).where(AuditRecord.chain == 2), _engine())  # type: ignore[arg-type]
    assert statement.bind({})[0] == statement.bind({})[0] == statement.sql
