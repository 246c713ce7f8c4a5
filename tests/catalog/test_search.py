"""Catalog search by Chinese words (catalog/search.py), on the real index of the test database.

Most behaviour tests run twice: once answered from the full-text index (with PostgreSQL's id
windows made tiny so that several windows are read), once from the filtered rows checked one by
one — the two ways ``search`` can take must give the same answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from govshare.catalog import search, service
from govshare.catalog.models import Classification, DataItem, Resource, ResourceSearch, Topic
from govshare.catalog.schemas import DataItemIn
from govshare.cli import app as cli_app
from govshare.config import get_settings
from govshare.db import Database
from govshare.errors import ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.models import Department, Region
from govshare.identity.permissions import Role
from govshare.kit.uscc import make_uscc
from tests.factories import Factory
from tests.helpers import sign_in


@pytest.fixture(params=["index", "scan"])
def plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Force one way of answering: the index (several id windows on PostgreSQL), or the row scan."""
    if request.param == "index":
        monkeypatch.setattr(search, "SCAN_LIMIT", 0)
        monkeypatch.setattr(search, "FIRST_ID_WINDOW", 1)
    else:
        monkeypatch.setattr(search, "SCAN_LIMIT", 10**9)
    yield str(request.param)


def _ids(session: Session, actor: Actor, q: str, **filters: Any) -> list[int]:
    page = search.search(session, actor, q=q, page_size=100, **filters)
    assert page.total == len(page.items) and not page.has_next
    return [item.id for item in page.items]


def _published(factory: Factory, department: Department, name: str, **overrides: Any) -> Resource:
    return factory.published_resource(department, name=name, **overrides)


# --- tokens --------------------------------------------------------------------------------------


def test_tokenize_bigrams_last_character_and_ascii_words() -> None:
    assert search.tokenize("常住人口") == ["常住", "住人", "人口", "口"]
    assert search.tokenize("婚") == ["婚"]
    # Punctuation and spaces separate runs: no bigram spans "口、社".
    assert search.tokenize("人口、社保") == ["人口", "口", "社保", "保"]
    # ASCII words whole and lower-cased; full-width letters are folded (NFKC) first.
    assert search.tokenize("不动产API接口(ＪＳＯＮ) 101/000123") == [
        "不动",
        "动产",
        "产",
        "api",
        "接口",
        "口",
        "json",
        "101",
        "000123",
    ]
    assert search.tokenize("PM2.5浓度") == ["pm2", "5", "浓度", "度"]
    assert search.tokenize("——,。!") == []


# --- words ---------------------------------------------------------------------------------------


def test_two_character_words_find_the_right_resources_and_no_others(
    factory: Factory, session: Session, system: Actor, plan: str
) -> None:
    dept = factory.department("兰州市公安局")
    name_hit = _published(factory, dept, "户籍人口基本信息")
    both = _published(factory, dept, "人口、社保综合查询")
    body_hit = _published(factory, dept, "企业登记信息", summary="含常住人口数等统计项")
    item_hit = _published(factory, dept, "社会保险卡发放信息", items=[("社保卡号", "C"), ("发卡日期", "D")])
    phrase = _published(factory, dept, "流动人口信息")
    unrelated = _published(factory, dept, "法人单位信息", scenario="办理人事手续时核验")
    f: dict[str, Any] = {"provider_id": dept.id} if plan == "scan" else {}

    # Name hits first (newest first among them), then the other hits.
    assert _ids(session, system, "人口", **f) == [phrase.id, both.id, name_hit.id, body_hit.id]
    assert _ids(session, system, "社保", **f) == [both.id, item_hit.id]
    # A word never spans punctuation: "口社" is not in "人口、社保".
    assert _ids(session, system, "口社", **f) == []
    # Longer words must occur as written, not as scattered bigrams.
    assert _ids(session, system, "人口信息", **f) == [phrase.id]
    assert _ids(session, system, "人口基本", **f) == [name_hit.id]
    # Several words: all must occur, anywhere in the resource.
    assert _ids(session, system, "人口 社保", **f) == [both.id]
    assert _ids(session, system, "企业 人口", **f) == [body_hit.id]
    # The provider's name is searchable text too.
    assert set(_ids(session, system, "公安局", **f)) == {r.id for r in (name_hit, both, body_hit, item_hit, phrase)} | {
        unrelated.id
    }


