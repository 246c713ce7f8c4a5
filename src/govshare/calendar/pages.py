"""Calendar pages: the year view with its corrections, the correction and upload forms.

Also registers the template globals every page uses to show a clock the same way:
``wd_clock(view)`` for a ``ClockView`` and ``wd_due(date, provisional)`` for a bare due date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.responses import FileResponse, Response

from govshare.calendar import service
from govshare.calendar.service import ClockView, YearStatus
from govshare.deps import SessionDep, require
from govshare.errors import NotFound, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit.clock import today
from govshare.web.dashboard import Panel, register_panels
from govshare.web.templating import redirect, render, templates

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Depends(require(Permission.calendar_read))]
Manager = Annotated[Actor, Depends(require(Permission.calendar_manage))]
EXAMPLE_FILE = Path(__file__).resolve().parent / "examples" / "2027.example.csv"
_PROVISIONAL_HINT = "所在年度的节假日安排尚未载入,按周末推算,待管理员载入后以正式安排为准"


def wd_clock(view: ClockView) -> Markup:
    """``<span class="clock late provisional">已逾期 2 个工作日(暂定)</span>``, with the due date as title."""
    title = f"截止日期 {view.due.isoformat()}" + (f";{_PROVISIONAL_HINT}" if view.provisional else "")
    return Markup('<span class="{}" data-due="{}" title="{}">{}</span>').format(
        view.css, view.due.isoformat(), title, view.label
    )


def wd_due(due: dt.date | None, provisional: bool = False) -> Markup:
    """A due date, marked 暂定 when it was computed through a year nobody has loaded."""
    if due is None:
        return Markup("")
    if not provisional:
        return Markup('<span class="due">{}</span>').format(due.isoformat())
    return Markup('<span class="due provisional" data-due="{}" title="{}">{}(暂定)</span>').format(
        due.isoformat(), _PROVISIONAL_HINT, due.isoformat()
    )


templates.env.globals["wd_clock"] = wd_clock
templates.env.globals["wd_due"] = wd_due


@register_panels
def _calendar_panels(session: Session, actor: Actor) -> list[Panel]:
    """Remind the administrator to load a year that is still provisional (the notice comes late)."""
    if not actor.can(Permission.calendar_manage):
        return []
    current = today()
    years = [current.year] + ([current.year + 1] if current.month >= 11 else [])
    missing = [y for y in years if service.year_status(session, y) is YearStatus.provisional]
    if not missing:
        return []
    lines = [(f"{y} 年节假日安排尚未载入,相关期限按周末推算(暂定)", f"/calendar?year={y}") for y in missing]
    return [
        Panel(title="工作日历待载入", count=len(missing), link=f"/calendar?year={missing[0]}", lines=lines, tone="late")
    ]


def _year_page(
    request: Request,
    session: Session,
    actor: Actor,
    year: int,
    *,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    overview = service.year_overview(session, year)
    context: dict[str, Any] = {
        "title": f"工作日历 {year} 年",
        "overview": overview,
        "today": today(),
        "day_form": {"day": "", "kind": "休", "note": ""},
        "upload_form": {"year": str(year), "source": ""},
        "min_year": service.MIN_YEAR,
        "max_year": service.MAX_YEAR,
    }
    context.update(extra or {})
    return render(request, "calendar/year.html", context, actor=actor, status_code=status_code)


@router.get("/calendar")
def year_page(
    request: Request,
    session: SessionDep,
    actor: Reader,
    year: Annotated[int | None, Query(ge=service.MIN_YEAR, le=service.MAX_YEAR)] = None,
) -> Response:
    return _year_page(request, session, actor, year or today().year)


@router.get("/calendar/example.csv")
def example_file(actor: Reader) -> Response:
    if not EXAMPLE_FILE.is_file():
        raise NotFound("示例文件不在本次安装中", code="calendar_example_missing")
    return FileResponse(EXAMPLE_FILE, media_type="text/csv; charset=utf-8", filename="2027.example.csv")


@router.post("/calendar/days")
def correct_day(
    request: Request,
    session: SessionDep,
    actor: Manager,
    day: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    parsed = service.parse_date(day)
    try:
        working = service.parse_day_type(kind, "kind")
        row = service.set_day(session, actor, day=service.parse_day(day), working=working, note=note)
    except ValidationFailed as exc:
        shown = parsed.year if parsed is not None and service.MIN_YEAR <= parsed.year <= service.MAX_YEAR else None
        return _year_page(
            request,
            session,
            actor,
            shown or today().year,
            extra={"day_form": {"day": day, "kind": kind, "note": note}, "day_error": exc},
            status_code=422,
        )
    what = "班(工作日)" if row.working else "休"
    return redirect(f"/calendar?year={row.day.year}#m{row.day.month}", f"已将 {row.day.isoformat()} 设为{what}")


@router.post("/calendar/days/{day}/delete")
def remove_correction(day: dt.date, session: SessionDep, actor: Manager) -> Response:
    service.remove_correction(session, actor, day=day)
    return redirect(f"/calendar?year={day.year}#m{day.month}", f"已撤销 {day.isoformat()} 的更正")


@router.post("/calendar/years")
def upload_year(
    request: Request,
    session: SessionDep,
    actor: Manager,
    file: Annotated[UploadFile | None, File()] = None,
    year: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
) -> Response:
    expected = int(year) if year.strip().isdigit() else None
    try:
        content = file.file.read(service.MAX_FILE_BYTES + 1) if file is not None else b""
        loaded = service.load_year_file(
            session,
            actor,
            content=content,
            filename=(file.filename or "") if file is not None else "",
            source=source,
            expected_year=expected,
        )
    except ValidationFailed as exc:
        shown = expected if expected is not None and service.MIN_YEAR <= expected <= service.MAX_YEAR else None
        return _year_page(
            request,
            session,
            actor,
            shown or today().year,
            extra={"upload_form": {"year": year, "source": source}, "upload_error": exc},
            status_code=422,
        )
    return redirect(f"/calendar?year={loaded.year}", f"已载入 {loaded.year} 年节假日安排(依据:{loaded.source})")
