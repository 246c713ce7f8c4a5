"""The consumer data API: bearer tokens, and rows of a resource for a consumer system (or a person).

The route commits the access and audit records explicitly before it returns the body, so no row
leaves the platform unrecorded. Rows are serialised once, without a response model: a page is
plain JSON built column by column in ``sharing.data``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from govshare.db import Database
from govshare.deps import SessionDep, require
from govshare.errors import Forbidden
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.sharing import data
from govshare.sharing.consumer_auth import (
    NONCE_TTL_SECONDS,
    TIMESTAMP_WINDOW_SECONDS,
    TOKEN_MINUTES,
    ConsumerCaller,
    ConsumerRequestDep,
    SignedConsumerDep,
    SignedRequest,
    consumer_session,
    issue_token,
    signed_request,
)
from govshare.sharing.consumer_rows import ConsumerRowsPath
from govshare.sharing.data import Reader

CONSUMER_TAG = "数据共享接口(应用系统)"
router = APIRouter(prefix="/consumer", tags=[CONSUMER_TAG])
# the signing rules, shown with the tag in the API docs: what the engineer connecting a system needs
CONSUMER_TAG_DOC = (
    "应用系统凭本部门数据资源管理员登记时取得的应用标识(App Key)和密钥(Secret)调用。每个请求带四个请求头:"
    "`X-GS-Key`(应用标识)、`X-GS-Timestamp`(Unix 秒,与平台时间相差不超过 "
    f"{TIMESTAMP_WINDOW_SECONDS} 秒)、`X-GS-Nonce`(16–64 位字母、数字、`_` 或 `-`,"
    f"{NONCE_TTL_SECONDS // 60} 分钟内不得重复)和 `X-GS-Signature`。"
    "签名为 HMAC-SHA256(密钥, 待签字符串) 的十六进制小写,待签字符串由以下六行以换行符连接:"
    "请求方法(大写)、路径(如 `/api/v1/consumer/resources/101/000001/rows`)、规范化查询串(参数按名、再按值排序,"
    "RFC 3986 编码,以 `&` 连接)、请求体的 SHA-256 十六进制(无请求体时为空串的摘要)、时间戳、随机数。"
    f"也可先以签名调用 `POST /api/v1/consumer/token` 换取 {TOKEN_MINUTES} 分钟有效的访问令牌,"
    "以 `Authorization: Bearer` 调用。"
    "错误以 problem+json 返回,`code` 字段说明原因(如 `signature_invalid`、`timestamp_stale`、`nonce_reused`、"
    "`grant_expired`、`rate_limited`)。Python 客户端见 `govshare.sharing.client`。"
)
people_router = APIRouter(prefix="/sharing/data", tags=["数据共享接口(个人)"])
DataReader = Annotated[Actor, Depends(require(Permission.shared_data_read))]

_ROWS_DOC = (
    "按授权读取信息资源的数据行。`grant_id` 为授权编号(无条件共享资源可省略);`limit` 每页条数(1–1000,默认 100);"
    "`after` 为上一页返回的 `next` 游标;`sort=i<信息项编号>`、`order=asc|desc`;`i<信息项编号>=值` 为等值筛选,"
    "字符型值以 `*` 结尾为前缀筛选。只能筛选、排序授权范围内且未脱敏的信息项。不返回总数。"
)


def _json(body: dict[str, Any], status_code: int = 200) -> Response:
    # orjson: the rows API's pages are its largest answers (json.dumps was ~5 % of a call's server time)
    return Response(
        orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS), status_code=status_code, media_type="application/json"
    )


def caller_reader(caller: ConsumerCaller) -> Reader:
    return Reader(actor=caller.actor, department_id=caller.department_id, system_id=caller.system_id)


def person_reader(actor: Actor) -> Reader:
    if actor.department_id is None:
        raise Forbidden("只有部门工作人员可以读取共享数据", code="no_department")
    return Reader(actor=actor, department_id=actor.department_id, user_id=actor.user_id)


@router.post("/token", summary="获取访问令牌(须签名)")
def token(session: SessionDep, caller: SignedConsumerDep) -> Response:
    access_token, expires = issue_token(session, caller)
    session.commit()
    return _json(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_MINUTES * 60,
            "expires_at": expires.isoformat(),
        }
    )


class ConsumerRowsRoute(APIRoute):
    """The rows endpoint: documented from ``rows``' signature, served by ``serve_rows_request`` directly
    (no dependency solving, no worker thread on PostgreSQL): the platform's hottest path."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return serve_rows_request


def rows(
    code: str,
    _: ConsumerRequestDep,
    grant_id: int | None = None,
    limit: int = data.DEFAULT_LIMIT,
    after: str | None = None,
    sort: str | None = None,
    order: str = "asc",
    purpose: str = "",
) -> None:
    """The route's parameters as OpenAPI shows them; ``ConsumerRowsRoute`` serves the route itself
    (``serve_rows_request``), so this function is never called."""


async def serve_rows_request(request: Request) -> Response:
    """One page for a consumer system: on PostgreSQL asynchronously (``consumer_rows``), otherwise the
    whole call (authentication, grant, page, records, commit) in one worker thread and one transaction."""
    req = await signed_request(request)
    code = request.path_params["code"]
    db: Database = request.app.state.db
    path: ConsumerRowsPath | None = request.app.state.consumer_rows  # set by create_app where it applies
    if path is not None:
        return _json((await path.serve(req, code, request.state)).as_dict())
    return await run_in_threadpool(serve_rows, db, req, code, request.state)


ROWS_PATH = "/api/v1/consumer/resources/{code:path}/rows"


def add_rows_route(app: FastAPI) -> None:
    """The rows endpoint, on the application itself rather than in ``router``: FastAPI reaches a route of
    an included router through four more layers of dispatch, on every call of the busiest route."""
    app.router.add_api_route(
        ROWS_PATH,
        rows,
        methods=["GET"],
        summary="读取共享数据",
        description=_ROWS_DOC,
        tags=list(router.tags),
        route_class_override=ConsumerRowsRoute,
    )


def serve_rows(db: Database, req: SignedRequest, code: str, state: Any = None) -> Response:
    """One page for a consumer system; the access and audit records are committed before it is returned."""
    with consumer_session(db, req) as (session, caller):
        if state is not None:
            state.actor = caller.actor  # a later refusal (e.g. a revoked grant) is audited as this system
        query, grant_id, purpose = data.rows_query(parse_qsl(req.query, keep_blank_values=True))
        page = data.read_rows(
            session, caller_reader(caller), resource_code=code, grant_id=grant_id, query=query, purpose=purpose
        )
        session.commit()  # the access record is durable before any row leaves
    return _json(page.as_dict())


@people_router.get("/{code:path}/rows", summary="读取共享数据(个人)", description=_ROWS_DOC)
def person_rows(code: str, request: Request, session: SessionDep, actor: DataReader) -> Response:
    query, grant_id, purpose = data.rows_query(request.query_params.multi_items())
    page = data.read_rows(
        session, person_reader(actor), resource_code=code, grant_id=grant_id, query=query, purpose=purpose
    )
    session.commit()
    return _json(page.as_dict())
