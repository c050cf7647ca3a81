"""Usage policies (使用策略): the ODRL 2.2 subset data spaces use (catalog, contracts)."""

from shuchang.policy.odrl import ACTIONS, LEFT_OPERANDS, PolicyFault, validate

__all__ = ["ACTIONS", "LEFT_OPERANDS", "PolicyFault", "validate"]
