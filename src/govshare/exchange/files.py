"""The file channel's versions (A24.3): upload, pull from an HTTP(S) file server or a mounted directory.

Every version is kept with its size and checksum; bytes stream from source to store and from store to
reader, one chunk in memory at a time. A pull that brings the same bytes as the latest version adds
no version (the result says ``created=False``), so a scheduled pull of an unchanged file is cheap to
record and the version list shows only real changes.

Who may: adding versions is the provider department's own data administrator (``compiles_for``) or
the platform (the worker); reading the bytes is the provider department or the platform — consumers
read through their grants (the sharing issue), which call ``open_version`` as the platform.

Long transfers hold no database transaction: ``add_upload`` and the pulls take ``on_ready``, called
after the checks and before the first byte moves; the request or the worker passes its session's
``commit`` (on SQLite every transaction holds the write lock, so a 1 GB upload over a slow link would
otherwise stop every other writer), and the version is recorded in a fresh transaction afterwards.

The HTTP pull follows no redirects (a 3xx is reported as the server's status) and connects where
the URL points. The gateway's allow-list of provider networks is the
caller's to apply: the channel passes a client whose transport enforces it (``client=``).
"""

from __future__ import annotations

import json
import mimetypes
import posixpath
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.catalog.enums import Channel
from govshare.catalog.models import Resource
from govshare.catalog.permissions import compiles_for
from govshare.config import get_settings
from govshare.errors import Conflict, DomainError, FieldError, Forbidden, NotFound, ValidationFailed
from govshare.exchange import base, gateway
from govshare.exchange import file_repository as repository
from govshare.exchange import run_repository as run_repository
from govshare.exchange.file_models import FileSource, FileVersion
from govshare.exchange.models import BaseTable, Mount, SyncRun
from govshare.exchange.runs import queue_run, request_sync
from govshare.identity.actor import Actor
from govshare.kit import crypto
from govshare.kit.filestore import (
    ChecksumMismatch,
    FileStore,
    FileTooLarge,
    ObjectNotFound,
    StoredObject,
    default_store,
)

# Files a writer may still be filling; a directory pull never picks them.
_IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", ".filepart")


class FilePullFailed(DomainError):
    status: ClassVar[int] = 502
    title: ClassVar[str] = "文件获取失败"
    default_code: ClassVar[str] = "file_pull_failed"


class FileIntegrityError(DomainError):
    status: ClassVar[int] = 500
    title: ClassVar[str] = "文件校验失败"
    default_code: ClassVar[str] = "file_checksum_mismatch"


@dataclass(frozen=True)
class AddedVersion:
    version: FileVersion
    created: bool  # False: the bytes equal the latest version's, which is returned instead


def _file_resource(session: Session, resource_id: int) -> Resource:
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise NotFound("信息资源不存在", code="resource_not_found")
    if resource.channel != Channel.file:
        raise ValidationFailed(
            "该信息资源的共享方式不是文件,不能上传或拉取文件",
            code="not_a_file_resource",
            errors=[FieldError("resource_id", "共享方式不是文件")],
        )
    return resource


def _writable_resource(session: Session, actor: Actor, resource_id: int) -> Resource:
    resource = _file_resource(session, resource_id)
    if not compiles_for(actor, resource.provider_id):
        raise Forbidden("只有提供方部门的数据资源管理员可以提供该资源的文件", code="not_provider")
    return resource


def _readable_resource(session: Session, actor: Actor, resource_id: int) -> Resource:
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise NotFound("信息资源不存在", code="resource_not_found")
    if actor.kind != "system" and actor.department_id != resource.provider_id:
        raise Forbidden("只有提供方部门可以查看该资源的文件", code="not_provider")
    return resource


def _clean_filename(name: str) -> str:
    # Keep only the last path segment; a filename is a label, never a path.
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base[:255] or "file"


