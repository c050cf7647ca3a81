"""Digital contracts (数字合约): DSP negotiation, signed agreements, usage decisions.

Other domains import only these names.
"""

from shuchang.domains.contracts.agreements import verify_document
from shuchang.domains.contracts.schemas import AgreementOut, NegotiationOut

__all__ = ["AgreementOut", "NegotiationOut", "verify_document"]
