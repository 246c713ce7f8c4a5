"""Topic resources (主题, A12.2): JSON routes under /api/v1/catalog/topics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from govshare.catalog import topics
from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission

router = APIRouter(prefix="/catalog/topics", tags=["主题资源"])

Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
Manager = Annotated[Actor, Depends(require(Permission.topic_manage))]
Compiler = Annotated[Actor, Depends(require(Permission.catalog_compile))]


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, description="主题名称,如 交通运行")
    lead_department_id: int = Field(description="牵头部门")
    contributor_ids: list[int] = Field(default_factory=list, description="共建部门")
    classification_id: int | None = Field(None, description="主题类(类 2)分类")
    description: str = Field("", max_length=4000, description="主题说明(创建时可填,此后由牵头部门维护)")


class TopicUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    lead_department_id: int
    contributor_ids: list[int] = Field(default_factory=list)
    classification_id: int | None = None
    expected_version: int | None = Field(None, description="乐观锁:编辑时看到的版本号")


class TopicDescriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(max_length=4000, description="主题信息资源目录说明")
    expected_version: int | None = None


class DepartmentRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class TopicResourceRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    provider_id: int
    status: str


class TopicRead(BaseModel):
    id: int
    name: str
    description: str
    classification_id: int | None
    lead: DepartmentRef
    contributors: list[DepartmentRef]
    version: int


class TopicDetail(TopicRead):
    resources: list[TopicResourceRef]


def _read(row: topics.TopicRow | topics.TopicView) -> TopicRead:
    t = row.topic
    return TopicRead(
        id=t.id,
        name=t.name,
        description=t.description,
        classification_id=t.classification_id,
        lead=DepartmentRef.model_validate(row.lead),
        contributors=[DepartmentRef.model_validate(d) for d in row.contributors],
        version=t.version,
    )


def _detail(view: topics.TopicView) -> TopicDetail:
    return TopicDetail(
        **_read(view).model_dump(), resources=[TopicResourceRef.model_validate(r) for r in view.resources]
    )


@router.get("", response_model=list[TopicRead], summary="主题列表")
def list_topics(session: SessionDep, actor: Reader) -> list[TopicRead]:
    return [_read(row) for row in topics.list_topics(session, actor)]


@router.post("", response_model=TopicDetail, status_code=201, summary="创建主题(市大数据局)")
def create_topic(body: TopicIn, session: SessionDep, actor: Manager) -> TopicDetail:
    return _detail(topics.create_topic(session, actor, **body.model_dump()))


@router.get("/{topic_id}", response_model=TopicDetail, summary="主题详情:牵头部门、共建部门与其信息资源")
def get_topic(topic_id: int, session: SessionDep, actor: Reader) -> TopicDetail:
    return _detail(topics.get_topic(session, actor, topic_id))


@router.put("/{topic_id}", response_model=TopicDetail, summary="修改主题及牵头、共建部门(市大数据局)")
def update_topic(topic_id: int, body: TopicUpdate, session: SessionDep, actor: Manager) -> TopicDetail:
    return _detail(topics.update_topic(session, actor, topic_id, **body.model_dump()))


@router.put("/{topic_id}/description", response_model=TopicDetail, summary="维护主题目录说明(牵头部门)")
def update_description(topic_id: int, body: TopicDescriptionIn, session: SessionDep, actor: Compiler) -> TopicDetail:
    view = topics.update_topic_description(
        session, actor, topic_id, description=body.description, expected_version=body.expected_version
    )
    return _detail(view)
