"""Privacy-preserving computation (隐私计算 / 可用不可见): compute-to-data with differential
privacy under an agreement's privacy budget.

Other domains import only these names. The sandbox (:class:`Sandbox`, :class:`Task`,
:class:`Restriction`) is the reusable piece for transformation runs and "PSI then aggregate".
"""

from shuchang.domains.compute.sandbox import (
    Outcome,
    Restriction,
    Sandbox,
    SandboxError,
    Task,
    shared_sandbox,
)

__all__ = ["Outcome", "Restriction", "Sandbox", "SandboxError", "Task", "shared_sandbox"]
