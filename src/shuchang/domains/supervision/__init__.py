"""Supervision (监管): read-only indicators for the regulator and the operator.

Other domains import only these names.
"""

from shuchang.domains.supervision.models import AuditRun

__all__ = ["AuditRun"]
