"""Supervision (监管): read-only indicators for the regulator and the operator, CSV export,
recorded evidence-log audits and Prometheus metrics.

Other domains import only these names.
"""

from shuchang.domains.supervision.schemas import Dashboard, Table
from shuchang.domains.supervision.value import monthly_value, settlement_status

__all__ = ["Dashboard", "Table", "monthly_value", "settlement_status"]
