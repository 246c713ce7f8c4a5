"""The audit trail is tamper-evident (A31.2): editing, deleting, inserting or reordering records with
plain SQL, behind the platform's back, makes ``verify`` fail and name the record — on SQLite and on
PostgreSQL alike; and ``govshare audit verify`` says so with a non-zero exit. Reading is for auditors
only (A40.1), and secrets never enter the trail in clear."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from govshare import migrate
from govshare.audit import service
from govshare.audit.actions import Action
from govshare.audit.models import AuditRecord
from govshare.audit.repository import AuditFilter
from govshare.cli import app as cli_app
from govshare.config import get_settings
from govshare.db import Database, is_postgres
from govshare.errors import Forbidden
from govshare.identity import auth
from govshare.identity.actor import Actor, RequestContext
from govshare.identity.permissions import Role
from govshare.kit import clock
from tests.factories import PASSWORD, Factory

COLUMNS = [c.name for c in AuditRecord.__table__.columns if c.name != "id"]


def _chain(session: Session, n: int = 6) -> list[AuditRecord]:
    actor = Actor.system(RequestContext(source_ip="10.3.3.3"), name="tester")
    return [
        service.record(
            session, actor, Action.department_updated, object_type="department", object_id=i, after={"step": i}
        )
        for i in range(1, n + 1)
    ]


def _ids(session: Session) -> dict[int, int]:
    """seq → id as the database now holds them."""
    return {int(row[0]): int(row[1]) for row in session.execute(text("SELECT seq, id FROM audit_record")).all()}


def _set_seq(session: Session, record_id: int, seq: int) -> None:
    session.execute(text("UPDATE audit_record SET seq = :s WHERE id = :i"), {"s": seq, "i": record_id})


def _shift(session: Session, above: int, by: int) -> None:
    """Renumber every record with seq > ``above`` by ``by``, going through negative values so that the
    unique constraint on seq holds after each statement (PostgreSQL checks it row by row)."""
    session.execute(text("UPDATE audit_record SET seq = -seq WHERE seq > :k"), {"k": above})
    session.execute(text("UPDATE audit_record SET seq = -seq + :b WHERE seq < 0"), {"b": by})


def _forge(session: Session, *, seq: int, prev_hash: str, valid_hash: bool = True) -> int:
    """Insert a record that never went through ``record()``, with a correctly computed hash."""
    forged = AuditRecord(
        chain=1,
        seq=seq,
        at=clock.now(),
        actor_id=None,
        actor_name="intruder",
        department_id=None,
        role="system",
        action=str(Action.user_created),
        object_type="user",
        object_id="999",
        before=None,
        after={"username": "ghost"},
        source_ip="6.6.6.6",
        request_id="forged",
        outcome="success",
        algorithm="sha256",
        prev_hash=prev_hash,
    )
    forged.hash = service.compute_hash(forged) if valid_hash else "f" * 64
    values = {c: getattr(forged, c) for c in COLUMNS}
    result = session.execute(insert(AuditRecord).values(**values).returning(AuditRecord.id))
    return int(result.scalar_one())


@pytest.fixture(autouse=True)
def _steady_clock() -> Iterator[None]:
    clock.set_now(dt.datetime(2026, 4, 1, 9, 30))
    yield


@pytest.mark.article("A31.2")
def test_an_untouched_chain_verifies(session: Session) -> None:
    _chain(session)
    result = service.verify(session)
    assert result.ok and result.checked == 6


@pytest.mark.article("A31.2")
@pytest.mark.parametrize("column", ["actor_name", "outcome", "after", "at"])
def test_sql_update_of_a_column_is_named(session: Session, column: str) -> None:
    records = _chain(session)
    target = records[2]
    values = {
        "actor_name": "someone-else",
        "outcome": "failure",
        "after": '{"step": 99}',
        "at": dt.datetime(2026, 1, 1, 8, 0),  # naive, as the UTC column stores it
    }
    expr = "CAST(:v AS JSON)" if column == "after" and is_postgres(session) else ":v"
    session.execute(
        text(f'UPDATE audit_record SET "{column}" = {expr} WHERE id = :i'), {"v": values[column], "i": target.id}
    )
    result = service.verify(session)
    assert result.finding is not None
    assert (result.finding.kind, result.finding.seq, result.finding.record_id) == ("edited", 3, target.id)
    assert "第 3 号" in result.finding.message and result.checked == 2


@pytest.mark.article("A31.2")
def test_sql_delete_of_a_middle_record_is_named(session: Session) -> None:
    records = _chain(session)
    session.execute(text("DELETE FROM audit_record WHERE id = :i"), {"i": records[2].id})
    result = service.verify(session)
    assert result.finding is not None
    assert (result.finding.kind, result.finding.seq, result.finding.record_id) == ("removed", 3, records[3].id)
    assert "第 3 号审计记录缺失" in result.finding.message


@pytest.mark.article("A31.2")
def test_delete_and_renumber_is_still_caught(session: Session) -> None:
    records = _chain(session)
    session.execute(text("DELETE FROM audit_record WHERE id = :i"), {"i": records[2].id})
    _shift(session, above=3, by=-1)  # close the gap
    result = service.verify(session)
    assert result.finding is not None
    assert (result.finding.kind, result.finding.seq, result.finding.record_id) == ("removed", 3, records[3].id)


@pytest.mark.article("A31.2")
def test_sql_insert_of_a_forged_record_at_the_end_is_named(session: Session) -> None:
    records = _chain(session)
    forged = _forge(session, seq=7, prev_hash=records[-1].hash)
    result = service.verify(session)
    assert result.finding is not None
    assert (result.finding.kind, result.finding.seq, result.finding.record_id) == ("inserted", 7, forged)


@pytest.mark.article("A31.2")
def test_sql_insert_of_a_forged_record_in_the_middle_is_named(session: Session) -> None:
    records = _chain(session)
    _shift(session, above=3, by=1)  # make room after seq 3
    forged = _forge(session, seq=4, prev_hash=records[2].hash)
    result = service.verify(session)
    assert result.finding is not None
    assert (result.finding.kind, result.finding.seq, result.finding.record_id) == ("inserted", 4, forged)
    assert f"ID {forged}" in result.finding.message


@pytest.mark.article("A31.2")
def test_a_forged_record_replacing_a_deleted_one_is_named(session: Session) -> None:
    records = _chain(session)
    session.execute(text("DELETE FROM audit_record WHERE id = :i"), {"i": records[3].id})
    forged = _forge(session, seq=4, prev_hash=records[2].hash)
    result = service.verify(session)
    assert result.finding is not None
    assert (result.finding.kind, result.finding.seq, result.finding.record_id) == ("inserted", 4, forged)


@pytest.mark.article("A31.2")
@pytest.mark.parametrize(("a", "b"), [(3, 4), (2, 5)])
def test_swapping_two_records_is_named(session: Session, a: int, b: int) -> None:
    _chain(session)
    ids = _ids(session)
    _set_seq(session, ids[a], -1)  # through a temporary value: seq is unique
    _set_seq(session, ids[b], a)
    _set_seq(session, ids[a], b)
    result = service.verify(session)
    assert result.finding is not None
    assert (result.finding.kind, result.finding.seq, result.finding.record_id) == ("reordered", a, ids[b])
    assert f"原为第 {b} 号" in result.finding.message and f"ID {ids[a]}" in result.finding.message


@pytest.mark.article("A31.2")
def test_a_forged_record_with_a_made_up_hash_is_named(session: Session) -> None:
    _chain(session)
    forged = _forge(session, seq=7, prev_hash="0" * 64, valid_hash=False)
    result = service.verify(session)
    assert result.finding is not None and result.finding.record_id == forged


# --- the CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A separate, migrated SQLite file that the CLI opens through GOVSHARE_DATABASE_URL."""
    url = f"sqlite:///{(tmp_path / 'cli.db').as_posix()}"
    db = Database(url)
    migrate.upgrade(db.engine)
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield db
    db.dispose()
    monkeypatch.delenv("GOVSHARE_DATABASE_URL")
    get_settings.cache_clear()


