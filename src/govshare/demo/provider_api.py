"""The demo's provider interface: 市自然资源局's 不动产登记 lookup, as a small JSON API with an OpenAPI document.

It is the kind of upstream a provider registers for 接口对接 (A24.1): an address in the provider's
network (here 127.0.0.1), a key in a request header, query parameters, and a description document
(FastAPI's own OpenAPI 3 document). It reads the ``real_estate`` table of the demo's SQLite provider
database (``sources.py``) read-only, one connection per request. ``start`` runs it with uvicorn in a
daemon thread, so it lives as long as the ``govshare demo`` process that started it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, Header, Query
from fastapi.responses import JSONResponse

API_KEY_HEADER = "X-Api-Key"
DEMO_API_KEY = "bdc-demo-key-0931"  # the demo's own upstream credential; the platform stores it encrypted
PREFERRED_PORT = 18931  # 0931, Lanzhou's area code: stable across runs so a kept mount stays valid
LOOKUP_PATH = "/bdc/v1/registrations"
HEALTH_PATH = "/bdc/v1/health"
MAX_RECORDS = 50

# Response field → the 信息项 of 不动产登记信息 it carries (the data dictionary of the registration).
FIELDS: dict[str, str] = {
    "bdcdyh": "不动产单元号",
    "qlr": "权利人",
    "qlrzjhm": "权利人证件号码",
    "zl": "坐落",
    "bdcqzh": "不动产权证书号",
    "qllx": "权利类型",
    "yt": "用途",
    "mj": "面积",
    "djrq": "登记日期",
}
_COLUMNS = {
    "bdcdyh": "unit_number",
    "qlr": "holder",
    "qlrzjhm": "holder_id_number",
    "zl": "location",
    "bdcqzh": "certificate_number",
    "qllx": "right_type",
    "yt": "usage",
    "mj": "area",
    "djrq": "registered_on",
}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "data": []}, status_code=status)


def create_app(database: Path, api_key: str = DEMO_API_KEY) -> FastAPI:
    """The provider's API over the ``real_estate`` table of ``database``."""
    app = FastAPI(
        title="兰州市不动产登记信息查询接口",
        version="1.0.0",
        description="兰州市自然资源局不动产登记服务中心提供的不动产登记信息查询接口(演示数据)。"
        f"调用须在请求头 {API_KEY_HEADER} 中携带接口密钥。",
        docs_url=None,
        redoc_url=None,
    )
    uri = f"file:{database.resolve().as_posix()}?mode=ro"
    select_list = ", ".join(f"{column} AS {field}" for field, column in _COLUMNS.items())

    def query(sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute(sql, params).fetchall()]

    @app.get(
        LOOKUP_PATH,
        summary="按权利人证件号码查询不动产登记信息",
        responses={401: {"description": "接口密钥无效"}, 400: {"description": "参数有误"}},
    )
    def registrations(
        qlrzjhm: Annotated[str, Query(description="权利人证件号码(18 位公民身份号码)", max_length=18)] = "",
        bdcdyh: Annotated[str, Query(description="不动产单元号(28 位)", max_length=28)] = "",
        x_api_key: Annotated[str, Header(alias=API_KEY_HEADER, description="接口密钥")] = "",
    ) -> JSONResponse:
        if x_api_key != api_key:
            return _error(401, "4010", "接口密钥无效")
        if qlrzjhm:
            where, value = "holder_id_number = ?", qlrzjhm.upper()
        elif bdcdyh:
            where, value = "unit_number = ?", bdcdyh.upper()
        else:
            return _error(400, "4000", "请提供权利人证件号码 qlrzjhm 或不动产单元号 bdcdyh")
        sql = f"SELECT {select_list} FROM real_estate WHERE {where} ORDER BY registered_on LIMIT ?"  # noqa: S608
        records = query(sql, (value, MAX_RECORDS))
        return JSONResponse({"code": "0000", "message": "查询成功", "total": len(records), "data": records})

    @app.get(HEALTH_PATH, summary="接口可用性检测")
    def health(x_api_key: Annotated[str, Header(alias=API_KEY_HEADER)] = "") -> JSONResponse:
        if x_api_key != api_key:
            return _error(401, "4010", "接口密钥无效")
        count = query("SELECT count(*) AS n FROM real_estate", ())[0]["n"]
        return JSONResponse({"code": "0000", "message": "服务正常", "records": count})

    return app


def openapi_document(app: FastAPI) -> bytes:
    """The description document the provider uploads with its registration (OpenAPI 3, JSON)."""
    return json.dumps(app.openapi(), ensure_ascii=False, indent=2).encode()


def sample_id_numbers(database: Path, limit: int = 5) -> list[str]:
    """A few 权利人证件号码 that have records, for trying the interface."""
    with contextlib.closing(sqlite3.connect(f"file:{database.resolve().as_posix()}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT holder_id_number FROM real_estate ORDER BY id LIMIT ?", (limit,)).fetchall()
    return [str(r[0]) for r in rows]


@dataclass
class ProviderApi:
    """A running provider API: its base address and how to stop it."""

    app: FastAPI
    host: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def lookup_url(self) -> str:
        return self.base_url + LOOKUP_PATH

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _any_free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def start(database: Path, *, host: str = "127.0.0.1", port: int | None = PREFERRED_PORT) -> ProviderApi:
    """Serve the provider API in a daemon thread on ``port`` if free, else on any free port."""
    chosen = port if port and _port_free(host, port) else _any_free_port(host)
    app = create_app(database)
    config = uvicorn.Config(app, host=host, port=chosen, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="demo-provider-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("演示提供方接口未能启动")
        time.sleep(0.05)
    return ProviderApi(app=app, host=host, port=chosen, server=server, thread=thread)
