"""The obligation report: which rows of OBLIGATIONS.md have a test that proves them.

``pytest --obligations`` prints every row with the tests tagged ``@pytest.mark.article("A20.2")``.
A tag naming a row that does not exist fails collection, so a typo cannot pass for proof.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

_ROW = re.compile(r"^\|\s*(A\d+\.\d+)\s*\|\s*\d+\s*\|\s*(.+?)\s*\|\s*$")
_CANDIDATES = (
    Path(__file__).resolve().parents[1] / "docs" / "OBLIGATIONS.md",
    Path(__file__).resolve().parents[2] / "shared" / "OBLIGATIONS.md",
)
_proven: dict[str, list[str]] = defaultdict(list)


def _rows() -> dict[str, str]:
    for path in _CANDIDATES:
        if path.exists():
            rows = {}
            for line in path.read_text(encoding="utf-8").splitlines():
                match = _ROW.match(line)
                if match:
                    rows[match.group(1)] = match.group(2)
            return rows
    return {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--obligations", action="store_true", help="list which obligation rows have tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rows = _rows()
    unknown: list[str] = []
    for item in items:
        for mark in item.iter_markers("article"):
            for article in mark.args:
                _proven[str(article)].append(item.nodeid)
                if rows and article not in rows:
                    unknown.append(f"{item.nodeid}: {article}")
    if unknown:
        raise pytest.UsageError("article marks naming no row of OBLIGATIONS.md:\n" + "\n".join(unknown))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if not config.getoption("--obligations"):
        return
    rows = _rows()
    terminalreporter.section("obligations")
    for article in sorted(rows or _proven, key=lambda a: tuple(int(x) for x in a[1:].split("."))):
        tests = _proven.get(article, [])
        status = f"{len(tests)} test(s)" if tests else "NOT PROVEN"
        terminalreporter.write_line(f"{article:7} {status:12} {rows.get(article, '')[:70]}")
