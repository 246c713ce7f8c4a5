"""信息资源代码 and name keys.

A resource's code is its classification's 分类码, a slash, and a six-digit 顺序码 unique under that
分类码 (``101/000123``; with deeper 目/细目 codes ``101001/000123``). The 顺序码 comes from the
classification row's ``next_sequence``, read under a row lock (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite transactions here begin IMMEDIATE and are already serialised) and only ever
increases, so a code is never handed out twice, not even after its resource is withdrawn.

Name keys: two names are "the same" when they are equal after Unicode NFKC folding (full-width
letters and digits become ASCII), lower-casing, and removing every space and punctuation or symbol
character, Chinese (,。、《》“”…) and ASCII alike.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from govshare.catalog.models import Classification
from govshare.errors import Conflict

SEQUENCE_DIGITS = 6
MAX_SEQUENCE = 10**SEQUENCE_DIGITS - 1
CODE_PATTERN = re.compile(r"^(?P<prefix>\d{1,15})/(?P<seq>\d{6})$")


def name_key(text: str) -> str:
    """The comparison key of a resource or 信息项 name (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if not _is_separator(ch))


def _is_separator(ch: str) -> bool:
    category = unicodedata.category(ch)
    # P*: punctuation, S*: symbols (¥, +, ~), Z*: spaces; C*: control and format characters.
    return category[0] in "PSZC" or ch.isspace()


def format_code(prefix: str, sequence: int) -> str:
    return f"{prefix}/{sequence:0{SEQUENCE_DIGITS}d}"


def parse_code(code: str) -> tuple[str, int] | None:
    """``("101", 123)`` for ``"101/000123"``; None when the text is not a code."""
    match = CODE_PATTERN.match(code.strip())
    if match is None:
        return None
    return match["prefix"], int(match["seq"])


def allocate_code(session: Session, classification_id: int) -> str:
    """Take the next 顺序码 under a classification (row-locked) and return the full code."""
    row = session.execute(
        select(Classification)
        .where(Classification.id == classification_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    sequence = row.next_sequence
    if sequence > MAX_SEQUENCE:
        raise Conflict(f"分类“{row.code} {row.name}”下的顺序码已用尽", code="sequence_exhausted")
    row.next_sequence = sequence + 1
    session.flush()
    return format_code(row.code, sequence)


def reserve_code(session: Session, classification_id: int, sequence: int) -> None:
    """An imported code keeps its 顺序码: make sure the classification never hands it out again."""
    session.execute(
        update(Classification)
        .where(Classification.id == classification_id, Classification.next_sequence <= sequence)
        .values(next_sequence=sequence + 1)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        select(Classification).where(Classification.id == classification_id).execution_options(populate_existing=True)
    ).scalar_one()