@pytest.mark.article("A31.2")
def test_cli_verify_exits_non_zero_and_names_the_record(cli_database: Database) -> None:
    with cli_database.session_scope() as s:
        records = _chain(s, 5)
        target_id = records[1].id
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "共校验 5 条记录" in ok.output
    with cli_database.session_scope() as s:
        s.execute(text("UPDATE audit_record SET object_id = 'x' WHERE id = :i"), {"i": target_id})
    broken = runner.invoke(cli_app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "第 2 号" in broken.output and f"ID {target_id}" in broken.output


# --- reading is for auditors; secrets stay out ---------------------------------------------------


@pytest.mark.article("A40.1")
def test_only_auditors_read_the_trail(session: Session, factory: Factory) -> None:
    _chain(session, 3)
    auditor = factory.actor(factory.user(Role.auditor, department=factory.bureau()))
    page = service.search_records(session, auditor, AuditFilter(action_prefix="identity.department"))
    assert len(page.items) >= 3
    for role in (Role.bureau_admin, Role.bureau_reviewer, Role.dept_admin, Role.dept_user):
        with pytest.raises(Forbidden):
            service.search_records(session, factory.actor(factory.user(role)), AuditFilter())
    bureau_admin = factory.actor(factory.user(Role.bureau_admin))
    with pytest.raises(Forbidden):
        service.verify_trail(session, bureau_admin)
    with pytest.raises(Forbidden):
        service.get_record(session, bureau_admin, page.items[0].id)


@pytest.mark.article("A40.1")
@pytest.mark.article("A31.2")
def test_verification_is_itself_recorded(session: Session, factory: Factory) -> None:
    _chain(session, 2)
    auditor = factory.actor(factory.user(Role.auditor, department=factory.bureau()))
    result = service.verify_trail(session, auditor)
    assert result.ok
    last = session.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
    assert last.action == "audit.trail.verified" and last.actor_id == auditor.user_id
    assert last.after is not None and last.after["ok"] is True and last.after["checked"] == result.checked
    assert service.verify(session).ok


def test_filters_and_keyset_pages(session: Session, factory: Factory) -> None:
    records = _chain(session, 7)
    auditor = factory.actor(factory.user(Role.auditor, department=factory.bureau()))
    f = AuditFilter(action_prefix="identity.department", actor="tester")
    first = service.search_records(session, auditor, f, limit=3)
    assert [r.id for r in first.items] == [r.id for r in reversed(records[-3:])]
    assert first.newer_cursor is None and first.older_cursor == records[-3].id
    second = service.search_records(session, auditor, f, before=first.older_cursor, limit=3)
    assert [r.id for r in second.items] == [r.id for r in reversed(records[1:4])]
    back = service.search_records(session, auditor, f, after=second.newer_cursor, limit=3)
    assert [r.id for r in back.items] == [r.id for r in first.items]
    last = service.search_records(session, auditor, f, before=second.older_cursor, limit=3)
    assert [r.id for r in last.items] == [records[0].id] and last.older_cursor is None
    # A prefix matches whole segments; an exact name matches itself.
    assert service.search_records(session, auditor, AuditFilter(action_prefix="identity.depart")).items == []
    exact = service.search_records(session, auditor, AuditFilter(action_prefix="identity.department.updated"))
    assert len(exact.items) == 7
    by_object = service.search_records(session, auditor, AuditFilter(object_type="department", object_id="4"))
    assert [r.id for r in by_object.items] == [records[3].id]
    clock.set_now(dt.datetime(2026, 4, 2, 9, 30))
    later = _chain(session, 1)[0]
    window = AuditFilter(since=dt.datetime(2026, 4, 2, 0, 0, tzinfo=clock.CHINA))
    assert [r.id for r in service.search_records(session, auditor, window).items] == [later.id]
    until = AuditFilter(until=dt.datetime(2026, 4, 2, 0, 0, tzinfo=clock.CHINA), action_prefix="identity")
    assert later.id not in {r.id for r in service.search_records(session, auditor, until).items}


@pytest.mark.article("A31.1")
def test_secrets_never_in_clear_in_the_trail(session: Session, factory: Factory) -> None:
    user = factory.user(Role.dept_user)
    actor = factory.actor(user)
    auth.change_password(session, actor, current=PASSWORD, new="Brand-New-Passw0rd")
    _, token = auth.create_api_token(session, actor, name="导出脚本")
    service.record(session, actor, Action.user_updated, after={"password": "Leak-Me-1", "api_key": "k-123"})
    blob = " ".join(f"{r.before} {r.after}" for r in session.execute(select(AuditRecord)).scalars())
    for secret in ("Brand-New-Passw0rd", PASSWORD, token, "Leak-Me-1", "k-123"):
        assert secret not in blob
    assert "'password': '***'" in blob


@pytest.mark.article("A31.1")
def test_failed_logins_are_recorded(session: Session, factory: Factory) -> None:
    user = factory.user(Role.dept_user)
    assert not auth.login(session, RequestContext(source_ip="10.4.4.4"), user.username, "Wrong-Passw0rd").ok
    auditor = factory.actor(factory.user(Role.auditor, department=factory.bureau()))
    summary = service.security_summary(session, auditor)
    assert summary.count >= 1 and summary.recent[0].action == "identity.login.failed"
    assert summary.recent[0].source_ip == "10.4.4.4"
    # The actor filter takes an account name (matched through its indexed id) or an id.
    by_name = service.search_records(session, auditor, AuditFilter(actor=user.username, outcome="failure"))
    by_id = service.search_records(session, auditor, AuditFilter(actor=str(user.id), outcome="failure"))
    assert [r.id for r in by_name.items] == [r.id for r in by_id.items] == [summary.recent[0].id]


_ANY_TEXT = st.text() | st.text(st.characters(codec=None, exclude_categories=()))  # with lone surrogates
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ANY_TEXT, inner, max_size=4),
    max_leaves=24,
)


@pytest.mark.article("A31.2")
@given(_JSON)
@example({"中文": "\u2028\x00\x1f\x7f\ufeff", "Z": 2**70, "a": [True, None, -1]})
def test_the_canonical_form_is_the_one_every_record_so_far_was_hashed_over(value: object) -> None:
    """Records already in a trail were hashed over ``json.dumps``' form: the faster writer must give the
    same bytes for anything a record can hold, or those records would stop verifying."""
    body = {"after": value, "chain": 2, "actor_name": "审计员"}
    try:
        expected = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:  # a lone surrogate cannot be written by either
        with pytest.raises(UnicodeEncodeError):
            service.canonical_json(body)
        return
    assert service.canonical_json(body) == expected
