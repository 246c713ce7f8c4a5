"""Acceptance (issue 3): a 1 GB file uploads and downloads streamed through a real ``govshare serve``
process, and a ``govshare worker`` process pulls a 1 GB file, each with its peak RSS under 300 MB.

The peak RSS is the process's ``VmHWM`` from ``/proc/<pid>/status``. The file to upload is generated
chunk by chunk (never held) with a real SHA-256; the file the worker pulls is a sparse 1 GiB file
with data written at a few offsets (cheap to make, read like any other file). Runs under CI: nothing
here is skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from govshare.config import get_settings
from govshare.db import Database
from govshare.exchange import files
from govshare.exchange.file_models import FileVersion
from govshare.exchange.models import SyncRun
from govshare.identity import auth
from govshare.identity.actor import Actor
from govshare.identity.permissions import Role
from tests.factories import Factory
from tests.own_database import own_platform_database

SIZE = 1024 * 1024 * 1024
CHUNK = 1024 * 1024
LIMIT_MB = 300
# ``govshare …`` run by this interpreter (the venv's console script may not sit beside it)
GOVSHARE = [sys.executable, "-c", "import sys; from govshare.cli import main; sys.argv[0] = 'govshare'; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("VmHWM missing")


@pytest.fixture(scope="module")
def platform(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Path]]:
    root = tmp_path_factory.mktemp("rss")
    try:
        with own_platform_database(database_url, root, "rss") as database:
            yield database, root
    finally:
        shutil.rmtree(root, ignore_errors=True)  # gigabytes pytest would otherwise keep for three runs


@pytest.fixture
def env(platform: tuple[Database, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    db, root = platform
    (root / "mnt").mkdir(exist_ok=True)
    values = {
        "GOVSHARE_DATABASE_URL": db.url,
        "GOVSHARE_VAR_DIR": str(root / "var"),
        "GOVSHARE_FILES__MOUNT_ROOTS": json.dumps([str(root / "mnt")]),
        "GOVSHARE_SERVER__RUN_WORKER_IN_PROCESS": "false",
        "GOVSHARE_ENVIRONMENT": "test",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield {**os.environ, **values}
    get_settings.cache_clear()


def _provider(db: Database) -> tuple[int, str, str]:
    """A 文件 resource, its provider's data administrator and a personal API token of theirs."""
    with db.session_scope() as s:
        factory = Factory(s)
        department = factory.department()
        resource = factory.resource(department, format_class="electronic_file", format_type="其他", channel="file")
        user = factory.user(Role.dept_admin, department=department)
        _token, value = auth.create_api_token(s, factory.actor(user), name="1GB 测试")
        return resource.id, resource.code, value


