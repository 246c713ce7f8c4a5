"""The catalog import page: upload a workbook, see every problem by row and column, or the result."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from starlette.responses import Response

from govshare.catalog import excel
from govshare.deps import SessionDep, require
from govshare.errors import ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.web.templating import render

router = APIRouter(prefix="/catalog", include_in_schema=False)
Importer = Annotated[Actor, Depends(require(Permission.catalog_import))]
TEMPLATE = "catalog/import.html"


def _page(actor: Actor, **extra: Any) -> dict[str, Any]:
    limits = excel.ImportLimits.from_settings()
    return {
        "department_id": actor.department_id,
        "max_mb": limits.max_bytes // (1024 * 1024),
        "max_rows": limits.max_resource_rows,
        **extra,
    }


@router.get("/import")
def import_form(request: Request, actor: Importer) -> Response:
    return render(request, TEMPLATE, _page(actor), actor=actor)


@router.post("/import")
def import_upload(
    request: Request, session: SessionDep, actor: Importer, file: Annotated[UploadFile, File()]
) -> Response:
    filename = file.filename or ""
    try:
        # A SAVEPOINT: a refusal re-renders the page, and nothing the call flushed may survive it.
        with session.begin_nested():
            result = excel.import_for_department(session, actor, file.file, filename=filename)
    except ValidationFailed as exc:
        context = _page(actor, detail=exc.detail, errors=exc.errors, filename=filename)
        return render(request, TEMPLATE, context, actor=actor, status_code=422)
    return render(request, TEMPLATE, _page(actor, result=result), actor=actor)
