"""The demo's consumer system: 市民政局's 城乡低保审核系统, with fixed demo credentials.

The app key and secret are fixed (like the demo's TOTP secrets) so that they can be printed at
every demo start, from the data alone, and stay valid after the demo database is rebuilt. The
system is bound to every active grant 市民政局 holds (``sharing_seed`` makes them); if there is
none, it gets one grant of its own on the 人口基本信息 resource.

Among those grants is one on 人口基本信息(库表) (``population_table``): the 库表 edition that the
exchange seed mounts on the demo's SQLite provider database and syncs into the base, so the printed
first call reads real rows — 公民身份号码 and 姓名 masked, 性别, 出生日期 and 人员状态 as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from govshare.catalog.enums import ResourceStatus, ShareType
from govshare.catalog.models import DataItem, Resource
from govshare.identity.actor import Actor
from govshare.kit import clock
from govshare.sharing import grants, systems
from govshare.sharing.enums import GrantStatus
from govshare.sharing.models import ConsumerSystem, Grant, GrantSystem

DEMO_SYSTEM_NAME = "城乡低保审核系统"
DEMO_APP_KEY = "gsk_demo_civil_dibao_0001"
DEMO_SECRET = "gss_demo-civil-dibao-secret-for-the-demo-only"
_FALLBACK_ITEMS = ("公民身份号码", "姓名", "出生日期")


def seed_consumer(
    session: Session, *, department_id: int, admin: Actor, resource: Resource | None = None
) -> ConsumerSystem:
    """Register the demo system and bind it to the department's active grants (one is made if none)."""
    system, _ = systems.register_system(
        session, admin, name=DEMO_SYSTEM_NAME, description="低保申请家庭成员身份、户籍核对", rate_limit_per_minute=600
    )
    system.app_key = DEMO_APP_KEY
    systems.store_secret(system, DEMO_SECRET)
    active = list(
        session.scalars(
            select(Grant)
            .options(selectinload(Grant.systems))
            .where(Grant.consumer_department_id == department_id, Grant.status == GrantStatus.active)
        )
    )
    for grant in active:
        grant.systems.append(GrantSystem(consumer_system_id=system.id))
    fallback = (
        not active
        and resource is not None
        and resource.status == ResourceStatus.published
        and resource.share_type == ShareType.conditional
    )
    if fallback and resource is not None:
        items = [
            i.id
            for i in session.scalars(select(DataItem).where(DataItem.resource_id == resource.id))
            if i.name in _FALLBACK_ITEMS and i.shareable
        ]
        if items:
            grants.issue_grant(
                session,
                Actor.system(),
                resource_id=resource.id,
                consumer_department_id=department_id,
                data_item_ids=items,
                purpose="城乡最低生活保障申请家庭成员身份核对",
                valid_from=clock.today(),
                valid_until=clock.today() + dt.timedelta(days=365),
                system_ids=[system.id],
            )
    session.flush()
    return system


TABLE_RESOURCE_NAME = "人口基本信息(库表)"  # data.py's ``population_table``


def table_grant_example(session: Session) -> tuple[str, int] | None:
    """(resource code, grant id) of the demo system's active grant on the 库表 population resource,
    for the printed first call; None when the demo has no such grant."""
    found = session.execute(
        select(Resource.code, Grant.id)
        .join(Grant, Grant.resource_id == Resource.id)
        .join(GrantSystem, GrantSystem.grant_id == Grant.id)
        .join(ConsumerSystem, ConsumerSystem.id == GrantSystem.consumer_system_id)
        .where(
            Resource.name == TABLE_RESOURCE_NAME,
            Grant.status == GrantStatus.active,
            ConsumerSystem.app_key == DEMO_APP_KEY,
        )
        .order_by(Grant.id)
    ).first()
    return (str(found[0]), int(found[1])) if found is not None else None


def print_credentials(echo: Callable[[str], None], base_url: str, example: tuple[str, int] | None = None) -> None:
    """The demo system's credentials and a first call, for the start banner; ``example`` is
    ``table_grant_example``'s (resource code, grant id), whose rows are in the base."""
    echo(f"\n应用系统(市民政局 · {DEMO_SYSTEM_NAME})调用共享数据接口的演示凭据:")
    echo(f"  App Key:{DEMO_APP_KEY}")
    echo(f"  Secret: {DEMO_SECRET}")
    echo("  用法(签名规则见 README“共享数据接口”):")
    echo("    from govshare.sharing.client import ConsumerClient")
    echo(f'    c = ConsumerClient("{base_url}", "{DEMO_APP_KEY}", "{DEMO_SECRET}")')
    if example is not None:
        code, grant_id = example
        echo(f'    c.rows("{code}", grant_id={grant_id}, limit=10)   # {TABLE_RESOURCE_NAME},身份证号与姓名已脱敏')
    else:
        echo('    c.rows("<信息资源代码>", grant_id=<授权编号>, limit=10)')
    echo("  该系统已绑定市民政局的有效授权;资源代码与授权编号见“授权”页面(以 civil_admin 登录),")
    echo("  应用系统的登记、换密钥与停用见“应用系统”页面。")