def _record(
    session: Session,
    actor: Actor,
    store: FileStore,
    resource: Resource,
    stored: StoredObject,
    *,
    filename: str,
    content_type: str,
    source: FileSource,
    source_ref: str,
) -> AddedVersion:
    try:
        latest = repository.latest(session, resource.id)
        if latest is not None and (latest.checksum, latest.algorithm, latest.size) == (
            stored.checksum,
            stored.algorithm,
            stored.size,
        ):
            store.delete(stored.key)
            return AddedVersion(latest, created=False)
        version = FileVersion(
            resource_id=resource.id,
            number=repository.next_number(session, resource.id),
            filename=_clean_filename(filename),
            content_type=content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream",
            size=stored.size,
            checksum=stored.checksum,
            algorithm=stored.algorithm,
            storage_key=stored.key,
            source=source,
            source_ref=source_ref[:1000],
            created_by_id=actor.user_id,
        )
        try:
            with session.begin_nested():
                session.add(version)
                session.flush()
        except IntegrityError as exc:
            raise Conflict("另一个版本正在同时写入,请重试", code="file_version_conflict") from exc
        audit.record(
            session,
            actor,
            Action.file_version_added,
            object_type="resource",
            object_id=resource.id,
            after={
                "version": version.number,
                "filename": version.filename,
                "size": version.size,
                "checksum": version.checksum,
                "algorithm": version.algorithm,
                "source": version.source,
                "source_ref": version.source_ref,
            },
            department_id=resource.provider_id,
        )
        return AddedVersion(version, created=True)
    except BaseException:
        # The row that would name the object is not there (or will be rolled back): drop the object.
        store.delete(stored.key)
        raise


class UploadTooLarge(ValidationFailed):
    status: ClassVar[int] = 413
    title: ClassVar[str] = "文件过大"


def _too_large(limit: int) -> ValidationFailed:
    return UploadTooLarge(
        f"文件超过大小上限({limit} 字节)", code="file_too_large", errors=[FieldError("file", "文件过大")]
    )


def check_declared_size(declared: str | None) -> None:
    """Refuse an upload whose declared ``Content-Length`` is over the cap before a byte is read."""
    limit = get_settings().files.max_bytes
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)


def add_upload(
    session: Session,
    actor: Actor,
    *,
    resource_id: int,
    filename: str,
    stream: BinaryIO | Iterable[bytes],
    content_type: str = "",
    store: FileStore | None = None,
    on_ready: Callable[[], None] | None = None,
) -> AddedVersion:
    """A24.3: the provider uploads a file (page or API); it becomes the next version unless its bytes are unchanged.

    ``on_ready`` is called once the upload is allowed and before the first byte is read (see the module docstring).
    """
    resource = _writable_resource(session, actor, resource_id)
    resource_id = resource.id
    if on_ready is not None:
        on_ready()
    store = store or default_store()
    limit = get_settings().files.max_bytes
    try:
        stored = store.put(stream, max_bytes=limit)
    except FileTooLarge as exc:
        raise _too_large(limit) from exc
    added = _record(
        session,
        actor,
        store,
        resource,
        stored,
        filename=filename,
        content_type=content_type,
        source=FileSource.upload,
        source_ref="",
    )
    if added.created:
        _queue_load(session, resource.id)
    return added


def _queue_load(session: Session, resource_id: int) -> None:
    # An uploaded version of a resource loaded into the base is loaded by the worker right away.
    mount = repository.file_mount(session, resource_id)
    if (
        mount is not None
        and mount.config.get("load_into_base")
        and not run_repository.has_pending(session, mount.id, "sync")
    ):
        queue_run(session, mount.id, kind="sync", trigger="manual")


def _public_url(parsed: urllib.parse.SplitResult) -> str:
    # Neither credentials (user:password@) nor the query (often a token) reach the database or the audit trail.
    host = parsed.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{host}{port}{parsed.path}"


