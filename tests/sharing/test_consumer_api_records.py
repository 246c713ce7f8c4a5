"""The data API's request path writes its access and audit records without ORM objects
(``sharing.access.record_access_and_audit``): the records must be exactly what ``audit.record``
would write, so the trail verifies; and the grant is still read on every call."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.audit.models import AuditRecord
from govshare.db import Database
from govshare.identity.actor import Actor
from govshare.sharing import grants
from govshare.sharing.access import ReadRecord, record_access_and_audit
from govshare.sharing.models import AccessRecord
from tests.factories import Factory
from tests.own_database import own_platform_database
from tests.sharing.consumer_setup import World, build, read


@pytest.fixture
def world(factory: Factory, session: Session) -> World:
    return build(factory, session, rows=30)


@pytest.mark.article("A35.1")
def test_many_reads_leave_one_access_and_one_verifiable_audit_record_each(
    client: TestClient, session: Session, world: World
) -> None:
    for _ in range(12):
        r = read(client, world, limit=5)
        assert r.status_code == 200, r.text
    session.expire_all()
    accesses = session.execute(select(AccessRecord).where(AccessRecord.grant_id == world.grant.id)).scalars().all()
    reads = session.execute(select(AuditRecord).where(AuditRecord.action == "sharing.data.read")).scalars().all()
    assert len(accesses) == 12 and len(reads) == 12
    assert {a.request_id for a in accesses} == {r.request_id for r in reads}
    record = reads[0]
    assert record.chain != audit.MAIN_CHAIN  # reads go to the read chains
    assert record.role == "consumer" and record.object_type == "resource" and record.object_id == str(world.resource.id)
    assert record.after is not None and record.after["rows"] == 5 and record.after["grant_id"] == world.grant.id
    assert record.before is None and record.outcome == "success"
    assert record.hash == audit.compute_hash(record)
    result = audit.verify(session)
    assert result.ok, result.finding


def test_a_revoked_grant_refuses_the_next_call(client: TestClient, session: Session, world: World) -> None:
    assert read(client, world, limit=5).status_code == 200
    grants.change_status(session, Actor.system(), world.grant.id, "revoke", reason="项目结束")
    session.commit()
    r = read(client, world, limit=5)
    assert r.status_code == 403 and r.json()["code"] == "grant_revoked"
    assert "项目结束" in r.json()["detail"]


@pytest.fixture
def isolated_db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """A database of its own, because concurrent transactions must really commit."""
    with own_platform_database(database_url, tmp_path, "records") as db:
        yield db


def test_concurrent_reads_keep_every_chain_whole(isolated_db: Database) -> None:
    """12 threads × 10 records at once (PostgreSQL: each takes a free read chain, SKIP LOCKED)."""
    with isolated_db.session_scope() as s:
        f = Factory(s)
        provider, consumer = f.department("兰州市公安局"), f.department("兰州市民政局")
        resource = f.published_resource(provider)
        ids = (resource.id, provider.id, consumer.id)
    actor = Actor.system()
    errors: list[BaseException] = []

    def reads() -> None:
        try:
            for _ in range(10):
                with isolated_db.session_scope() as s:
                    record_access_and_audit(
                        s,
                        ReadRecord(
                            actor,
                            Action.data_read,
                            kind="rows",
                            resource_id=ids[0],
                            provider_id=ids[1],
                            consumer_department_id=ids[2],
                            consumer_system_id=None,
                            user_id=None,
                            grant_id=None,
                            purpose="并发测试",
                            data_item_ids=[],
                            row_count=1,
                            audit_after={"rows": 1},
                        ),
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reads) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with isolated_db.session_scope() as s:
        assert s.scalar(select(func.count()).select_from(AccessRecord)) == 120
        reads_written = s.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == str(Action.data_read))
        )
        assert reads_written == 120
        result = audit.verify(s)
        assert result.ok, result.finding
