"""The data API's request path writes its access and audit records without ORM objects
(``sharing.access.record_access_and_audit``): the records must be exactly what ``audit.record``
would write, so the trail verifies; and the grant is still read on every call."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.models import AuditRecord
from govshare.identity.actor import Actor
from govshare.sharing import grants
from govshare.sharing.models import AccessRecord
from tests.factories import Factory
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
