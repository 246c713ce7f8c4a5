from __future__ import annotations

import asyncio
import hashlib
import io
import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from govshare.config import CryptoProfile, Settings
from govshare.kit.filestore import (
    Algorithm,
    ChecksumMismatch,
    FileTooLarge,
    LocalFileStore,
    ObjectNotFound,
    algorithm_for,
    default_store,
)

T = TypeVar("T")


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    block = bytes(range(256)) * (size // 256)
    sent = 0
    while sent < total:
        piece = block[: min(size, total - sent)]
        sent += len(piece)
        yield piece


def _run(coro: Coroutine[Any, Any, T]) -> T:
    # In a thread of its own: another test (the browser tests) may leave an event loop running here.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_put_returns_size_and_sha256_and_reads_back(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    data = "人口基本信息,2027年\n".encode() * 10_000
    stored = store.put(io.BytesIO(data))
    assert stored.size == len(data)
    assert stored.algorithm == "sha256"
    assert stored.checksum == hashlib.sha256(data).hexdigest()
    assert b"".join(store.read(stored.key, checksum=stored.checksum)) == data
    assert store.size(stored.key) == len(data)
    assert list(store.keys()) == [stored.key]
    assert not any((tmp_path / "tmp").iterdir())  # nothing left staged


def test_sm3_under_the_gm_profile_matches_the_published_vector(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path, algorithm=algorithm_for(CryptoProfile.gm))
    stored = store.put([b"a", b"bc"])  # an iterable of chunks, split mid-message
    assert stored.algorithm == Algorithm.sm3
    assert stored.checksum == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    store.verify(stored.key, stored.checksum)


def test_default_store_follows_the_settings(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, security={"crypto_profile": "gm"})  # type: ignore[arg-type]
    store = default_store(settings)
    assert store.root == tmp_path / "files"
    assert store.algorithm == "sm3"


def test_a_changed_object_fails_its_checksum_on_read(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path, chunk_size=1024)
    stored = store.put(io.BytesIO(b"x" * 5000))
    path = tmp_path / "objects" / stored.key[:2] / stored.key[2:4] / stored.key
    path.write_bytes(b"x" * 4999 + b"y")
    with pytest.raises(ChecksumMismatch) as caught:
        b"".join(store.read(stored.key, checksum=stored.checksum))
    assert caught.value.expected == stored.checksum
    with pytest.raises(ChecksumMismatch):
        store.verify(stored.key, stored.checksum)
    # without a checksum the bytes are served as they are (an explicit choice of the caller)
    assert len(b"".join(store.read(stored.key))) == 5000


def test_too_large_keeps_nothing(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    with pytest.raises(FileTooLarge):
        store.put(_chunks(3 * 1024 * 1024), max_bytes=2 * 1024 * 1024)
    assert list(store.keys()) == []
    assert not any((tmp_path / "tmp").iterdir())


def test_a_failing_source_keeps_nothing(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)

    def broken() -> Iterator[bytes]:
        yield b"first chunk"
        raise ConnectionError("source cut")

    with pytest.raises(ConnectionError):
        store.put(broken())
    assert list(store.keys()) == []
    assert not any((tmp_path / "tmp").iterdir())


def test_put_async_streams_a_request_body(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)

    async def body() -> AsyncIterator[bytes]:
        for chunk in _chunks(300_000, 7_000):
            yield chunk

    stored = _run(store.put_async(body()))
    expected = hashlib.sha256(b"".join(_chunks(300_000, 7_000))).hexdigest()
    assert (stored.size, stored.checksum) == (300_000, expected)

    async def too_big() -> AsyncIterator[bytes]:
        for chunk in _chunks(300_000, 7_000):
            yield chunk

    with pytest.raises(FileTooLarge):
        _run(store.put_async(too_big(), max_bytes=100_000))
    assert list(store.keys()) == [stored.key]


def test_delete_and_unknown_keys(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    stored = store.put([b"abc"])
    store.delete(stored.key)
    with pytest.raises(ObjectNotFound):
        store.read(stored.key)
    with pytest.raises(ObjectNotFound):  # a key can never name a path outside the store
        store.read("../../etc/passwd")
    store.delete(stored.key)  # idempotent


_RSS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from govshare.kit.filestore import LocalFileStore

    TOTAL = int(sys.argv[2])
    BLOCK = bytes(range(256)) * 256  # 64 KiB

    def stream():
        sent = 0
        while sent < TOTAL:
            yield BLOCK
            sent += len(BLOCK)

    def peak_kb():
        # VmHWM, not ru_maxrss: a child's ru_maxrss can carry its parent's high-water mark across exec.
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM")

    store = LocalFileStore(Path(sys.argv[1]))
    list(stream())[:1]  # warm up the generator path without keeping anything
    base = peak_kb()
    stored = store.put(stream())
    after_put = peak_kb()
    for _ in store.read(stored.key, checksum=stored.checksum):
        pass
    after_read = peak_kb()
    whole = b"".join(store.read(stored.key))  # the control: what holding the file in memory costs
    after_control = peak_kb()
    print(json.dumps({"size": stored.size, "base": base, "put": after_put, "read": after_read,
                      "control": after_control, "len": len(whole)}))
    """
)


@pytest.mark.article("A24.3")
def test_put_and_read_of_50_mb_keep_memory_flat(tmp_path: Path) -> None:
    total = 50 * 1024 * 1024
    out = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(tmp_path), str(total)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    figures = json.loads(out.stdout)
    assert figures["size"] == total
    put_growth_mb = (figures["put"] - figures["base"]) / 1024
    read_growth_mb = (figures["read"] - figures["base"]) / 1024
    control_growth_mb = (figures["control"] - figures["base"]) / 1024
    assert put_growth_mb < 16, figures
    assert read_growth_mb < 16, figures
    # The measurement sees a whole-file read, so the two bounds above could fail.
    assert control_growth_mb > 45, figures
