"""What every command needs: the settings' database, and an actor for work done from the console."""

from __future__ import annotations

import getpass

from govshare.config import get_settings
from govshare.db import Database
from govshare.identity.actor import Actor, RequestContext


def open_database() -> Database:
    return Database(get_settings().effective_database_url)


def console_actor() -> Actor:
    """Console work is recorded as the platform acting for the operating-system user."""
    return Actor.system(RequestContext(source_ip="console"), name=f"console:{getpass.getuser()}")
