"""File versions of the file channel (A24.3): every version a provider's file has had, kept.

Each row names one object in the file store (``kit.filestore``) with its size and checksum
(SHA-256, or SM3 under the 国密 profile). Rows are never updated or deleted: a new upload or a pull
that brings different bytes adds version ``number + 1``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govshare.db import Base
from govshare.kit.clock import now


class FileSource(StrEnum):
    upload = "upload"  # through the page or the API
    http = "http"  # pulled from an HTTP(S) file server
    directory = "directory"  # pulled from a mounted directory


FILE_SOURCE_LABELS: dict[FileSource, str] = {
    FileSource.upload: "上传",
    FileSource.http: "文件服务器(HTTP)",
    FileSource.directory: "挂载目录",
}


class FileVersion(Base):
    __tablename__ = "file_version"
    __table_args__ = (UniqueConstraint("resource_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger)
    checksum: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(8))  # sha256 | sm3
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str] = mapped_column(String(1000), default="")  # URL without credentials or query; path
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
