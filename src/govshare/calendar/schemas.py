"""Calendar input and output shapes for the JSON API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from govshare.calendar.service import YEAR_STATUS_LABELS, DayInfo, Due, YearOverview, YearStatus


class DayRead(BaseModel):
    day: dt.date
    working: bool = Field(description="是否为工作日")
    corrected: bool = Field(description="是否经管理员更正或载入")
    name: str = Field("", description="节日名称(chinese-calendar 内置年度)")
    note: str = Field("", description="更正说明")
    provisional: bool = Field(False, description="所在年度尚未载入节假日安排,仅按周末判断")

    @classmethod
    def of(cls, info: DayInfo) -> DayRead:
        return cls(
            day=info.day,
            working=info.working,
            corrected=info.corrected,
            name=info.name,
            note=info.note,
            provisional=info.provisional,
        )


class CorrectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: dt.date
    working: bool = Field(description="true 为班(工作日),false 为休")
    note: str
    set_by_name: str
    set_at: dt.datetime


class CorrectionWrite(BaseModel):
    working: bool = Field(description="true 为班(工作日),false 为休")
    note: str = Field(min_length=1, max_length=200, description="说明,如依据的通知文号")


class LoadedYearRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    year: int
    source: str
    loaded_by_name: str
    loaded_at: dt.datetime


class CalendarYearRead(BaseModel):
    year: int
    status: YearStatus = Field(description="official 内置 / loaded 已载入 / provisional 暂定")
    status_label: str
    source: str | None = Field(None, description="载入依据(仅已载入年度)")
    loaded_by: str | None = None
    loaded_at: dt.datetime | None = None
    days_off: list[DayRead] = Field(description="放假的周一至周五")
    extra_working_days: list[DayRead] = Field(description="调休上班的周六、周日")
    corrections: list[CorrectionRead]

    @classmethod
    def of(cls, overview: YearOverview) -> CalendarYearRead:
        loaded = overview.loaded
        return cls(
            year=overview.year,
            status=overview.status,
            status_label=YEAR_STATUS_LABELS[overview.status],
            source=loaded.source if loaded is not None else None,
            loaded_by=loaded.loaded_by_name if loaded is not None else None,
            loaded_at=loaded.loaded_at if loaded is not None else None,
            days_off=[DayRead.of(d) for d in overview.days_off],
            extra_working_days=[DayRead.of(d) for d in overview.extra_working_days],
            corrections=[CorrectionRead.model_validate(c) for c in overview.corrections],
        )


class DueRead(BaseModel):
    start: dt.date
    days: int
    due: dt.date
    provisional: bool = Field(description="计算经过尚未载入节假日安排的年度时为 true,结果仅按周末推算")
    label: str

    @classmethod
    def of(cls, start: dt.date, days: int, due: Due) -> DueRead:
        return cls(start=start, days=days, due=due.date, provisional=due.provisional, label=due.label)
