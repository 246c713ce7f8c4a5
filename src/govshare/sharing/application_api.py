"""Applications, decisions, coordination and refusal counts: JSON routes under /api/v1/sharing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.sharing import applications as service
from govshare.sharing import coordination as coordination_service
from govshare.sharing.applications import ItemDecision, ItemRequest, ListScope
from govshare.sharing.enums import ApplicationStatus, CoordinationStatus
from govshare.sharing.models import Application, Coordination
from govshare.sharing.schemas import (
    ApplicationCreate,
    ApplicationDetail,
    ApplicationItemRead,
    ApplicationRead,
    CoordinationCreate,
    CoordinationDecisionIn,
    CoordinationDetail,
    CoordinationNoteRead,
    CoordinationRead,
    DecisionIn,
    NoteIn,
    RefusalCountRead,
    RefusalReport,
    WithdrawIn,
)
from govshare.web.api_helpers import ClockRead, read_model

router = APIRouter(prefix="/sharing", tags=["共享申请与协调"])

Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
Applicant = Annotated[Actor, Depends(require(Permission.sharing_apply))]
Provider = Annotated[Actor, Depends(require(Permission.sharing_decide))]
Authority = Annotated[Actor, Depends(require(Permission.coordination_decide))]
Overseer = Annotated[Actor, Depends(require(Permission.sharing_oversee))]


def _read(row: service.ApplicationRow) -> ApplicationRead:
    return read_model(
        ApplicationRead,
        row.application,
        resource_code=row.resource.code,
        resource_name=row.resource.name,
        provider_name=row.provider.name,
        consumer_department_name=row.consumer.name,
        authority_name=row.authority_name,
        clock=ClockRead.of(row.clock),
        reminded=row.reminded,
        overdue_flagged=row.overdue_flagged,
    )


def _detail(view: service.ApplicationView) -> ApplicationDetail:
    return ApplicationDetail(
        **_read(view).model_dump(),
        items=[
            ApplicationItemRead(
                data_item_id=r.item.data_item_id,
                name=r.data_item.name,
                is_basic=r.data_item.is_basic,
                sensitivity=r.data_item.sensitivity,
                reason=r.item.reason,
                decision=r.item.decision,
                refusal_reason=r.item.refusal_reason,
            )
            for r in view.items
        ],
        grant_ids=[g.id for g in view.grants],
        coordination_ids=[c.id for c in view.coordinations],
    )


def _done(session: Session, actor: Actor, app: Application) -> ApplicationDetail:
    return _detail(service.get_application(session, actor, app.id))


@router.get("/applications", response_model=list[ApplicationRead], summary="共享申请列表(含答复期限)")
def list_applications(
    session: SessionDep,
    actor: Reader,
    scope: Annotated[
        ListScope, Query(description="mine 我的申请 / inbox 待我答复 / oversee 主管机构总览 / all 可见的全部")
    ] = ListScope.all,
    status: ApplicationStatus | None = None,
    overdue: bool = False,
    resource_id: int | None = None,
) -> list[ApplicationRead]:
    rows = service.list_applications(
        session, actor, scope=scope, status=status, overdue=overdue, resource_id=resource_id
    )
    return [_read(row) for row in rows]


@router.post("/applications", response_model=ApplicationDetail, status_code=201, summary="提出共享申请(开始计时)")
def submit_application(body: ApplicationCreate, session: SessionDep, actor: Applicant) -> ApplicationDetail:
    app = service.submit_application(
        session,
        actor,
        resource_id=body.resource_id,
        items=[ItemRequest(i.data_item_id, i.reason) for i in body.items],
        scenario=body.scenario,
        duty_basis=body.duty_basis,
        purpose=body.purpose,
        period_from=body.period_from,
        period_until=body.period_until,
        consumer_system_id=body.consumer_system_id,
    )
    return _done(session, actor, app)


@router.get("/applications/{application_id:int}", response_model=ApplicationDetail, summary="共享申请详情")
def get_application(application_id: int, session: SessionDep, actor: Reader) -> ApplicationDetail:
    return _detail(service.get_application(session, actor, application_id))


@router.post("/applications/{application_id:int}/withdraw", response_model=ApplicationDetail, summary="撤回共享申请")
def withdraw_application(
    application_id: int, body: WithdrawIn, session: SessionDep, actor: Applicant
) -> ApplicationDetail:
    app = service.withdraw_application(
        session, actor, application_id, reason=body.reason, expected_version=body.expected_version
    )
    return _done(session, actor, app)


@router.post(
    "/applications/{application_id:int}/decision",
    response_model=ApplicationDetail,
    summary="提供部门答复(逐信息项同意或不同意;同意即生成授权)",
)
def decide_application(
    application_id: int, body: DecisionIn, session: SessionDep, actor: Provider
) -> ApplicationDetail:
    app = service.decide_application(
        session,
        actor,
        application_id,
        decisions=[ItemDecision(i.data_item_id, i.approve, i.reason) for i in body.items],
        outcome=body.outcome,
        reason=body.reason,
        conditions=body.conditions,
        granted_until=body.granted_until,
        masking=body.masking,
        masking_reason=body.masking_reason,
        expected_version=body.expected_version,
    )
    return _done(session, actor, app)


# --------------------------------------------------------------------------------------- coordination


def _coordination(row: coordination_service.CoordinationRow) -> CoordinationRead:
    return read_model(
        CoordinationRead,
        row.coordination,
        resource_name=row.resource.name,
        provider_name=row.provider.name,
        consumer_department_name=row.consumer.name,
        authority_name=row.authority_name,
        data_item_ids=list(row.coordination.data_item_ids),
        clock=ClockRead.of(row.clock),
    )


def _coordination_detail(session: Session, actor: Actor, coordination: Coordination) -> CoordinationDetail:
    view = coordination_service.get_coordination(session, actor, coordination.id)
    return CoordinationDetail(
        **_coordination(view).model_dump(),
        notes=[CoordinationNoteRead(id=n.id, body=n.body, created_at=n.created_at) for n in view.notes],
        grant_ids=[g.id for g in view.grants],
    )


@router.get("/coordinations", response_model=list[CoordinationRead], summary="协调事项列表")
def list_coordinations(
    session: SessionDep,
    actor: Reader,
    status: CoordinationStatus | None = None,
    to_decide: Annotated[bool, Query(description="只看待本机构协调的")] = False,
) -> list[CoordinationRead]:
    rows = coordination_service.list_coordinations(session, actor, status=status, to_decide=to_decide)
    return [_coordination(r) for r in rows]


@router.post("/coordinations", response_model=CoordinationDetail, status_code=201, summary="申请协调")
def request_coordination(body: CoordinationCreate, session: SessionDep, actor: Applicant) -> CoordinationDetail:
    coordination = coordination_service.request_coordination(session, actor, **body.model_dump())
    return _coordination_detail(session, actor, coordination)


@router.get("/coordinations/{coordination_id:int}", response_model=CoordinationDetail, summary="协调事项详情")
def get_coordination(coordination_id: int, session: SessionDep, actor: Reader) -> CoordinationDetail:
    view = coordination_service.get_coordination(session, actor, coordination_id)
    return _coordination_detail(session, actor, view.coordination)


@router.post(
    "/coordinations/{coordination_id:int}/notes",
    response_model=CoordinationDetail,
    status_code=201,
    summary="记录协调过程",
)
def add_note(coordination_id: int, body: NoteIn, session: SessionDep, actor: Authority) -> CoordinationDetail:
    coordination_service.add_note(session, actor, coordination_id, body=body.body)
    view = coordination_service.get_coordination(session, actor, coordination_id)
    return _coordination_detail(session, actor, view.coordination)


@router.post(
    "/coordinations/{coordination_id:int}/decision",
    response_model=CoordinationDetail,
    summary="作出协调结果(予以共享即生成授权,或说明理由不予共享)",
)
def decide_coordination(
    coordination_id: int, body: CoordinationDecisionIn, session: SessionDep, actor: Authority
) -> CoordinationDetail:
    coordination = coordination_service.decide_coordination(
        session,
        actor,
        coordination_id,
        grant=body.outcome == "granted",
        reason=body.reason,
        data_item_ids=body.data_item_ids,
        valid_until=body.valid_until,
        masking=body.masking,
        conditions=body.conditions,
        expected_version=body.expected_version,
    )
    return _coordination_detail(session, actor, coordination)


# --------------------------------------------------------------------------------------- A23.1


@router.get("/refusals", response_model=RefusalReport, summary="各提供部门拒绝共享情况统计")
def refusal_counts(
    session: SessionDep,
    actor: Overseer,
    since: Annotated[dt.date | None, Query(description="答复日期起(含)")] = None,
    until: Annotated[dt.date | None, Query(description="答复日期止(含)")] = None,
) -> RefusalReport:
    rows = coordination_service.refusal_counts(session, actor, since=since, until=until)
    return RefusalReport(
        since=since,
        until=until,
        providers=[
            RefusalCountRead(
                provider_id=r.provider_id,
                provider_name=r.provider_name,
                decided=r.decided,
                refused=r.refused,
                partially_refused=r.partially_refused,
                refusals=r.refusals,
                items_refused=r.items_refused,
                coordinated=r.coordinated,
                overturned=r.overturned,
                upheld=r.upheld,
                not_overturned=r.not_overturned,
            )
            for r in rows
        ],
    )
