"""Settlement (交易与清结算): orders from agreements, pricing, the double-entry ledger,
revenue sharing, monthly clearing into batches, payouts through a payment rail,
reconciliation, and signed transaction records for the regulator and the parties.

Other domains import only these names. Supervision reads :func:`monthly_value` (transaction
value per settled month) and :func:`batch_statuses` (each month's batch and reconciliation).
"""

from shuchang.domains.settlement.schemas import BatchStatus, MonthValue
from shuchang.domains.settlement.views import batch_statuses, monthly_value

__all__ = ["BatchStatus", "MonthValue", "batch_statuses", "monthly_value"]