def pull_from_url(
    session: Session,
    actor: Actor,
    *,
    resource_id: int,
    url: str,
    store: FileStore | None = None,
    client: httpx.Client | None = None,
    on_ready: Callable[[], None] | None = None,
) -> AddedVersion:
    """A24.3: fetch the provider's file from its HTTP(S) file server, streamed, and keep it as the next version."""
    resource = _writable_resource(session, actor, resource_id)
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValidationFailed(
            "文件服务器地址应为 http:// 或 https:// 开头的完整地址",
            code="invalid_file_url",
            errors=[FieldError("url", "地址无效")],
        )
    settings = get_settings().files
    store = store or default_store()
    own_client = client is None
    http = client or httpx.Client(timeout=settings.pull_timeout_seconds, follow_redirects=False)
    if on_ready is not None:
        on_ready()
    try:
        with http.stream("GET", url.strip()) as response:
            if response.status_code != 200:
                raise FilePullFailed(f"文件服务器返回状态 {response.status_code},未取得文件", code="file_server_status")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > settings.max_bytes:
                raise _too_large(settings.max_bytes)
            content_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
            stored = store.put(response.iter_bytes(), max_bytes=settings.max_bytes)
    except FileTooLarge as exc:
        raise _too_large(settings.max_bytes) from exc
    except httpx.TimeoutException as exc:
        raise FilePullFailed("文件服务器超时", code="file_server_timeout") from exc
    except httpx.HTTPError as exc:
        raise FilePullFailed("文件服务器不可用", code="file_server_unavailable") from exc
    finally:
        if own_client:
            http.close()
    filename = urllib.parse.unquote(posixpath.basename(parsed.path)) or "download"
    return _record(
        session,
        actor,
        store,
        resource,
        stored,
        filename=filename,
        content_type=content_type,
        source=FileSource.http,
        source_ref=_public_url(parsed),
    )


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def _newest_file(directory: Path, pattern: str, roots: Sequence[Path]) -> Path | None:
    best: tuple[float, str, Path] | None = None
    for candidate in directory.glob(pattern):
        name = candidate.name
        if name.startswith(".") or name.lower().endswith(_IN_PROGRESS_SUFFIXES):
            continue
        real = candidate.resolve()
        if not real.is_file() or not _inside(real, roots):  # a symlink may not lead out of the mount
            continue
        key = (real.stat().st_mtime, name, real)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best is not None else None


