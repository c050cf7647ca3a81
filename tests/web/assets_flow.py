"""A registered asset for the console tests, made through the services (not the pages)."""

from __future__ import annotations

from datetime import timedelta

import factories
from market_factories import actor_of, provider_product
from shuchang.domains.assets import service
from shuchang.domains.assets.schemas import AssetApplication, AssetDecision
from shuchang.platform import Platform


def registered_asset(platform: Platform) -> tuple[str, str, str]:
    """``(registration id, the holder's API key, the issue date in Asia/Shanghai)``."""
    operator = factories.operator(platform)
    listed = provider_product(platform)
    application = AssetApplication(
        product_id=listed.product_id,
        rights=["holding"],
        description="企业登记数据集登记为数据资产。",
    )
    with platform.unit() as s:
        applied = service.apply(s, listed.actor, application, platform.settings)
        done = service.review(
            s,
            actor_of(operator, "operator"),
            applied.id,
            AssetDecision(decision="approve"),
            platform.settings,
        )
    assert done.certificate is not None and listed.provider.api_key
    today = (done.certificate.valid_from + timedelta(hours=8)).date().isoformat()
    return str(done.id), listed.provider.api_key, today
