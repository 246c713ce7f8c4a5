"""govshare reindex: rebuild the catalog search index (after a bulk load written around the services)."""

from __future__ import annotations

import time

import typer

from govshare.catalog.search import reindex_all
from govshare.cli._common import open_database


def reindex() -> None:
    """重建目录检索索引(绕过平台直接写入数据库后使用;平台内的编制、导入会自动更新索引)。"""
    db = open_database()
    started = time.perf_counter()
    try:
        with db.session_scope() as session:
            count = reindex_all(session)
    finally:
        db.dispose()
    typer.echo(f"已重建 {count} 个信息资源的检索索引,用时 {time.perf_counter() - started:.1f} 秒。")
