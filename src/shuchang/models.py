"""Every domain's tables, imported once so that metadata (and Alembic) sees them all."""

from shuchang.db import Base
from shuchang.domains.catalog import models as catalog_models
from shuchang.domains.compute import element_models, psi_models
from shuchang.domains.contracts import models as contract_models
from shuchang.domains.dataplane import models as dataplane_models
from shuchang.domains.evidence import models as evidence_models
from shuchang.domains.participants import models as participant_models
from shuchang.domains.transfers import models as transfer_models

metadata = Base.metadata

__all__ = [
    "catalog_models",
    "contract_models",
    "dataplane_models",
    "element_models",
    "evidence_models",
    "metadata",
    "participant_models",
    "psi_models",
    "transfer_models",
]
