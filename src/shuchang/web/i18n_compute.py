"""The compute pages' messages (隐私计算), zh-CN first, English second; merged into
:data:`shuchang.web.i18n.MESSAGES`."""

from __future__ import annotations

from typing import Final

COMPUTE_PAIRS: Final[dict[str, tuple[str, str]]] = {
    "nav.compute": ("隐私计算", "Computation"),
    "compute.title": ("隐私计算（可用不可见）", "Privacy-preserving computation"),
    "compute.lead": (
        "仅计算产品的数据不出提供方连接器：使用方提交经批准的聚合查询，结果加入差分隐私噪声、"
        "小单元格被抑制，每次发布都从合约约定的隐私预算（ε）中扣减。",
        "Data of compute-only products never leaves the provider's connector: consumers submit "
        "approved aggregate queries; answers carry differential-privacy noise, small cells are "
        "suppressed, and every release is debited from the agreement's privacy budget (ε).",
    ),
    "compute.agreements": ("我的计算合约", "My compute agreements"),
    "compute.no_agreements": ("暂无仅计算产品的合约", "No agreement on a compute-only product"),
    "compute.products": ("我的仅计算产品", "My compute-only products"),
    "compute.product": ("产品", "Product"),
    "compute.no_products": ("暂无仅计算产品", "No compute-only product"),
    "compute.profile": ("计算配置", "Compute profile"),
    "compute.no_profile": ("未设置", "Not set"),
    "compute.revision": ("第 {n} 版", "revision {n}"),
    "compute.jobs": ("计算任务", "Compute jobs"),
    "compute.job_log": ("任务日志", "Job log"),
    "compute.no_jobs": ("暂无计算任务", "No compute job yet"),
    "compute.query": ("提交查询", "Query"),
    "compute.open_query": ("查询", "Query"),
    "compute.budget": ("隐私预算", "Privacy budget"),
    "compute.period": ("本期", "This period"),
    "compute.lifetime": ("产品总预算", "Product lifetime"),
    "compute.remaining": ("剩余", "Remaining"),
    "compute.spent": ("已用", "Spent"),
    "compute.per_query": ("单次默认 / 上限", "Per query default / max"),
    "compute.template": ("查询模板", "Template"),
    "compute.no_template": ("（不用模板，使用下方 SQL）", "(none: use the SQL below)"),
    "compute.sql": ("SQL 查询", "SQL query"),
    "compute.sql_hint": (
        "只允许一条 SELECT：对批准的表按已声明维度分组、筛选，使用 COUNT(*)、SUM、AVG。",
        "One SELECT only: group and filter the approved table by declared dimensions, with "
        "COUNT(*), SUM and AVG.",
    ),
    "compute.params": ("模板参数", "Template parameters"),
    "compute.epsilon": ("本次 ε", "ε for this query"),
    "compute.run": ("运行", "Run"),
    "compute.schema": ("可查询的内容", "What can be queried"),
    "compute.table": ("表", "Table"),
    "compute.dimensions": ("维度（公开值域）", "Dimensions (public domains)"),
    "compute.measures": ("度量（截断范围）", "Measures (clamping bounds)"),
    "compute.templates": ("批准的模板", "Approved templates"),
    "compute.k": ("最少主体数 k", "Minimum persons per cell k"),
    "compute.bound": ("每主体最多行数", "Rows per person at most"),
    "compute.answer": ("结果", "Answer"),
    "compute.suppressed": ("已抑制（主体数低于 k）", "Suppressed (fewer than k persons)"),
    "compute.statistics": ("噪声与隐私损失", "Noise and privacy loss"),
    "compute.statistic": ("统计量", "Statistic"),
    "compute.mechanism": ("机制", "Mechanism"),
    "compute.scale": ("噪声尺度", "Noise scale"),
    "compute.sensitivity": ("敏感度", "Sensitivity"),
    "compute.delta": ("δ", "δ"),
    "compute.normalised": ("规范化查询", "Normalised query"),
    "compute.state": ("状态", "State"),
    "compute.cancel": ("取消任务", "Cancel the job"),
    "compute.evidence": ("存证摘要", "Evidence digests"),
    "compute.input_digest": ("输入物化库 SHA-256", "Input materialisation SHA-256"),
    "compute.result_digest": ("结果 SHA-256", "Result SHA-256"),
    "compute.cached": (
        "与此前相同的查询，直接返回已发布结果，未扣减预算",
        "Same query as before: the released answer again, no ε spent",
    ),
    "compute.charged": ("扣减 ε", "ε charged"),
    "compute.error": ("未发布结果的原因", "Why nothing was released"),
    "compute.running_hint": ("任务仍在运行，请稍后刷新", "Still running; reload in a moment"),
    "compute.profile_hint": (
        "以 JSON 编辑：人员（主体）标识列、维度及其公开值域、度量及截断范围、查询模板、k、每主体"
        "贡献上限、机制与 ε 上限。字段角色须与资源登记一致。",
        "Edit as JSON: the person (privacy unit) column, dimensions with public domains, "
        "measures with clamping bounds, templates, k, the contribution bound, mechanism and ε "
        "caps. Field roles must match the resource's registration.",
    ),
    "compute.save_profile": ("保存计算配置", "Save the profile"),
    "compute.profile_saved": ("计算配置已保存", "Compute profile saved"),
    "compute.consumer": ("使用方", "Consumer"),
    "compute.created_at": ("提交时间", "Submitted"),
    "offer.epsilon": (
        "隐私预算：每期 ε 不超过 {value}",
        "Privacy budget: at most ε {value} per period",
    ),
    "offer.epsilon_period": ("预算周期：{value}", "Budget period: {value}"),
    "offer.period_P1D": ("每日", "daily"),
    "offer.period_P1W": ("每周", "weekly"),
    "offer.period_P1M": ("每月", "monthly"),
    "offer.period_P3M": ("每季度", "quarterly"),
    "offer.period_P1Y": ("每年", "yearly"),
    "cstate.queued": ("排队中", "Queued"),
    "cstate.running": ("运行中", "Running"),
    "cstate.succeeded": ("已发布", "Released"),
    "cstate.failed": ("失败", "Failed"),
    "cstate.cancelled": ("已取消", "Cancelled"),
    "evidence.compute.profile_set": ("设置计算配置", "Compute profile set"),
    "evidence.compute.job_submitted": ("提交计算任务", "Compute job submitted"),
    "evidence.compute.job_released": ("发布计算结果", "Compute result released"),
    "evidence.compute.job_answered_from_cache": ("重复查询返回已发布结果", "Answered from cache"),
    "evidence.compute.job_failed": ("计算任务失败", "Compute job failed"),
    "evidence.compute.job_cancelled": ("取消计算任务", "Compute job cancelled"),
}