def test_single_characters_ascii_words_and_codes(factory: Factory, session: Session, system: Actor, plan: str) -> None:
    dept = factory.department()
    marriage = _published(factory, dept, "婚姻登记信息", items=[("登记日期", "D")])
    divorce_item = _published(factory, dept, "家庭情况", items=[("婚姻状况", "C")])
    newborn = _published(factory, dept, "新生儿")
    gateway = _published(factory, dept, "不动产登记查询API接口", channel="api")
    air = _published(factory, dept, "空气质量监测", items=[("PM2.5浓度", "N")])
    f: dict[str, Any] = {"provider_id": dept.id} if plan == "scan" else {}

    assert _ids(session, system, "婚", **f) == [marriage.id, divorce_item.id]
    assert _ids(session, system, "儿", **f) == [newborn.id]  # the last character of a run
    assert _ids(session, system, "鲸", **f) == []
    for q in ("api", "API", "ＡＰＩ", "Api 接口"):
        assert _ids(session, system, q, **f) == [gateway.id], q
    assert _ids(session, system, "ap", **f) == []  # ASCII words match whole
    assert _ids(session, system, "pm2", **f) == [air.id]
    # A resource code finds its resource, ranked as a code hit.
    assert _ids(session, system, newborn.code, **f) == [newborn.id]
    assert _ids(session, system, "不动产 API", **f) == [gateway.id]


def test_ranking_name_then_code_then_elsewhere_newest_first(
    factory: Factory, session: Session, system: Actor, plan: str
) -> None:
    dept = factory.department()
    older_name = _published(factory, dept, "交通运输许可信息")
    body = _published(factory, dept, "道路信息", summary="运输许可的办理记录")
    newer_name = _published(factory, dept, "运输许可变更信息")
    f: dict[str, Any] = {"provider_id": dept.id} if plan == "scan" else {}
    assert _ids(session, system, "运输许可", **f) == [newer_name.id, older_name.id, body.id]
    # An ASCII word in a code ranks the resource with that code before resources that only
    # mention it elsewhere.
    number = body.code.split("/")[1]
    mention = _published(factory, dept, "编号说明", summary=f"旧系统编号 {number}")
    assert _ids(session, system, number, **f) == [body.id, mention.id]


def test_filters_narrow_the_hits(factory: Factory, session: Session, system: Actor, plan: str) -> None:
    dept = factory.department()
    other = factory.department()
    topic = Topic(name="社会保障专题", lead_department_id=dept.id)
    session.add(topic)
    session.flush()
    base = _published(factory, dept, "社保缴费信息")
    conditional = _published(
        factory, dept, "社保待遇信息", share_type="conditional", share_condition="仅限履行法定职责使用"
    )
    by_api = _published(factory, dept, "社保参保查询", channel="api")
    in_basic_class = _published(factory, dept, "社保人员基础信息", classification_code="101")
    in_topic = _published(factory, dept, "社保专题数据", classification_code="201", topic_id=topic.id)
    elsewhere = _published(factory, other, "社保卡信息")
    draft = factory.resource(dept, name="社保草稿信息")

    assert _ids(session, system, "社保", share_type="conditional") == [conditional.id]
    assert _ids(session, system, "社保", channel="api") == [by_api.id]
    assert _ids(session, system, "社保", classification="1") == [in_basic_class.id]
    assert _ids(session, system, "社保", classification="102") == []
    assert _ids(session, system, "社保", topic_id=topic.id) == [in_topic.id]
    assert _ids(session, system, "社保", provider_id=other.id) == [elsewhere.id]
    assert _ids(session, system, "社保", status="draft") == [draft.id]
    assert set(_ids(session, system, "社保", status="published", provider_id=dept.id)) == {
        base.id,
        conditional.id,
        by_api.id,
        in_basic_class.id,
        in_topic.id,
    }
    # Without words, the filters list (newest first).
    assert _ids(session, system, "", provider_id=other.id) == [elsewhere.id]


