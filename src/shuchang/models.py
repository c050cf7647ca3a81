"""Every domain's tables, imported once so that metadata (and Alembic) sees them all."""

from shuchang.db import Base
from shuchang.domains.assets import models as asset_models
from shuchang.domains.catalog import models as catalog_models
from shuchang.domains.compliance import models as compliance_models
from shuchang.domains.compute import element_models, psi_models
from shuchang.domains.compute import models as compute_models
from shuchang.domains.contracts import models as contract_models
from shuchang.domains.dataplane import delivery_models
from shuchang.domains.dataplane import models as dataplane_models
from shuchang.domains.evidence import models as evidence_models
from shuchang.domains.participants import models as participant_models
from shuchang.domains.settlement import models as settlement_models
from shuchang.domains.supervision import models as supervision_models
from shuchang.domains.transfers import models as transfer_models

metadata = Base.metadata

__all__ = [
    "asset_models",
    "catalog_models",
    "compliance_models",
    "compute_models",
    "contract_models",
    "dataplane_models",
    "delivery_models",
    "element_models",
    "evidence_models",
    "metadata",
    "participant_models",
    "psi_models",
    "settlement_models",
    "supervision_models",
    "transfer_models",
]