def pull_from_directory(
    session: Session,
    actor: Actor,
    *,
    resource_id: int,
    path: str,
    pattern: str = "*",
    store: FileStore | None = None,
    mount_roots: Sequence[Path] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> AddedVersion:
    """A24.3: take the provider's file from a mounted directory (a file, or the newest matching file in a folder).

    Only paths inside the administrator's configured mount roots (``GOVSHARE_FILES__MOUNT_ROOTS``) are read.
    """
    resource = _writable_resource(session, actor, resource_id)
    settings = get_settings().files
    roots = [Path(r).resolve() for r in (mount_roots if mount_roots is not None else settings.mount_roots)]
    if not roots:
        raise ValidationFailed("平台未配置可挂载的目录,不能从目录拉取文件", code="no_mount_roots")
    raw = Path(path.strip())
    if not raw.is_absolute():
        raise ValidationFailed(
            "请填写挂载目录中的绝对路径", code="invalid_file_path", errors=[FieldError("path", "应为绝对路径")]
        )
    target = raw.resolve()
    if not _inside(target, roots):
        raise ValidationFailed(
            "该路径不在平台允许挂载的目录内", code="path_outside_mounts", errors=[FieldError("path", "不在允许范围内")]
        )
    if target.is_dir():
        found = _newest_file(target, pattern or "*", roots)
        if found is None:
            raise ValidationFailed(
                "目录中没有符合条件的文件", code="no_file_in_directory", errors=[FieldError("path", "没有文件")]
            )
        target = found
    elif not target.is_file():
        raise ValidationFailed("文件或目录不存在", code="file_not_found", errors=[FieldError("path", "不存在")])
    store = store or default_store()
    if on_ready is not None:
        on_ready()
    try:
        with target.open("rb") as f:
            stored = store.put(f, max_bytes=settings.max_bytes)
    except FileTooLarge as exc:
        raise _too_large(settings.max_bytes) from exc
    except OSError as exc:
        raise FilePullFailed("读取挂载目录中的文件失败", code="mounted_file_unreadable") from exc
    return _record(
        session,
        actor,
        store,
        resource,
        stored,
        filename=target.name,
        content_type="",
        source=FileSource.directory,
        source_ref=str(target),
    )


def list_versions(session: Session, actor: Actor, *, resource_id: int) -> list[FileVersion]:
    """Every version of a resource's file, newest first; the provider department's or the platform's to see."""
    _readable_resource(session, actor, resource_id)
    return repository.versions(session, resource_id)


def _verified(store: FileStore, version: FileVersion) -> Iterator[bytes]:
    try:
        yield from store.read(version.storage_key, checksum=version.checksum, algorithm=version.algorithm)
    except ChecksumMismatch as exc:
        raise FileIntegrityError(
            f"文件第 {version.number} 版的校验值与登记值不符,内容可能已损坏或被篡改", code="file_checksum_mismatch"
        ) from exc


def open_version(
    session: Session, actor: Actor, *, version_id: int, store: FileStore | None = None
) -> tuple[FileVersion, Iterator[bytes]]:
    """The version and its bytes as a stream, checked against the recorded checksum as they are read.

    A mismatch raises ``FileIntegrityError`` after the last chunk: a streamed HTTP response is then cut
    short, so the client never receives a complete-looking corrupt file. ``verify_version`` checks first.
    """
    version = repository.version(session, version_id)
    if version is None:
        raise NotFound("文件版本不存在", code="file_version_not_found")
    _readable_resource(session, actor, version.resource_id)
    store = store or default_store()
    try:
        store.size(version.storage_key)
    except ObjectNotFound as exc:
        raise FileIntegrityError(f"文件第 {version.number} 版的内容缺失", code="file_content_missing") from exc
    return version, _verified(store, version)


def verify_version(session: Session, actor: Actor, *, version_id: int, store: FileStore | None = None) -> FileVersion:
    """Read the whole version and compare its checksum; ``FileIntegrityError`` if it no longer matches."""
    version, chunks = open_version(session, actor, version_id=version_id, store=store)
    for _ in chunks:
        pass
    return version


def download_version(
    session: Session, actor: Actor, *, version_id: int, store: FileStore | None = None
) -> tuple[FileVersion, Iterator[bytes]]:
    """A24.3: the provider (or the platform) downloads a version; the read is audited before a byte leaves."""
    version, chunks = open_version(session, actor, version_id=version_id, store=store)
    resource = _readable_resource(session, actor, version.resource_id)
    audit.record(
        session,
        actor,
        Action.file_version_downloaded,
        object_type="resource",
        object_id=version.resource_id,
        after={"version": version.number, "size": version.size, "checksum": version.checksum},
        department_id=resource.provider_id,
    )
    return version, chunks


def open_for_consumer(
    session: Session, *, resource_id: int, version_id: int | None = None, store: FileStore | None = None
) -> tuple[FileVersion, Iterator[bytes]]:
    """The file a consumer reads through its grant: the newest version, or ``version_id`` of that resource.

    For the sharing issue: the caller has already checked the grant, and it records the access and the
    audit (``Action.data_read``) and commits before streaming. The bytes are verified as they stream.
    """
    _file_resource(session, resource_id)
    if version_id is None:
        latest = repository.latest(session, resource_id)
        if latest is None:
            raise NotFound("该信息资源还没有文件", code="file_version_not_found")
        version_id = latest.id
    found = repository.version(session, version_id)
    if found is None or found.resource_id != resource_id:
        raise NotFound("文件版本不存在", code="file_version_not_found")
    return open_version(session, Actor.system(name="sharing"), version_id=version_id, store=store)


# -- file sources: where the worker pulls a resource's file from -----------------------------------

SOURCE_KINDS = ("upload", "http", "directory")
SOURCE_LABELS = {"upload": "仅上传", "http": "文件服务器(HTTP/HTTPS)", "directory": "挂载目录"}


@dataclass(frozen=True)
class FileSourceForm:
    """A provider's file source as typed: where the file comes from and how it is loaded into the base."""

    source: str = "upload"
    url: str = ""
    path: str = ""
    pattern: str = "*"
    load_into_base: bool = False
    mapping: dict[int, str] | None = None  # data_item_id -> header in the file
    sheet: str = ""


def _split_url(url: str) -> tuple[str, str]:
    """(the address without user and password, the ``user:password`` part, kept encrypted)."""
    parsed = urllib.parse.urlsplit(url.strip())
    netloc = parsed.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parsed.port:
        netloc += f":{parsed.port}"
    userinfo = parsed.netloc.rpartition("@")[0] if "@" in parsed.netloc else ""
    return urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path, parsed.query, "")), userinfo


