"""文件共享 (A24.3): the worker pulls a resource's file at its 更新周期 and, if asked, loads it into the base.

A file mount's ``config``: ``source`` (``upload`` | ``http`` | ``directory``), ``url`` (without
user or password; those are in the encrypted secret as ``userinfo``), ``path`` and ``pattern``,
``load_into_base`` and ``sheet``; its mapping is 信息项 → header in the file.

A run: pull (``files.pull_from_url`` / ``pull_from_directory``; an unchanged file adds no version),
then, when the mount loads into the base and the newest version is not the one the base holds (the
base table's watermark is the version number), load it with the table channel's full-refresh writer
(``file_load``). The run's ``rows`` are the rows loaded (0 for a pull alone), ``bytes`` the bytes
fetched, or read when only loading.

HTTP pulls go through the gateway's allow-list of provider networks: the client's transport
resolves the host, refuses unless every address is listed, and connects to the address it checked
(the Host header and TLS SNI keep the name), at each request — the same rule as the API gateway.

Probe: HEAD the address (through the same transport) or stat the directory and its newest matching file.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from govshare.config import get_settings
from govshare.db import Database
from govshare.errors import DomainError
from govshare.exchange import base, files, gateway
from govshare.exchange import file_repository as repository
from govshare.exchange.channels import MountSpec, ProbeOutcome, RunEnv, SyncFailed, SyncOutcome, register
from govshare.exchange.channels.table import TableChannel
from govshare.exchange.file_load import FileRows
from govshare.identity.actor import Actor

WORKER = "file-worker"


class AllowListTransport(httpx.BaseTransport):
    """Connects only to addresses in the provider-network allow-list, pinned to the address checked."""

    def __init__(self, allow_list: gateway.AllowList, *, resolver: gateway.Resolver = gateway.system_resolver) -> None:
        self.allow_list = allow_list
        self.resolver = resolver
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host = f"[{url.host}]" if ":" in url.host else url.host
        port = f":{url.port}" if url.port else ""
        target = gateway.check_address(self.allow_list, f"{url.scheme}://{host}{port}/", resolver=self.resolver)
        request.url = url.copy_with(host=str(target.address))  # the Host header keeps the name
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": target.host}
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def allow_listed_client(
    allow_list: gateway.AllowList, *, timeout: float | None = None, resolver: gateway.Resolver = gateway.system_resolver
) -> httpx.Client:
    """An HTTP client for provider file servers: allow-listed, no redirects, no proxy from the environment."""
    return httpx.Client(
        transport=AllowListTransport(allow_list, resolver=resolver),
        timeout=timeout if timeout is not None else get_settings().files.pull_timeout_seconds,
        follow_redirects=False,
        trust_env=False,
    )


def _system() -> Actor:
    return Actor.system(name=WORKER)


def _failed(exc: DomainError) -> SyncFailed:
    # The allow-list's messages speak of upstream interfaces; here the upstream is a file server.
    return SyncFailed(exc.detail.replace("上游接口", "文件服务器"), code=exc.code)


class FileChannel:
    name = "file"

    def sync(self, spec: MountSpec, env: RunEnv) -> SyncOutcome:
        """Pull the file (if the source is a server or a directory), then load the newest version if asked."""
        if env.db is None:
            raise SyncFailed("文件共享的同步需要平台数据库", code="file_channel_no_db")
        base.ensure_state_table(env.base)
        source = str(spec.config.get("source", "upload"))
        fetched = 0
        try:
            with env.db.session_scope() as session:
                if source == "http":
                    with allow_listed_client(gateway.load_allow_list(session)) as client:
                        added = files.pull_from_url(
                            session,
                            _system(),
                            resource_id=spec.resource_id,
                            url=files.source_url(spec.config, spec.secret),
                            client=client,
                            on_ready=session.commit,  # no transaction held while the bytes move
                        )
                    fetched = added.version.size
                elif source == "directory":
                    added = files.pull_from_directory(
                        session,
                        _system(),
                        resource_id=spec.resource_id,
                        path=str(spec.config.get("path", "")),
                        pattern=str(spec.config.get("pattern", "*")),
                        on_ready=session.commit,
                    )
                    fetched = added.version.size
        except SyncFailed:
            raise
        except DomainError as exc:
            raise _failed(exc) from exc
        env.progress(0, fetched)
        if not spec.config.get("load_into_base") or not spec.columns:
            return SyncOutcome(rows=0, bytes=fetched)
        return self._load(spec, env, env.db, fetched)

    def _load(self, spec: MountSpec, env: RunEnv, db: Database, fetched: int) -> SyncOutcome:
        final = base.table_name(spec.resource_id)
        with db.session_scope() as session:
            latest = repository.latest(session, spec.resource_id)
            if latest is None:
                raise SyncFailed("该信息资源还没有文件版本,无法装载到基座", code="file_version_missing")
            number, filename, version_id = latest.number, latest.filename, latest.id
        if inspect(env.base).has_table(final):
            with env.base.connect() as conn:
                state = base.read_state(conn, final)
            if state.synced_at is not None and state.watermark == number and _same_columns(env, final, spec):
                return SyncOutcome(rows=0, bytes=fetched, row_count=state.row_count, watermark=number)
        try:
            # The platform session only finds the version; the stream reads the store, not the database.
            with db.session_scope() as session:
                _version, chunks = files.open_version(session, _system(), version_id=version_id)
            reader = FileRows(spec, chunks, filename=filename, version_number=number)
            outcome = TableChannel().load_full(spec, env, reader)
        except SyncFailed:
            raise
        except DomainError as exc:
            raise _failed(exc) from exc
        except (SQLAlchemyError, psycopg.Error) as exc:
            raise SyncFailed("写入大数据基座失败,本次装载未生效,请检查文件内容与信息项类型", code="base_write") from exc
        outcome.bytes = max(fetched, reader.bytes_read)
        return outcome

    def probe(self, spec: MountSpec) -> ProbeOutcome:
        """HEAD the file server's address or stat the mounted directory; record the latency."""
        started = time.perf_counter()
        source = str(spec.config.get("source", "upload"))
        try:
            if source == "http":
                error = _probe_http(spec)
            elif source == "directory":
                error = _probe_directory(spec)
            else:
                error = ""  # uploads only: nothing to reach
        except DomainError as exc:
            error = _failed(exc).detail
        return ProbeOutcome(not error, int((time.perf_counter() - started) * 1000), error)


