"""Digital contracts (数字合约): DSP negotiation, signed agreements, usage decisions.

Other domains import only these names. The connector (who signs, where it is reached), signed
request authentication and the transport are shared with the transfers domain.
"""

from shuchang.domains.contracts.agreements import verify_document
from shuchang.domains.contracts.httpsig import SignatureError
from shuchang.domains.contracts.indicators import AgreementFacts, agreement_facts
from shuchang.domains.contracts.negotiation import Connector, Sender
from shuchang.domains.contracts.peers import authenticate
from shuchang.domains.contracts.schemas import AgreementOut, NegotiationOut, UseDecision, UseRequest
from shuchang.domains.contracts.service import load_connector
from shuchang.domains.contracts.transport import DeliveryFailed, Transport
from shuchang.domains.contracts.usage import decide_use, decide_uses
from shuchang.domains.contracts.views import active_agreement_ids, find_agreement

__all__ = [
    "AgreementFacts",
    "AgreementOut",
    "Connector",
    "DeliveryFailed",
    "NegotiationOut",
    "Sender",
    "SignatureError",
    "Transport",
    "UseDecision",
    "UseRequest",
    "active_agreement_ids",
    "agreement_facts",
    "authenticate",
    "decide_use",
    "decide_uses",
    "find_agreement",
    "load_connector",
    "verify_document",
]