def source_url(mount: Mount | dict[str, Any], secret: dict[str, str]) -> str:
    """The address to fetch, with the stored ``user:password`` joined back in."""
    config = mount.config if isinstance(mount, Mount) else mount
    url = str(config.get("url", ""))
    userinfo = secret.get("userinfo", "")
    if not userinfo:
        return url
    parsed = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parsed.scheme, f"{userinfo}@{parsed.netloc}", parsed.path, parsed.query, ""))


def _check_source(session: Session, form: FileSourceForm, errors: list[FieldError]) -> dict[str, Any]:
    config: dict[str, Any] = {"source": form.source}
    if form.source == "http":
        parsed = urllib.parse.urlsplit(form.url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            errors.append(FieldError("url", "请填写 http:// 或 https:// 开头的完整地址"))
            return config
        if not posixpath.basename(parsed.path):
            errors.append(FieldError("url", "地址应指向一个文件,而不是目录"))
        try:
            port = parsed.port
        except ValueError:
            errors.append(FieldError("url", "地址中的端口无效"))
            return config
        host = f"[{parsed.hostname}]" if ":" in parsed.hostname else parsed.hostname
        checked = f"{parsed.scheme}://{host}{f':{port}' if port else ''}/"
        try:
            gateway.check_address(gateway.load_allow_list(session), checked)
        except DomainError as exc:
            errors.append(FieldError("url", exc.detail.replace("上游接口", "文件服务器")))
        config["url"] = _split_url(form.url)[0]
    elif form.source == "directory":
        roots = [Path(r).resolve() for r in get_settings().files.mount_roots]
        raw = Path(form.path.strip())
        if not roots:
            errors.append(FieldError("path", "平台未配置可挂载的目录,不能从目录拉取文件"))
        elif not raw.is_absolute():
            errors.append(FieldError("path", "请填写挂载目录中的绝对路径"))
        elif not _inside(raw.resolve(), roots):
            errors.append(FieldError("path", "该路径不在平台允许挂载的目录内"))
        pattern = form.pattern.strip() or "*"
        if "/" in pattern or "\\" in pattern or ".." in pattern:
            errors.append(FieldError("pattern", "文件名模式只能是文件名,如 *.csv,不能含路径"))
        config["path"] = str(raw)
        config["pattern"] = pattern
    elif form.source != "upload":
        errors.append(FieldError("source", "文件来源只能是上传、文件服务器或挂载目录"))
    return config


def mount_file(session: Session, actor: Actor, *, resource_id: int, form: FileSourceForm) -> Mount:
    """A24.3: the provider registers where its file comes from (and how it loads into the base).

    One file source per resource: registering again replaces the settings. An HTTP(S) address must lie in
    the administrator's allow-list of provider networks, a directory inside the configured mount roots.
    """
    resource = _writable_resource(session, actor, resource_id)
    items = {item.id: item for item in run_repository.items_of(session, resource.id)}
    errors: list[FieldError] = []
    config = _check_source(session, form, errors)
    mapping = {k: v.strip() for k, v in (form.mapping or {}).items() if v.strip()}
    if form.load_into_base:
        if not mapping:
            errors.append(FieldError("mapping", "装载为基座表时请至少为一个信息项填写文件表头"))
        for item_id in mapping:
            if item_id not in items:
                errors.append(FieldError("mapping", f"信息项 {item_id} 不属于该信息资源"))
    if len(form.sheet) > 100:
        errors.append(FieldError("sheet", "工作表名过长"))
    if errors:
        raise ValidationFailed("文件来源登记信息有误", errors=errors)
    config["load_into_base"] = form.load_into_base
    config["sheet"] = form.sheet.strip()
    secret = {"userinfo": _split_url(form.url)[1]} if form.source == "http" else {}
    settings = get_settings().security
    encrypted = crypto.encrypt(json.dumps(secret), settings.data_key, settings.crypto_profile) if secret else ""
    mount = repository.file_mount(session, resource.id)
    action = Action.mount_updated if mount is not None else Action.mount_created
    before = _mount_snapshot(mount) if mount is not None else None
    if mount is None:
        mount = Mount(resource_id=resource.id, channel="file", created_by_id=actor.user_id)
        session.add(mount)
    mount.config = config
    mount.secret_encrypted = encrypted
    mount.mapping = {str(k): v for k, v in mapping.items()} if form.load_into_base else {}
    mount.sync_mode = "full"
    if form.load_into_base:
        columns = [
            {"column": base.column_name(i), "item_id": i, "name": items[i].name, "type": items[i].data_type}
            for i in sorted(mapping, key=lambda i: items[i].position)
        ]
        record = run_repository.base_table(session, resource.id)
        if record is None:
            session.add(BaseTable(resource_id=resource.id, table_name=base.table_name(resource.id), columns=columns))
        else:
            record.columns = columns
    session.flush()
    audit.record(
        session,
        actor,
        action,
        object_type="mount",
        object_id=mount.id,
        before=before,
        after=_mount_snapshot(mount),
        department_id=resource.provider_id,
    )
    return mount


def _mount_snapshot(mount: Mount) -> dict[str, Any]:
    # The address without user, password or query: those may carry a credential.
    return {"resource_id": mount.resource_id, "channel": "file", **public_config(mount), "mapping": dict(mount.mapping)}


def file_source(session: Session, actor: Actor, *, resource_id: int) -> Mount | None:
    """The resource's registered file source, for its provider (or the platform)."""
    _readable_resource(session, actor, resource_id)
    return repository.file_mount(session, resource_id)


def public_config(mount: Mount) -> dict[str, Any]:
    """A file source's settings as they may be shown: the address without user, password or query."""
    config = dict(mount.config)
    if config.get("url"):
        config["url"] = _public_url(urllib.parse.urlsplit(str(config["url"])))
    return config


def version_detail(session: Session, actor: Actor, *, version_id: int) -> FileVersion:
    """One version's record (no bytes), for the provider department or the platform."""
    version = repository.version(session, version_id)
    if version is None:
        raise NotFound("文件版本不存在", code="file_version_not_found")
    _readable_resource(session, actor, version.resource_id)
    return version


@dataclass(frozen=True)
class FileOverview:
    """What the provider's file page shows: the resource, its versions, its file source and recent runs."""

    resource: Resource
    versions: list[FileVersion]
    mount: Mount | None
    items: list[Any]
    runs: list[Any]
    max_bytes: int
    mount_roots: list[str]


def overview(session: Session, actor: Actor, *, resource_id: int) -> FileOverview:
    """The provider department's view of one 文件 resource (A24.3)."""
    resource = _readable_resource(session, actor, resource_id)
    mount = repository.file_mount(session, resource_id)
    settings = get_settings().files
    return FileOverview(
        resource=resource,
        versions=repository.versions(session, resource_id),
        mount=mount,
        items=run_repository.items_of(session, resource_id),
        runs=run_repository.runs_of(session, mount.id, limit=10) if mount is not None else [],
        max_bytes=settings.max_bytes,
        mount_roots=[str(r) for r in settings.mount_roots],
    )


def request_pull(session: Session, actor: Actor, *, resource_id: int) -> SyncRun:
    """Queue a pull (and load) of the resource's file source now; only its provider may."""
    resource = _writable_resource(session, actor, resource_id)
    if repository.file_mount(session, resource_id) is None:
        raise NotFound("该信息资源尚未登记文件来源", code="mount_missing")
    return request_sync(session, actor, resource_code=resource.code)
