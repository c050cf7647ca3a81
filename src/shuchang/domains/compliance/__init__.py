"""Compliance review (合规审核): a versioned self-assessment questionnaire checked against the
product's classification, an assessor workflow for service firms, signed compliance
certificates, and the listing gate.

Other domains import only these names.
"""

from shuchang.domains.compliance.schemas import ProductCompliance
from shuchang.domains.compliance.service import require_passed
from shuchang.domains.compliance.views import counts as review_counts
from shuchang.domains.compliance.views import product_status

__all__ = ["ProductCompliance", "product_status", "require_passed", "review_counts"]
