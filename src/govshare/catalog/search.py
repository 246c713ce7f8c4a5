"""Catalog search by Chinese words, on SQLite and PostgreSQL alike, without a Chinese segmenter.

Indexing. A resource's searchable text — name, code, summary, scenario, provider name and office,
信息项 names — is cut into tokens: every run of Chinese characters gives its overlapping character
bigrams followed by its last character alone (``常住人口`` → ``常住 住人 人口 口``); every run of ASCII
letters and digits gives one lowercase word (``API`` → ``api``, ``101/000123`` → ``101 000123``).
Everything else separates. The tokens are stored space-separated in ``resource_search`` (name, code
and the rest in three columns); migration 0002 builds the dialect's full-text index over them: an
FTS5 table kept in step by triggers on SQLite, generated ``tsvector`` columns with a GIN index on
PostgreSQL. No dictionary, no extension: both databases only ever see our own tokens.

Querying. The query is cut the same way. A Chinese run of two or more characters must occur as a
phrase of its bigrams (``人口信息`` → ``人口 <-> 口信 <-> 信息``), so a two-character word is one index
lookup; a single Chinese character is a prefix match (it starts a bigram, or ends a run); an ASCII
word matches whole. All parts must match (AND).

Ranking is deliberately simple and cheap: resources whose *name* matches the whole query first,
then those whose *code* does, then the rest; newest first within each group (as the catalog list
is). Within a group that order is the index's own order (FTS5 rowids, the primary key), so the
first page of a word found in 100,000 resources reads a few dozen hits, not all of them.

Three ways to answer, chosen per query (measured in bench/catalog_search.py):
- from the index, tier by tier, newest first (SQLite: FTS5 yields rowids in order; PostgreSQL:
  the same in widening windows of ids, see ``_id_windows``);
- when the filters leave fewer than SCAN_LIMIT resources (one provider, a department's drafts),
  from those resources, testing their tokens with LIKE — the same test the index makes — since the
  index would walk every hit of a common word to find the few that pass the filters;
- the total is counted only up to COUNT_CAP ("500+"), which bounds its cost.

Visibility is ``repository.visibility_clause(actor)`` — the WHERE clause of ``readable`` — applied
in the same statement as the words, per hit, so it never forces a pass over the whole catalog.

The statements live here rather than in ``repository.py`` because they are dialect-specific and
only make sense next to the index they read (the index rows are written here as well).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    delete,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    not_,
    select,
    table,
    true,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.orm import InstrumentedAttribute, Session

from govshare.catalog import repository
from govshare.catalog.enums import Channel, ResourceStatus, ShareType
from govshare.catalog.models import DataItem, Resource, ResourceSearch
from govshare.catalog.schemas import ResourcePage, ResourceSummary
from govshare.db import is_postgres
from govshare.errors import FieldError, ValidationFailed, raise_if_errors
from govshare.identity.actor import Actor
from govshare.identity.models import Department

MAX_QUERY_LENGTH = 100
MAX_TERMS = 12
MAX_PAGE_SIZE = 100
# Counting every hit of a common word costs more than the page itself (bench: counting to 1000
# doubled the p95 on PostgreSQL); from this many on, ``ResourcePage.total`` is a lower bound
# (at least COUNT_CAP, shown as "500+"); ``has_next`` stays exact.
COUNT_CAP = 500
# PostgreSQL reads each rank tier in windows of resource ids, the first this wide (see _id_windows).
FIRST_ID_WINDOW = 2000
# Filters that leave fewer resources than this are answered by checking those resources' tokens.
SCAN_LIMIT = 2000

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_SEGMENT = re.compile(f"[{_HAN}]+|[a-z0-9]+")
_HAN_CHAR = re.compile(f"[{_HAN}]")

# The dialect-specific parts of the index, which are not ORM models (migration 0002).
_fts = table("resource_search_fts", column("rowid", Integer))
_pg_index = table(
    "resource_search",
    column("resource_id", Integer),
    column("code_tokens", Text),
    column("tsv", TSVECTOR),
    column("name_tsv", TSVECTOR),
)

_SUMMARY_COLUMNS = (
    Resource.id,
    Resource.code,
    Resource.name,
    Resource.provider_id,
    Resource.share_type,
    Resource.channel,
    Resource.update_cycle,
    Resource.status,
    Resource.published_at,
)


# --- tokens ------------------------------------------------------------------------------------


def _segments(text: str) -> list[str]:
    """Runs of Chinese characters and of ASCII letters/digits, after NFKC folding and lower-casing."""
    return _SEGMENT.findall(unicodedata.normalize("NFKC", text).lower())


def _is_han(segment: str) -> bool:
    return _HAN_CHAR.match(segment) is not None


def _segment_tokens(segment: str) -> list[str]:
    if not _is_han(segment):
        return [segment]
    bigrams = [segment[i : i + 2] for i in range(len(segment) - 1)]
    return [*bigrams, segment[-1]]


def tokenize(text: str) -> list[str]:
    """The index tokens of ``text``: Chinese bigrams (plus each run's last character) and ASCII words."""
    out: list[str] = []
    for segment in _segments(text):
        out.extend(_segment_tokens(segment))
    return out


def _joined(texts: Iterable[str]) -> str:
    return " ".join(token for text in texts if text for token in tokenize(text))


# --- index maintenance -------------------------------------------------------------------------


def _index_texts(resource: Resource, provider_name: str, item_names: Sequence[str]) -> tuple[str, str, str]:
    body = _joined([resource.summary or "", resource.scenario or "", provider_name, resource.provider_office or ""])
    items = _joined(item_names)
    return _joined([resource.name]), _joined([resource.code]), f"{body} {items}".strip()


def _item_names(session: Session, resource: Resource) -> list[str]:
    if "items" not in inspect(resource).unloaded:
        return [item.name for item in resource.items]
    rows = session.execute(
        select(DataItem.name).where(DataItem.resource_id == resource.id).order_by(DataItem.position)
    ).scalars()
    return list(rows)


def index_resource(session: Session, resource: Resource) -> None:
    """Upsert the search-index row of ``resource`` (its 信息项 may be loaded or not); flushes."""
    if resource.id is None:
        session.flush()
    provider = session.get(Department, resource.provider_id)
    name_tokens, code_tokens, body_tokens = _index_texts(
        resource, provider.name if provider is not None else "", _item_names(session, resource)
    )
    row = session.get(ResourceSearch, resource.id)
    if row is None:
        session.add(
            ResourceSearch(
                resource_id=resource.id, name_tokens=name_tokens, code_tokens=code_tokens, body_tokens=body_tokens
            )
        )
    elif (row.name_tokens, row.code_tokens, row.body_tokens) != (name_tokens, code_tokens, body_tokens):
        row.name_tokens, row.code_tokens, row.body_tokens = name_tokens, code_tokens, body_tokens
    session.flush()


def remove_from_index(session: Session, resource_id: int) -> None:
    """Drop the search-index row of a resource (a deleted resource loses it by cascade anyway)."""
    session.execute(delete(ResourceSearch).where(ResourceSearch.resource_id == resource_id))
    session.flush()


def reindex_all(session: Session, *, batch_size: int = 2000) -> int:
    """Rebuild the whole index from the resources (after a bulk import, or by the CLI); returns the count."""
    session.flush()
    session.execute(delete(ResourceSearch))
    providers = dict(session.execute(select(Department.id, Department.name)).all())
    last_id = 0
    count = 0
    while True:
        resources = list(
            session.execute(select(Resource).where(Resource.id > last_id).order_by(Resource.id).limit(batch_size))
            .scalars()
            .all()
        )
        if not resources:
            break
        ids = [r.id for r in resources]
        items: dict[int, list[str]] = {i: [] for i in ids}
        for resource_id, name in session.execute(
            select(DataItem.resource_id, DataItem.name)
            .where(DataItem.resource_id.in_(ids))
            .order_by(DataItem.resource_id, DataItem.position)
        ):
            items[resource_id].append(name)
        rows = []
        for resource in resources:
            name_tokens, code_tokens, body_tokens = _index_texts(
                resource, providers.get(resource.provider_id, ""), items[resource.id]
            )
            rows.append(
                {
                    "resource_id": resource.id,
                    "name_tokens": name_tokens,
                    "code_tokens": code_tokens,
                    "body_tokens": body_tokens,
                }
            )
        session.execute(insert(ResourceSearch), rows)
        for resource in resources:
            session.expunge(resource)
        count += len(resources)
        last_id = ids[-1]
    session.flush()
    return count


# --- queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    """One part of a query: a phrase of consecutive tokens, or a one-character prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False

    @property
    def ascii(self) -> bool:
        return not _is_han(self.tokens[0])


def _terms(q: str) -> list[_Term]:
    terms: list[_Term] = []
    for segment in _segments(q):
        if _is_han(segment) and len(segment) == 1:
            term = _Term((segment,), prefix=True)
        elif _is_han(segment):
            term = _Term(tuple(segment[i : i + 2] for i in range(len(segment) - 1)))
        else:
            term = _Term((segment,))
        if term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def _fts_query(terms: Sequence[_Term], column_name: str | None = None) -> str:
    # Tokens hold only Han characters or [a-z0-9], so quoting them needs no escaping.
    expr = " AND ".join(f'"{" ".join(t.tokens)}"' + ("*" if t.prefix else "") for t in terms)
    return f"{{{column_name}}} : ({expr})" if column_name else f"({expr})"


def _ts_query(terms: Sequence[_Term]) -> str:
    parts = [f"'{t.tokens[0]}':*" if t.prefix else " <-> ".join(f"'{token}'" for token in t.tokens) for t in terms]
    return " & ".join(f"({p})" for p in parts)


@dataclass(frozen=True)
class _Plan:
    """How one query reads the index: a base statement over the hits, the text condition of each
    rank tier (name, code, elsewhere), the condition of all hits, and the order within a tier."""

    base: Select[int]
    tiers: Sequence[ColumnElement[bool]]
    any_hit: ColumnElement[bool] | None
    newest_first: ColumnElement[Any]
    count_hits: bool = False  # count through a materialized set of hits (PostgreSQL)
    rank: ColumnElement[int] | None = None  # few rows: read them all at once, ranked by this
    id_windows: bool = False  # read each tier in windows of ids, newest first (PostgreSQL)


def _tier_conditions(
    in_all: ColumnElement[bool], in_name: ColumnElement[bool], in_code: ColumnElement[bool] | None
) -> list[ColumnElement[bool]]:
    if in_code is None:
        return [in_name, and_(in_all, not_(in_name))]
    return [in_name, and_(in_all, in_code, not_(in_name)), and_(in_all, not_(in_name), not_(in_code))]


def _with_code(terms: Sequence[_Term]) -> bool:
    # Resource codes only hold digits, so only a query with an ASCII part can hit a code.
    return any(t.ascii for t in terms)


def _index_plan(session: Session, terms: Sequence[_Term]) -> _Plan:
    """Read the full-text index: the database starts from the hits of the words."""
    if is_postgres(session):
        # The query is rendered into the SQL text (it holds only our quoted tokens), never bound:
        # psycopg prepares a statement run five times, and PostgreSQL's generic plan for
        # ``tsv @@ $1`` cannot know whether the word is rare or common — the plan that streams
        # for 信息 walks the whole table for 公积. With the literal, every word is planned for itself.
        query = cast(bindparam("ts_query", _ts_query(terms), type_=String, literal_execute=True), TSQUERY)
        in_all: ColumnElement[bool] = _pg_index.c.tsv.bool_op("@@")(query)
        in_name: ColumnElement[bool] = _pg_index.c.name_tsv.bool_op("@@")(query)
        code_tsv = func.to_tsvector(literal_column("'simple'::regconfig"), _pg_index.c.code_tokens)
        in_code: ColumnElement[bool] = code_tsv.bool_op("@@")(query)
        base = select(Resource.id).select_from(_pg_index).join(Resource, Resource.id == _pg_index.c.resource_id)
        tiers = _tier_conditions(in_all, in_name, in_code if _with_code(terms) else None)
        return _Plan(base, tiers, in_all, _pg_index.c.resource_id.desc(), count_hits=True, id_windows=True)

    # SQLite: each tier is one FTS5 expression; FTS5 yields rowids in order, so a page of a
    # common word stops after a few dozen hits instead of sorting all of them.
    every, name, code = _fts_query(terms), _fts_query(terms, "name_tokens"), _fts_query(terms, "code_tokens")
    expressions = [name]
    if _with_code(terms):
        expressions += [f"{code} NOT {name}", f"{every} NOT {name} NOT {code}"]
    else:
        expressions += [f"{every} NOT {name}"]

    def match(key: str, expression: str) -> ColumnElement[bool]:
        return literal_column("resource_search_fts").bool_op("MATCH")(bindparam(key, expression))

    base = select(Resource.id).select_from(_fts).join(Resource, Resource.id == _fts.c.rowid)
    return _Plan(
        base,
        [match(f"fts_tier{i}", e) for i, e in enumerate(expressions)],
        match("fts_all", every),
        _fts.c.rowid.desc(),
    )


def _contains(tokens: ColumnElement[str] | InstrumentedAttribute[str], terms: Sequence[_Term]) -> ColumnElement[bool]:
    """The words as LIKE patterns over space-separated tokens: the same test as the index makes."""
    padded = literal(" ") + tokens + literal(" ")
    patterns = [f"% {' '.join(t.tokens)}{'' if t.prefix else ' '}%" for t in terms]
    return and_(*(padded.like(pattern) for pattern in patterns))


def _scan_plan(terms: Sequence[_Term]) -> _Plan:
    """Check the words row by row: for filters that leave few resources (a provider, a status)."""
    in_name = _contains(ResourceSearch.name_tokens, terms)
    in_code = _contains(ResourceSearch.code_tokens, terms)
    everything = ResourceSearch.name_tokens + " " + ResourceSearch.code_tokens + " " + ResourceSearch.body_tokens
    in_all = _contains(everything, terms)
    base = select(Resource.id).join(ResourceSearch, ResourceSearch.resource_id == Resource.id)
    tiers = _tier_conditions(in_all, in_name, in_code if _with_code(terms) else None)
    rank = case((in_name, 0), (in_code, 1), else_=2) if _with_code(terms) else case((in_name, 0), else_=2)
    return _Plan(base, tiers, in_all, Resource.id.desc(), rank=rank)


def _plan(
    session: Session,
    terms: Sequence[_Term],
    filters: Sequence[ColumnElement[bool]],
    visibility: ColumnElement[bool] | None,
    status: str | None,
) -> _Plan:
    """The cheaper way to answer: from the index, or, when the filters leave fewer than SCAN_LIMIT
    resources, from those resources checked one by one (from the index, the database would walk
    every hit of a common word to find the few that pass the filters).

    First the filters alone (one index answers that without reading rows); visibility only counts
    in when a status other than published is asked for — the one filter that visibility can
    narrow to almost nothing (another department's drafts)."""
    if not terms:
        return _Plan(select(Resource.id), [true()], None, Resource.id.desc())
    if filters:
        estimates = [list(filters)]
        if visibility is not None and status not in (None, ResourceStatus.published):
            estimates.append([*filters, visibility])
        for conditions in estimates:
            few = select(Resource.id).where(*conditions).limit(SCAN_LIMIT).subquery()
            if session.execute(select(func.count()).select_from(few)).scalar_one() < SCAN_LIMIT:
                return _scan_plan(terms)
    return _index_plan(session, terms)


def _choice(field: str, value: str | None, allowed: type[StrEnum], label: str) -> str | None:
    if value is None or value == "":
        return None
    if value not in {m.value for m in allowed}:
        raise ValidationFailed(
            f"{label}取值无效:{value}", code="invalid_filter", errors=[FieldError(field, f"{label}取值无效")]
        )
    return value


def search(
    session: Session,
    actor: Actor,
    *,
    q: str,
    classification: str | None = None,
    topic_id: int | None = None,
    provider_id: int | None = None,
    share_type: str | None = None,
    channel: str | None = None,
    status: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> ResourcePage:
    """Resources ``actor`` may read whose text contains every word of ``q``, with optional filters.

    Name hits first, then code hits, then the rest; newest first within each. An empty ``q``
    lists newest first. ``total`` is exact below COUNT_CAP; at or above it, there are at least that many.
    """
    q = (q or "").strip()
    errors: list[FieldError] = []
    if len(q) > MAX_QUERY_LENGTH:
        errors.append(FieldError("q", f"检索词不能超过 {MAX_QUERY_LENGTH} 个字"))
    if page < 1:
        errors.append(FieldError("page", "页码从 1 开始"))
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        errors.append(FieldError("page_size", f"每页条数应在 1 到 {MAX_PAGE_SIZE} 之间"))
    if classification and not classification.isdigit():
        errors.append(FieldError("classification", "分类码应为数字"))
    raise_if_errors("检索条件有误:", errors)
    share_type = _choice("share_type", share_type, ShareType, "共享类型")
    channel = _choice("channel", channel, Channel, "共享方式")
    status = _choice("status", status, ResourceStatus, "状态")

    filters = repository.filter_clauses(
        classification_ids=repository.classification_ids_under(session, classification) if classification else None,
        topic_id=topic_id,
        provider_id=provider_id,
        share_type=share_type,
        channel=channel,
        status=status,
    )

    terms = _terms(q)
    if q and not terms:  # only punctuation or symbols: nothing can match
        return ResourcePage(items=[], page=page, page_size=page_size, total=0, has_next=False)

    visibility = repository.visibility_clause(actor)
    plan = _plan(session, terms, filters, visibility, status)
    if visibility is not None:
        filters.append(visibility)
    offset = (page - 1) * page_size
    wanted = offset + page_size + 1  # one more than the page, to know whether a next page exists
    ids, exhausted = _ranked_ids(session, plan, filters, wanted)
    page_ids = ids[offset : offset + page_size]
    total = len(ids) if exhausted else _count(session, plan, filters, cap=max(COUNT_CAP, wanted))
    return ResourcePage(
        items=_summaries(session, page_ids),
        page=page,
        page_size=page_size,
        total=total,
        has_next=len(ids) > offset + page_size,
    )


def _ranked_ids(
    session: Session, plan: _Plan, filters: Sequence[ColumnElement[bool]], wanted: int
) -> tuple[list[int], bool]:
    """The first ``wanted`` ids in rank order, tier by tier; and whether every hit was read."""
    if plan.rank is not None and plan.any_hit is not None:  # at most SCAN_LIMIT rows: one pass
        stmt = plan.base.add_columns(plan.rank).where(plan.any_hit, *filters)
        ranked = sorted(session.execute(stmt).all(), key=lambda row: (row[1], -row[0]))
        return [row[0] for row in ranked], True
    windows = _id_windows(session) if plan.id_windows else [None]
    ids: list[int] = []
    for tier in plan.tiers:
        found: list[int] = []
        for window in windows:
            need = wanted - len(ids) - len(found)
            stmt = plan.base.where(tier, *filters).order_by(plan.newest_first).limit(need)
            if window is not None:
                low, high = window
                stmt = stmt.where(
                    _pg_index.c.resource_id >= bindparam("low", low, literal_execute=True),
                    _pg_index.c.resource_id < bindparam("high", high, literal_execute=True),
                )
            found.extend(session.execute(stmt).scalars())
            if len(found) == wanted - len(ids):
                break
        ids.extend(found)
        if len(ids) == wanted:
            return ids, False
    return ids, True


def _id_windows(session: Session) -> list[tuple[int, int] | None]:
    """PostgreSQL: ranges of resource ids, newest first, each four times the last.

    Within a tier, PostgreSQL either walks the primary key backwards testing each row (fast when
    the word and the filters are common) or takes every hit from the GIN index and sorts them
    (fast when they are rare). Its estimates are good for one bigram but not for phrases or for
    filters correlated with words, and a wrong guess costs a walk over the whole table or a sort
    of tens of thousands of hits. Within a window either mistake is bounded by the window; a
    common word fills the page in the first window, a rare one costs a few cheap index lookups.
    """
    top = session.execute(select(func.max(_pg_index.c.resource_id))).scalar()
    if top is None:
        return [None]
    windows: list[tuple[int, int] | None] = []
    high, size = top + 1, FIRST_ID_WINDOW
    while high > 0:
        low = max(high - size, 0)
        windows.append((low, high))
        high, size = low, size * 4
    return windows


def _count(session: Session, plan: _Plan, filters: Sequence[ColumnElement[bool]], *, cap: int) -> int:
    stmt = plan.base.where(*filters)
    if plan.any_hit is not None and plan.count_hits:
        # PostgreSQL: the hits as a MATERIALIZED CTE read lazily, each checked against the filters by
        # a correlated subquery (which the planner cannot turn into a merge join that reads them all):
        # the GIN index yields the set of hits, the heap is visited only until ``cap`` rows pass.
        # Left to itself the planner walks the primary key checking every row's tsvector, or
        # sorts every hit for a merge join — 3 to 5 times slower for common and mid-frequency words.
        hits = select(_pg_index.c.resource_id).where(plan.any_hit).cte("hits").prefix_with("MATERIALIZED")
        passes = select(true()).where(Resource.id == hits.c.resource_id, *filters).scalar_subquery()
        stmt = select(hits.c.resource_id).where(passes)
    elif plan.any_hit is not None:
        stmt = stmt.where(plan.any_hit)
    capped = stmt.limit(cap).subquery()
    return int(session.execute(select(func.count()).select_from(capped)).scalar_one())


def _summaries(session: Session, ids: list[int]) -> list[ResourceSummary]:
    if not ids:
        return []
    rows = {row.id: row for row in session.execute(select(*_SUMMARY_COLUMNS).where(Resource.id.in_(ids)))}
    return [ResourceSummary.model_validate(rows[i]) for i in ids if i in rows]
