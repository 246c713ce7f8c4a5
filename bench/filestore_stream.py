"""File store benchmark: put and verified read of a large generated stream, peak RSS and throughput.

    .venv/bin/python bench/filestore_stream.py --mb 1024
    .venv/bin/python bench/filestore_stream.py --mb 1024 --algorithm sm3

Acceptance (A24.3, issue 3): a 1 GB file stored and read back with its checksum verified, with the
process's peak RSS under 300 MB. The baseline, measured in the same run, is a plain loop that writes
the same chunks to a file while hashing them and reads them back the same way; the ratio says what
the store's staging, rename and verification cost on top of that.

This measures the store alone; the HTTP upload/download path adds the web server's own buffers.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import hashes

from govshare.kit.filestore import CHUNK_SIZE, LocalFileStore


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not available (Linux only)")


def stream(total: int) -> Iterator[bytes]:
    block = os.urandom(CHUNK_SIZE)
    sent = 0
    while sent < total:
        piece = block[: min(CHUNK_SIZE, total - sent)]
        sent += len(piece)
        yield piece


def baseline(root: Path, total: int, algorithm: str) -> float:
    start = time.perf_counter()
    path = root / "baseline.bin"
    h = hashes.Hash(hashes.SM3()) if algorithm == "sm3" else None
    sha = hashlib.sha256()
    with path.open("wb") as f:
        for chunk in stream(total):
            (h.update if h else sha.update)(chunk)
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    h2 = hashes.Hash(hashes.SM3()) if algorithm == "sm3" else None
    sha2 = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            (h2.update if h2 else sha2.update)(chunk)
    path.unlink()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--algorithm", choices=["sha256", "sm3"], default="sha256")
    args = parser.parse_args()
    total = args.mb * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="govshare-bench-files-") as d:
        root = Path(d)
        store = LocalFileStore(root / "store", algorithm=args.algorithm)
        before = peak_rss_mb()
        start = time.perf_counter()
        stored = store.put(stream(total))
        put_s = time.perf_counter() - start
        start = time.perf_counter()
        store.verify(stored.key, stored.checksum)
        read_s = time.perf_counter() - start
        peak = peak_rss_mb()
        base_s = baseline(root, total, args.algorithm)
    print(f"size {args.mb} MB, checksum {stored.algorithm} {stored.checksum[:16]}…")
    print(f"put {put_s:.2f} s ({args.mb / put_s:.0f} MB/s); verified read {read_s:.2f} s ({args.mb / read_s:.0f} MB/s)")
    print(f"peak RSS {peak:.0f} MB (before the transfer {before:.0f} MB); acceptance: < 300 MB")
    print(f"baseline write+hash+read {base_s:.2f} s; store/baseline time ratio {(put_s + read_s) / base_s:.2f}")
    if peak >= 300:
        raise SystemExit("peak RSS over 300 MB")


if __name__ == "__main__":
    main()
