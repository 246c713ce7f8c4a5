"""A streaming file store: bytes in, a key, size and checksum out; bytes back, checksum verified.

Nothing here holds a whole file in memory: ``put`` hashes and writes chunk by chunk into a temporary
file in the store's own folder and renames it into place (so a half-written object is never visible
under its key), and ``read`` yields chunks and compares the digest when the last one has been read.

``FileStore`` is the interface; ``LocalFileStore`` keeps objects under ``settings.files_dir``
(``var/files`` in the embedded default). An S3-compatible store implements the same four methods
(``put`` as a multipart upload, ``read`` as a ranged/streamed GET).

Keys are random, not content addresses: two versions with equal bytes are two objects, so deleting
one version can never remove another's bytes. A store object is written before the database row that
names it; if that transaction then rolls back the object is orphaned, never missing — ``keys()`` lets
a sweep find objects no row names.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from cryptography.hazmat.primitives import hashes

from govshare.config import CryptoProfile, Settings, get_settings

CHUNK_SIZE = 1024 * 1024
_KEY = re.compile(r"^[0-9a-f]{32}$")


class Algorithm:
    """Checksum algorithm names as stored beside each object."""

    sha256 = "sha256"
    sm3 = "sm3"


def algorithm_for(profile: CryptoProfile) -> str:
    """SHA-256 under the standard profile, SM3 under 国密."""
    return Algorithm.sm3 if profile == CryptoProfile.gm else Algorithm.sha256


class Hasher:
    """An incremental hex digest under one algorithm name (``sha256`` or ``sm3``)."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        if algorithm == Algorithm.sha256:
            self._sha = hashlib.sha256()
            self._sm3: hashes.Hash | None = None
        elif algorithm == Algorithm.sm3:
            self._sm3 = hashes.Hash(hashes.SM3())
        else:
            raise ValueError(f"未知的校验算法: {algorithm}")

    def update(self, data: bytes) -> None:
        if self._sm3 is not None:
            self._sm3.update(data)
        else:
            self._sha.update(data)

    def hexdigest(self) -> str:
        if self._sm3 is not None:
            return self._sm3.finalize().hex()
        return self._sha.hexdigest()


class FileStoreError(Exception):
    """Base of the store's errors; the messages are Chinese because they reach people."""


class ObjectNotFound(FileStoreError):
    pass


class FileTooLarge(FileStoreError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"文件超过大小上限({limit} 字节)")
        self.limit = limit


class ChecksumMismatch(FileStoreError):
    def __init__(self, key: str, expected: str, actual: str) -> None:
        super().__init__(f"文件 {key} 校验值不符:应为 {expected},实为 {actual}")
        self.key = key
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    checksum: str
    algorithm: str


Source = BinaryIO | Iterable[bytes]


class FileStore(Protocol):
    algorithm: str

    def put(self, source: Source, *, max_bytes: int | None = None) -> StoredObject:
        """Store a stream; refuse (and keep nothing) beyond ``max_bytes``."""
        ...

    async def put_async(self, source: AsyncIterable[bytes], *, max_bytes: int | None = None) -> StoredObject: ...

    def read(self, key: str, *, checksum: str | None = None, algorithm: str | None = None) -> Iterator[bytes]:
        """Yield the bytes; with ``checksum``, raise ``ChecksumMismatch`` after the last chunk if they differ."""
        ...

    def verify(self, key: str, checksum: str, algorithm: str | None = None) -> None: ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]: ...


def _chunks(source: Source, chunk_size: int) -> Iterator[bytes]:
    read = getattr(source, "read", None)
    if read is not None:
        while chunk := read(chunk_size):
            yield chunk
        return
    yield from source


class LocalFileStore:
    """Objects in a local (or mounted network) directory: ``objects/ab/cd/<key>``, uploads staged in ``tmp/``."""

    def __init__(self, root: Path, *, algorithm: str = Algorithm.sha256, chunk_size: int = CHUNK_SIZE) -> None:
        self.root = root
        self.algorithm = algorithm
        self.chunk_size = chunk_size
        Hasher(algorithm)  # refuse an unknown algorithm now, not at the first upload

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ObjectNotFound(f"文件键无效: {key!r}")
        return self.root / "objects" / key[:2] / key[2:4] / key

    def _staging(self) -> tuple[str, Path, BinaryIO]:
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        key = uuid.uuid4().hex
        tmp = tmp_dir / f"{key}.part"
        return key, tmp, tmp.open("wb")

    def _commit(self, key: str, tmp: Path, size: int, hasher: Hasher) -> StoredObject:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp.replace(final)
        return StoredObject(key=key, size=size, checksum=hasher.hexdigest(), algorithm=self.algorithm)

    def put(self, source: Source, *, max_bytes: int | None = None) -> StoredObject:
        """Store a stream chunk by chunk; nothing is kept if it fails or exceeds ``max_bytes``."""
        key, tmp, out = self._staging()
        hasher = Hasher(self.algorithm)
        size = 0
        try:
            with out:
                for chunk in _chunks(source, self.chunk_size):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise FileTooLarge(max_bytes)
                    hasher.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            return self._commit(key, tmp, size, hasher)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    async def put_async(self, source: AsyncIterable[bytes], *, max_bytes: int | None = None) -> StoredObject:
        """``put`` for an async stream (a request body): same guarantees, one chunk in memory at a time."""
        key, tmp, out = self._staging()
        hasher = Hasher(self.algorithm)
        size = 0
        try:
            with out:
                async for chunk in source:
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise FileTooLarge(max_bytes)
                    hasher.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            return self._commit(key, tmp, size, hasher)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def read(self, key: str, *, checksum: str | None = None, algorithm: str | None = None) -> Iterator[bytes]:
        """Yield the bytes; with ``checksum`` the digest is compared after the last chunk (``ChecksumMismatch``)."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"文件不存在: {key}")
        return self._read(key, path, checksum, algorithm or self.algorithm)

    def _read(self, key: str, path: Path, checksum: str | None, algorithm: str) -> Iterator[bytes]:
        hasher = Hasher(algorithm) if checksum is not None else None
        with path.open("rb") as f:
            while chunk := f.read(self.chunk_size):
                if hasher is not None:
                    hasher.update(chunk)
                yield chunk
        if hasher is not None and checksum is not None:
            actual = hasher.hexdigest()
            if actual != checksum:
                raise ChecksumMismatch(key, checksum, actual)

    def verify(self, key: str, checksum: str, algorithm: str | None = None) -> None:
        """Read the whole object and raise ``ChecksumMismatch`` if it no longer matches (before serving it)."""
        for _ in self.read(key, checksum=checksum, algorithm=algorithm):
            pass

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"文件不存在: {key}")
        return path.stat().st_size

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        objects = self.root / "objects"
        if not objects.is_dir():
            return
        for path in objects.glob("*/*/*"):
            if _KEY.match(path.name):
                yield path.name


def default_store(settings: Settings | None = None) -> LocalFileStore:
    """The platform's store: ``settings.files_dir``, checksums by the configured crypto profile."""
    settings = settings or get_settings()
    return LocalFileStore(settings.files_dir, algorithm=algorithm_for(settings.security.crypto_profile))
