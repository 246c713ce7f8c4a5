"""Calendar JSON routes: a year, deadline arithmetic, corrections and year uploads."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status

from govshare.calendar import service
from govshare.calendar.schemas import (
    CalendarYearRead,
    CorrectionRead,
    CorrectionWrite,
    DayRead,
    DueRead,
    LoadedYearRead,
)
from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission

router = APIRouter(prefix="/calendar", tags=["工作日历"])
Reader = Annotated[Actor, Depends(require(Permission.calendar_read))]
Manager = Annotated[Actor, Depends(require(Permission.calendar_manage))]


@router.get("/add-working-days", response_model=DueRead, summary="按工作日推算截止日期")
def add_working_days(
    session: SessionDep,
    actor: Reader,
    start: Annotated[dt.date, Query(description="起算日(不计入),如 2026-09-28")],
    days: Annotated[int, Query(ge=0, le=service.MAX_DAYS, description="工作日天数;第 1 天为起算日后的第一个工作日")],
) -> DueRead:
    return DueRead.of(start, days, service.add_working_days(session, start, days))


@router.get("/days/{day}", response_model=DayRead, summary="某日是否为工作日")
def get_day(day: dt.date, session: SessionDep, actor: Reader) -> DayRead:
    return DayRead.of(service.day_info(session, day))


@router.put("/days/{day}", response_model=CorrectionRead, summary="更正某日(休/班)")
def set_day(day: dt.date, body: CorrectionWrite, session: SessionDep, actor: Manager) -> CorrectionRead:
    row = service.set_day(session, actor, day=day, working=body.working, note=body.note)
    return CorrectionRead.model_validate(row)


@router.delete("/days/{day}", status_code=status.HTTP_204_NO_CONTENT, summary="撤销某日的更正")
def remove_day(day: dt.date, session: SessionDep, actor: Manager) -> None:
    service.remove_correction(session, actor, day=day)


@router.post("/years/{year}", response_model=LoadedYearRead, summary="上传并载入某年度节假日安排(替换该年度的更正)")
def load_year(
    year: int,
    session: SessionDep,
    actor: Manager,
    file: Annotated[UploadFile, File(description="CSV(日期,类型[,说明])或 JSON 年度文件")],
    source: Annotated[str, Form(max_length=200, description="依据,如国务院办公厅通知文号")] = "",
) -> LoadedYearRead:
    content = file.file.read(service.MAX_FILE_BYTES + 1)
    row = service.load_year_file(
        session, actor, content=content, filename=file.filename or "", source=source, expected_year=year
    )
    return LoadedYearRead.model_validate(row)


@router.get("/{year}", response_model=CalendarYearRead, summary="某年度的放假与调休安排")
def get_year(year: int, session: SessionDep, actor: Reader) -> CalendarYearRead:
    return CalendarYearRead.of(service.year_overview(session, year))
