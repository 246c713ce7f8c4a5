"""Imports every domain's tables so that metadata (Alembic, tests) sees all of them."""

from govshare.audit import models as audit_models
from govshare.calendar import models as calendar_models
from govshare.catalog import models as catalog_models
from govshare.exchange import file_models as exchange_file_models
from govshare.exchange import gateway_models as exchange_gateway_models
from govshare.exchange import models as exchange_models
from govshare.identity import models as identity_models
from govshare.sharing import models as sharing_models

__all__ = [
    "audit_models",
    "calendar_models",
    "catalog_models",
    "exchange_file_models",
    "exchange_gateway_models",
    "exchange_models",
    "identity_models",
    "sharing_models",
]
