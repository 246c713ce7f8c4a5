"""Reads of shared data are spread over several audit chains so that concurrent reads do not queue on
one lock; every chain is verified, and tampering in a read chain is found and named with its chain."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from govshare.audit import service
from govshare.audit.actions import READ_ACTIONS, Action
from govshare.audit.models import AuditChainHead, AuditRecord
from govshare.identity.actor import Actor


def _reads(session: Session, n: int) -> list[AuditRecord]:
    actor = Actor.system(name="consumer-system")
    return [
        service.record(session, actor, Action.data_read, object_type="resource", object_id=i, after={"rows": 100})
        for i in range(n)
    ]


def test_reads_go_to_read_chains_and_state_changes_to_the_main_chain(session: Session) -> None:
    assert Action.data_read in READ_ACTIONS and Action.grant_revoked not in READ_ACTIONS
    change = service.record(session, Actor.system(), Action.grant_revoked, object_type="grant", object_id=1)
    reads = _reads(session, 60)
    assert change.chain == service.MAIN_CHAIN
    chains = {r.chain for r in reads}
    assert service.MAIN_CHAIN not in chains
    assert len(chains) > 1  # 60 reads over 16 chains land on several of them
    for chain in chains:
        seqs = sorted(r.seq for r in reads if r.chain == chain)
        head = session.get(AuditChainHead, chain)
        assert head is not None and head.last_seq == seqs[-1]
    result = service.verify(session)
    assert result.ok, result.finding
    assert result.checked >= 61


def test_an_edited_read_record_is_named_with_its_chain(session: Session) -> None:
    reads = _reads(session, 20)
    victim = reads[7]
    session.flush()
    session.execute(text("UPDATE audit_record SET object_id = 'x' WHERE id = :i"), {"i": victim.id})
    session.expire_all()
    result = service.verify(session)
    assert result.finding is not None
    assert result.finding.record_id == victim.id
    assert result.finding.chain == victim.chain
    assert f"读取记录链 {victim.chain}" in result.finding.message


def test_a_read_record_moved_to_another_chain_breaks_verification(session: Session) -> None:
    reads = _reads(session, 40)
    by_chain: dict[int, list[AuditRecord]] = {}
    for r in reads:
        by_chain.setdefault(r.chain, []).append(r)
    source = next(rs for rs in by_chain.values() if len(rs) >= 2)
    moved = source[-1]
    target = max(session.execute(select(AuditChainHead.id)).scalars()) + 1
    session.execute(text("UPDATE audit_record SET chain = :c, seq = 1 WHERE id = :i"), {"c": target, "i": moved.id})
    session.expire_all()
    result = service.verify(session)
    assert not result.ok
