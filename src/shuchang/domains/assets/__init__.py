"""Data-asset registration (数据资产登记): applications, review, signed certificates as PDF
verifiable offline, valuations and pledges.

Other domains import only these names.
"""

from shuchang.domains.assets.schemas import AssetDetail, CertificateOut, RegistrationOut
from shuchang.domains.assets.verify import Verified, verify_pdf
from shuchang.domains.assets.views import counts as asset_counts

__all__ = [
    "AssetDetail",
    "CertificateOut",
    "RegistrationOut",
    "Verified",
    "asset_counts",
    "verify_pdf",
]
