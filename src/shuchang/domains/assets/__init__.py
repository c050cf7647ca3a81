"""Data-asset registration (数据资产登记): applications, review, signed certificates as PDF
verifiable offline, valuations and pledges.

Other domains import only these names.
"""

from shuchang.domains.assets.schemas import AssetDetail, CertificateOut, RegistrationOut
from shuchang.domains.assets.verify import Verified, verify_pdf

__all__ = ["AssetDetail", "CertificateOut", "RegistrationOut", "Verified", "verify_pdf"]