@pytest.mark.article("A15.1")
def test_another_departments_draft_never_appears(
    factory: Factory, session: Session, plan: str, client: TestClient
) -> None:
    mine = factory.department()
    theirs = factory.department()
    county = factory.department(region="皋兰县")
    published = _published(factory, theirs, "低保家庭信息")
    their_draft = factory.resource(theirs, name="低保对象草稿")
    their_submitted = factory.submitted_resource(theirs, name="低保审批记录")
    my_draft = factory.resource(mine, name="低保申请草稿")
    county_submitted = factory.submitted_resource(county, name="低保县区汇总")
    user = factory.user(Role.dept_user, department=mine)
    me = factory.actor(user)

    for filters in ({}, {"status": "draft"}, {"provider_id": theirs.id}, {"share_type": "unconditional"}):
        found = set(_ids(session, me, "低保", **filters))
        assert their_draft.id not in found and their_submitted.id not in found
        assert county_submitted.id not in found
    assert set(_ids(session, me, "低保")) == {published.id, my_draft.id}
    assert set(_ids(session, factory.actor(factory.user(Role.dept_user, department=theirs)), "低保")) == {
        published.id,
        their_draft.id,
        their_submitted.id,
    }
    # Reviewers see what is theirs to review: the bureau the city's, a county its own.
    bureau = factory.role_actor(Role.bureau_reviewer)
    assert set(_ids(session, bureau, "低保", status="submitted")) == {their_submitted.id}
    county_reviewer = factory.role_actor(Role.region_reviewer, region="皋兰县")
    assert set(_ids(session, county_reviewer, "低保", status="submitted")) == {county_submitted.id}
    # The same over the JSON API.
    sign_in(client, session, user)
    r = client.get("/api/v1/catalog/search", params={"q": "低保"})
    assert r.status_code == 200, r.text
    assert {item["id"] for item in r.json()["items"]} == {published.id, my_draft.id}


def test_the_index_follows_edits_and_can_be_rebuilt(factory: Factory, session: Session, system: Actor) -> None:
    dept = factory.department()
    resource = factory.resource(dept, name="人口迁移信息", items=[("迁入日期", "D")])
    assert _ids(session, system, "人口") == [resource.id]

    data = factory.resource_fields(name="社保转移信息", items=[("医保账号", "C")])
    service.update_resource(session, factory.compiler(dept), resource.id, data)
    assert _ids(session, system, "人口") == []
    assert _ids(session, system, "迁入") == []
    assert _ids(session, system, "社保") == [resource.id]
    assert _ids(session, system, "医保") == [resource.id]

    search.remove_from_index(session, resource.id)
    assert _ids(session, system, "社保") == []

    # Rows written around the service (a bulk import) are found after reindex_all.
    bulk_id = session.execute(
        insert(Resource)
        .values(
            code="101/999001",
            name="批量导入的户籍人口",
            name_key="批量导入的户籍人口",
            classification_id=resource.classification_id,
            provider_id=dept.id,
            format_class="database",
            channel="table",
            update_cycle="daily",
            reviewing_region_id=resource.reviewing_region_id,
        )
        .returning(Resource.id)
    ).scalar_one()
    session.execute(
        insert(DataItem).values(resource_id=bulk_id, position=1, name="公积金账号", name_key="x", data_type="C")
    )
    assert _ids(session, system, "户籍") == []
    assert search.reindex_all(session) == session.execute(select(func.count()).select_from(Resource)).scalar_one()
    assert _ids(session, system, "户籍") == [bulk_id]
    assert _ids(session, system, "公积") == [bulk_id]
    assert _ids(session, system, "社保") == [resource.id]
    # The index row is kept with the resource; deleting the resource deletes it.
    session.execute(delete(Resource).where(Resource.id == bulk_id))
    left = select(func.count()).select_from(ResourceSearch).where(ResourceSearch.resource_id == bulk_id)
    assert session.execute(left).scalar_one() == 0
    assert _ids(session, system, "户籍") == []