def _generated() -> tuple[Iterator[bytes], hashlib._Hash]:
    digest = hashlib.sha256()
    block = os.urandom(CHUNK)

    def chunks() -> Iterator[bytes]:
        for i in range(SIZE // CHUNK):
            chunk = i.to_bytes(8, "big") + block[8:]
            digest.update(chunk)
            yield chunk

    return chunks(), digest


def _hash_sparse(digest: hashlib._Hash, blocks: dict[int, bytes]) -> None:
    zeros = bytes(CHUNK)
    for start in range(0, SIZE, CHUNK):
        inside = {o - start: b for o, b in blocks.items() if start <= o < start + CHUNK}
        if not inside:
            digest.update(zeros)
            continue
        chunk = bytearray(zeros)
        for at, data in inside.items():
            chunk[at : at + len(data)] = data
        digest.update(bytes(chunk))


def _report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():  # the figures are printed even without -s
        sys.stdout.write(f"\n{line}\n")


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``govshare <args>`` in a process of its own, its output in ``log`` (not a pipe nobody drains)."""
    with log.open("wb") as out:
        proc = subprocess.Popen([*GOVSHARE, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("govshare serve exited")
        try:
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("govshare serve did not start")


@pytest.mark.article("A24.3")
def test_a_1gb_file_uploads_and_downloads_streamed_under_300mb(
    platform: tuple[Database, Path], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _root = platform
    resource_id, _code, token = _provider(db)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with _process(["serve", "--host", "127.0.0.1", "--port", str(port)], env, _root / "serve.log") as proc:
        _wait_ready(base, proc)
        idle = _peak_rss_mb(proc.pid)
        auth_header = {"Authorization": f"Bearer {token}"}
        chunks, digest = _generated()
        started = time.monotonic()
        with httpx.Client(timeout=300) as client:
            r = client.put(
                f"{base}/api/v1/exchange/resources/{resource_id}/files",
                params={"filename": "全市人口快照.bin"},
                content=chunks,
                headers={**auth_header, "Content-Length": str(SIZE), "Content-Type": "application/octet-stream"},
            )
            upload_s = time.monotonic() - started
            assert r.status_code == 201, r.text
            made = r.json()
            assert made["size"] == SIZE and made["checksum"] == digest.hexdigest()
            after_upload = _peak_rss_mb(proc.pid)

            started = time.monotonic()
            received = hashlib.sha256()
            size = 0
            with client.stream(
                "GET", f"{base}/api/v1/exchange/files/{made['id']}/content", headers=auth_header
            ) as resp:
                assert resp.status_code == 200
                assert resp.headers["content-length"] == str(SIZE)
                assert resp.headers["x-checksum-sha256"] == digest.hexdigest()
                for part in resp.iter_raw():
                    received.update(part)
                    size += len(part)
            download_s = time.monotonic() - started
        assert size == SIZE and received.hexdigest() == digest.hexdigest()
        peak = _peak_rss_mb(proc.pid)
    _report(
        capsys,
        f"1 GiB through govshare serve: upload {upload_s:.1f} s, download {download_s:.1f} s; "
        f"server peak RSS idle {idle:.0f} MB, after upload {after_upload:.0f} MB, after download {peak:.0f} MB",
    )
    assert peak < LIMIT_MB


@pytest.mark.article("A24.3")
def test_the_worker_pulls_a_1gb_file_under_300mb(
    platform: tuple[Database, Path], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, root = platform
    resource_id, _code, _token = _provider(db)
    source = root / "mnt" / "全市人口快照.bin"
    blocks = {offset: os.urandom(4096) for offset in (0, SIZE // 3, SIZE - 4096)}
    with source.open("wb") as f:
        f.truncate(SIZE)  # sparse: quick to make, read back as any file
        for offset, data in blocks.items():
            f.seek(offset)
            f.write(data)
    # The expected checksum, computed from memory in a thread while the worker pulls (no second read).
    expected = hashlib.sha256()
    hasher = threading.Thread(target=_hash_sparse, args=(expected, blocks), daemon=True)
    hasher.start()
    with db.session_scope() as s:
        system = Actor.system()
        files.mount_file(
            s, system, resource_id=resource_id, form=files.FileSourceForm(source="directory", path=str(source))
        )
        run_id = files.request_pull(s, system, resource_id=resource_id).id
    started = time.monotonic()
    with _process(["worker", "--poll", "0.2"], env, root / "worker.log") as proc:
        deadline = time.monotonic() + 300
        status = "queued"
        while time.monotonic() < deadline:
            with db.session_scope() as s:
                run = s.get(SyncRun, run_id)
                assert run is not None
                status, error, nbytes, duration_ms = run.status, run.error, run.bytes, run.duration_ms
            if status in ("succeeded", "failed"):
                break
            if proc.poll() is not None:
                raise AssertionError((root / "worker.log").read_text(errors="replace"))
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        peak = _peak_rss_mb(proc.pid)
    hasher.join()
    assert status == "succeeded", error
    assert nbytes == SIZE
    with db.session_scope() as s:
        version = s.scalars(select(FileVersion).where(FileVersion.resource_id == resource_id)).one()
        assert (version.size, version.checksum) == (SIZE, expected.hexdigest())
    _report(
        capsys,
        f"1 GiB pulled by govshare worker: run {duration_ms / 1000:.1f} s ({elapsed:.1f} s from start); "
        f"worker peak RSS {peak:.0f} MB",
    )
    assert peak < LIMIT_MB
