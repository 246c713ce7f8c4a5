"""A real provider interface for the API-channel tests: a small FastAPI app served by uvicorn on 127.0.0.1.

It serves JSON lookups (婚姻登记-like records), echoes what it received, fails on demand, and streams
bodies in chunks — one of them held back until the test releases it, to prove the gateway streams.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

RECORDS = [
    {"cert_no": "J620102-2024-000123", "man": "张伟", "woman": "李娜", "registered_on": "2024-05-20"},
    {"cert_no": "J620102-2024-000124", "man": "王强", "woman": "赵敏", "registered_on": "2024-05-21"},
]
CHUNK = 64 * 1024


@dataclass
class Upstream:
    base_url: str
    port: int
    release: threading.Event = field(default_factory=threading.Event)
    first_chunk_sent: threading.Event = field(default_factory=threading.Event)
    seen: list[dict[str, Any]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def build_app(state: Upstream) -> FastAPI:
    app = FastAPI(title="兰州市民政局婚姻登记查询接口", version="1.2.0")

    def remember(request: Request) -> None:
        state.seen.append(
            {"path": request.url.path, "query": dict(request.query_params), "headers": dict(request.headers)}
        )

    @app.get("/health", summary="健康检查")
    def health(request: Request) -> dict[str, bool]:
        remember(request)
        return {"ok": True}

    @app.get("/marriage", summary="按证号查询婚姻登记")
    def by_query(request: Request, cert_no: str) -> dict[str, Any]:
        remember(request)
        found = [r for r in RECORDS if r["cert_no"] == cert_no]
        return {"code": 0, "data": found[0] if found else None}

    @app.get("/marriage/{cert_no}", summary="按证号查询(路径参数)")
    def by_path(request: Request, cert_no: str) -> dict[str, Any]:
        remember(request)
        return {"code": 0, "data": next((r for r in RECORDS if r["cert_no"] == cert_no), None), "asked": cert_no}

    @app.get("/marriages", summary="婚姻登记列表")
    def listing(request: Request) -> dict[str, Any]:
        remember(request)
        return {"code": 0, "data": {"items": RECORDS}}

    @app.post("/search", summary="检索(请求体)")
    async def search(request: Request) -> dict[str, Any]:
        remember(request)
        body = await request.json()
        return {"received": body, "region": request.headers.get("x-region", "")}

    @app.get("/auth", summary="回显凭据")
    def auth(request: Request) -> dict[str, str]:
        remember(request)
        return {"authorization": request.headers.get("authorization", "")}

    @app.get("/broken")
    def broken() -> JSONResponse:
        return JSONResponse({"error": "维护中"}, status_code=503)

    @app.get("/bulk")
    def bulk(chunks: int = 48) -> StreamingResponse:
        def body() -> Iterator[bytes]:
            for i in range(chunks):
                yield bytes([65 + i % 26]) * CHUNK

        return StreamingResponse(body(), media_type="application/octet-stream")

    @app.get("/gated")
    def gated() -> StreamingResponse:
        def body() -> Iterator[bytes]:
            yield b'{"part": 1}\n'
            state.first_chunk_sent.set()
            state.release.wait(10)
            yield b'{"part": 2}\n'

        return StreamingResponse(body(), media_type="application/x-ndjson")

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def closed_port() -> int:
    """A port nothing listens on (bound and released): a provider interface that is down."""
    return free_port()


def serve() -> Iterator[Upstream]:
    port = free_port()
    state = Upstream(base_url=f"http://127.0.0.1:{port}", port=port)
    config = uvicorn.Config(build_app(state), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("upstream did not start")
        time.sleep(0.02)
    yield state
    state.release.set()
    server.should_exit = True
    thread.join(timeout=10)
