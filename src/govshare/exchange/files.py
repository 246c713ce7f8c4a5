"""The file channel's versions (A24.3): upload, pull from an HTTP(S) file server or a mounted directory.

Every version is kept with its size and checksum; bytes stream from source to store and from store to
reader, one chunk in memory at a time. A pull that brings the same bytes as the latest version adds
no version (the result says ``created=False``), so a scheduled pull of an unchanged file is cheap to
record and the version list shows only real changes.

Who may: adding versions is the provider department's own data administrator (``compiles_for``) or
the platform (the worker); reading the bytes is the provider department or the platform — consumers
read through their grants (the sharing issue), which call ``open_version`` as the platform.

The HTTP pull follows no redirects (a 3xx is reported as the server's status) and connects where
the URL points. The gateway's allow-list of provider networks is the
caller's to apply: the channel passes a client whose transport enforces it (``client=``).
"""

from __future__ import annotations

import mimetypes
import posixpath
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, ClassVar

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
from govshare.exchange import file_repository as repository
from govshare.exchange.file_models import FileSource, FileVersion
from govshare.identity.actor import Actor
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


def _too_large(limit: int) -> ValidationFailed:
    return ValidationFailed(
        f"文件超过大小上限({limit} 字节)", code="file_too_large", errors=[FieldError("file", "文件过大")]
    )


def add_upload(
    session: Session,
    actor: Actor,
    *,
    resource_id: int,
    filename: str,
    stream: BinaryIO | Iterable[bytes],
    content_type: str = "",
    store: FileStore | None = None,
) -> AddedVersion:
    """A24.3: the provider uploads a file (page or API); it becomes the next version unless its bytes are unchanged."""
    resource = _writable_resource(session, actor, resource_id)
    store = store or default_store()
    limit = get_settings().files.max_bytes
    try:
        stored = store.put(stream, max_bytes=limit)
    except FileTooLarge as exc:
        raise _too_large(limit) from exc
    return _record(
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
