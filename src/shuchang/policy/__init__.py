"""Usage policies (使用策略): the ODRL 2.2 subset data spaces use (catalog, contracts).

``odrl`` checks a policy's shape; ``engine`` compiles it and decides requests against it
(the policy decision point of usage control, 使用控制).
"""

from shuchang.policy.engine import (
    ACTION_PARENT,
    CompiledPolicy,
    ConstraintTrace,
    Context,
    Decision,
    Duty,
    PolicyInvalid,
    PrivacyBudget,
    Recipient,
    RuleTrace,
    Term,
    action_includes,
    compile_policy,
    compiled,
    decide,
    lineage,
)
from shuchang.policy.odrl import ACTIONS, LEFT_OPERANDS, PolicyFault, validate

__all__ = [
    "ACTIONS",
    "ACTION_PARENT",
    "LEFT_OPERANDS",
    "CompiledPolicy",
    "ConstraintTrace",
    "Context",
    "Decision",
    "Duty",
    "PolicyFault",
    "PolicyInvalid",
    "PrivacyBudget",
    "Recipient",
    "RuleTrace",
    "Term",
    "action_includes",
    "compile_policy",
    "compiled",
    "decide",
    "lineage",
    "validate",
]