def test_pages_and_capped_totals(
    factory: Factory, session: Session, system: Actor, plan: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dept = factory.department()
    made = [_published(factory, dept, f"医疗机构执业信息{n}") for n in range(5)]
    newest_first = [r.id for r in reversed(made)]
    f: dict[str, Any] = {"provider_id": dept.id} if plan == "scan" else {}

    first = search.search(session, system, q="医疗", page=1, page_size=2, **f)
    assert [i.id for i in first.items] == newest_first[:2] and first.has_next and first.total == 5
    last = search.search(session, system, q="医疗", page=3, page_size=2, **f)
    assert [i.id for i in last.items] == newest_first[4:] and not last.has_next and last.total == 5
    beyond = search.search(session, system, q="医疗", page=4, page_size=2, **f)
    assert beyond.items == [] and not beyond.has_next and beyond.total == 5

    monkeypatch.setattr(search, "COUNT_CAP", 3)
    capped = search.search(session, system, q="医疗", page=1, page_size=2, **f)
    assert capped.has_next and capped.total is not None and capped.total >= search.COUNT_CAP
    assert [i.id for i in capped.items] == newest_first[:2]
    summary = capped.items[0]
    assert summary.code == made[-1].code and summary.status == "published"


def test_invalid_queries_are_refused_in_chinese(factory: Factory, session: Session, system: Actor) -> None:
    with pytest.raises(ValidationFailed) as too_long:
        search.search(session, system, q="人" * (search.MAX_QUERY_LENGTH + 1))
    assert too_long.value.errors[0].field == "q" and "检索词" in too_long.value.detail
    with pytest.raises(ValidationFailed) as bad_type:
        search.search(session, system, q="人口", share_type="sometimes")
    assert bad_type.value.errors[0].field == "share_type"
    with pytest.raises(ValidationFailed):
        search.search(session, system, q="人口", page_size=0)
    with pytest.raises(ValidationFailed):
        search.search(session, system, q="人口", classification="1a")
    factory.published_resource(factory.department(), name="人口信息")
    empty = search.search(session, system, q="、,。!")
    assert empty.items == [] and empty.total == 0


def test_search_api(factory: Factory, session: Session, client: TestClient) -> None:
    assert client.get("/api/v1/catalog/search", params={"q": "人口"}).status_code == 401
    dept = factory.department()
    hit = factory.published_resource(
        dept, name="常住人口信息", items=[DataItemIn(name="公民身份号码", data_type="C", length=18)]
    )
    factory.published_resource(dept, name="企业名录")
    sign_in(client, session, factory.user(Role.dept_user))
    body = client.get("/api/v1/catalog/search", params={"q": "人口", "share_type": "unconditional"}).json()
    assert [i["id"] for i in body["items"]] == [hit.id]
    assert body["total"] == 1 and body["has_next"] is False and body["items"][0]["code"] == hit.code
    r = client.get("/api/v1/catalog/search", params={"q": "人口", "share_type": "sometimes"})
    assert r.status_code == 422
    r = client.get("/api/v1/catalog/search", params={"q": "人" * 101})
    assert r.status_code == 422


def test_reindex_command_rebuilds_the_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, system: Actor) -> None:
    url = f"sqlite:///{(tmp_path / 'fresh.db').as_posix()}"
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", url)
    monkeypatch.setenv("GOVSHARE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    runner = CliRunner()
    fresh = Database(url)
    try:
        assert runner.invoke(cli_app, ["init"]).exit_code == 0
        with fresh.session_scope() as s:
            region = s.execute(select(Region).where(Region.code == "620100")).scalar_one()
            dept = Department(name="兰州市民政局", uscc=make_uscc("11620100MB7654321"), region_id=region.id)
            s.add(dept)
            s.flush()
            s.execute(
                insert(Resource).values(
                    code="101/000001",
                    name="婚姻登记信息",
                    name_key="婚姻登记信息",
                    classification_id=s.execute(
                        select(Classification.id).where(Classification.code == "101")
                    ).scalar_one(),
                    provider_id=dept.id,
                    format_class="database",
                    channel="table",
                    update_cycle="daily",
                    reviewing_region_id=region.id,
                    status="published",
                )
            )
        with fresh.session_scope() as s:
            assert search.search(s, system, q="婚姻").total == 0
        result = runner.invoke(cli_app, ["reindex"])
        assert result.exit_code == 0, result.output
        assert "已重建 1 个信息资源的检索索引" in result.output
        with fresh.session_scope() as s:
            assert search.search(s, system, q="婚姻").total == 1
    finally:
        fresh.dispose()
        get_settings.cache_clear()
