"""Privacy-preserving computation (隐私计算 / 可用不可见): compute-to-data with differential
privacy under an agreement's privacy budget, data elements (数据元件) and private set
intersection (隐私求交).

Other domains import only these names. Reusable pieces for transformation runs and "PSI then
aggregate": the sandbox (:class:`Sandbox`, :class:`Task` with ``restrict_to`` a
:class:`Restriction`, :class:`Outcome`, :class:`SandboxError`, :func:`shared_sandbox`), a
product's profile (:func:`load_profile` → :class:`Loaded`), the validator
(:func:`validate_query` → :class:`Plan`), :func:`compute_release` (sandbox + DP, nothing
debited: the caller settles the budget, as :mod:`.execution` does for jobs) and
:func:`restriction` (a PSI session's intersection kept at the provider, as a filter).
"""

from shuchang.domains.compute.billing import JobUsage, period_jobs
from shuchang.domains.compute.execution import compute_release
from shuchang.domains.compute.materialise import Materialised, materialise
from shuchang.domains.compute.plan import Catalogue, Plan
from shuchang.domains.compute.profiles import Loaded
from shuchang.domains.compute.profiles import load as load_profile
from shuchang.domains.compute.psi_filters import restriction
from shuchang.domains.compute.sandbox import (
    Outcome,
    Restriction,
    Sandbox,
    SandboxError,
    Task,
    shared_sandbox,
)
from shuchang.domains.compute.schemas import ResultOut
from shuchang.domains.compute.sqlcheck import validate as validate_query

__all__ = [
    "Catalogue",
    "JobUsage",
    "Loaded",
    "Materialised",
    "Outcome",
    "Plan",
    "Restriction",
    "ResultOut",
    "Sandbox",
    "SandboxError",
    "Task",
    "compute_release",
    "load_profile",
    "materialise",
    "period_jobs",
    "restriction",
    "shared_sandbox",
    "validate_query",
]
