"""Privacy-preserving computation (隐私计算 / 可用不可见): data elements and private set
intersection.

Other domains import only these names.
"""

from shuchang.domains.compute.psi_filters import restriction

__all__ = ["restriction"]