def _same_columns(env: RunEnv, table: str, spec: MountSpec) -> bool:
    # A changed mapping makes a reload necessary even when the version is the same.
    existing = {c["name"] for c in inspect(env.base).get_columns(table)}
    return existing == {c.column for c in spec.columns}


def _probe_http(spec: MountSpec) -> str:
    url = files.source_url(spec.config, spec.secret)
    allow_list = _allow_list()
    try:
        with allow_listed_client(allow_list) as client:
            response = client.head(url)
            if response.status_code in (405, 501):  # a server without HEAD: open a GET, read nothing
                with client.stream("GET", url) as streamed:
                    response = streamed
    except httpx.TimeoutException:
        return "文件服务器超时"
    except httpx.HTTPError:
        return "无法连接文件服务器"
    if response.status_code >= 400:
        return f"文件服务器返回状态 {response.status_code}"
    return ""


def _allow_list() -> gateway.AllowList:
    # A probe gets no platform session (``Channel.probe(spec)``): read the list from the configured database.
    db = Database(get_settings().effective_database_url)
    try:
        with db.session_scope() as session:
            return gateway.load_allow_list(session)
    finally:
        db.dispose()


def _probe_directory(spec: MountSpec) -> str:
    roots = [Path(r).resolve() for r in get_settings().files.mount_roots]
    target = Path(str(spec.config.get("path", ""))).resolve()
    if not roots or not any(target.is_relative_to(r) for r in roots):
        return "该路径不在平台允许挂载的目录内"
    if target.is_file():
        return ""
    if not target.is_dir():
        return "文件或目录不存在"
    pattern = str(spec.config.get("pattern", "*"))
    if not any(p.is_file() for p in target.glob(pattern)):
        return "目录中没有符合条件的文件"
    return ""


register(FileChannel())
