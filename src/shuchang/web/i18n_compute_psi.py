"""Messages of the data-element and PSI pages (数据元件 / 隐私求交), zh-CN first, English
second; merged into :data:`shuchang.web.i18n.MESSAGES`."""

from __future__ import annotations

from typing import Final

COMPUTE_PSI_PAIRS: Final[dict[str, tuple[str, str]]] = {
    "nav.elements": ("数据元件", "Data elements"),
    "nav.psi": ("隐私求交", "Private set intersection"),
    "element.list_title": ("数据元件", "Data elements"),
    "element.lead": (
        "用本单位登记的数据资源加工数据元件：一条 SELECT 语句加去标识化步骤（泛化、掩码、加盐哈"
        "希、删除、抑制），"
        "在锁定的 DuckDB 中运行，检查准标识符上的 k-匿名，输出 Parquet 文件登记为新的资源版本，"
        "可作为数据元件产品上架。",
        "Make a data element from your own registered resources: one SELECT plus de-identification "
        "steps (generalisation, masking, keyed hashing, dropping, suppression), run in a locked"
        "-down "
        "DuckDB, checked for k-anonymity over the quasi-identifiers; the output Parquet becomes"
        " a new "
        "resource version that can be listed as a data-element product.",
    ),
    "element.none": ("暂无数据元件", "No data element yet"),
    "element.new": ("定义数据元件", "Define a data element"),
    "element.name": ("标识名（小写字母、数字、-）", "Name (lower case, digits, -)"),
    "element.title": ("名称", "Title"),
    "element.source": ("来源资源", "Source resource"),
    "element.alias": ("表名（SQL 中使用）", "Table name in the SQL"),
    "element.sql": ("加工 SQL（一条 SELECT）", "Transformation SQL (one SELECT)"),
    "element.steps": ("去标识化步骤（JSON 数组）", "De-identification steps (JSON array)"),
    "element.steps_hint": (
        '例：[{"op":"hash","column":"uscc"},{"op":"generalize_date","column":"month","to":"month"},'
        '{"op":"band","column":"kwh","width":500}]；op 可为 generalize_date、band、prefix、mask'
        "、hash、drop、suppress",
        'e.g. [{"op":"hash","column":"uscc"},{"op":"generalize_date","column":"month","to":"mon'
        'th"},'
        '{"op":"band","column":"kwh","width":500}]; op is generalize_date, band, prefix, mask, '
        "hash, drop or suppress",
    ),
    "element.qi": ("准标识符（逗号分隔）", "Quasi-identifiers (comma-separated)"),
    "element.k": ("k 值", "k"),
    "element.on_violation": ("不满足 k-匿名时", "When k-anonymity fails"),
    "element.violation.fail": ("运行失败，不写入任何结果", "Fail the run, write nothing"),
    "element.violation.suppress": ("删除违反的行", "Suppress the violating rows"),
    "element.define": ("校验并保存", "Check and save"),
    "element.defined_ok": (
        "数据元件已保存（已按真实数据结构试运行校验）",
        "Saved (checked by a dry run on the real schemas)",
    ),
    "element.revision": ("版本", "Revision"),
    "element.run": ("立即运行", "Run now"),
    "element.ran_ok": (
        "运行成功，输出已登记为资源新版本",
        "Run succeeded; the output is a new resource version",
    ),
    "element.runs": ("运行记录", "Runs"),
    "element.no_runs": ("尚未运行", "Not run yet"),
    "element.status": ("结果", "Outcome"),
    "element.rows": ("输入 / 输出 / 抑制行数", "Rows in / out / suppressed"),
    "element.k_report": ("k-匿名检查", "k-anonymity check"),
    "element.smallest": ("最小等价类", "Smallest class"),
    "element.violating": ("违反的等价类 / 行", "Violating classes / rows"),
    "element.sample": ("违反的等价类示例", "Violating classes (sample)"),
    "element.digests": ("输出摘要", "Output digests"),
    "element.inputs": ("输入", "Inputs"),
    "element.output": ("输出文件", "Output file"),
    "element.list_run": ("作为数据元件产品上架", "List as a data-element product"),
    "element.listed_ok": (
        "已创建数据元件产品并提交审核",
        "Product created and submitted for review",
    ),
    "element.product_title": ("产品名称", "Product title"),
    "element.product_description": (
        "产品描述（至少 20 字）",
        "Product description (20+ characters)",
    ),
    "element.price_fen": ("按次价格（分，0 为免费）", "Price per call (fen, 0 = free)"),
    "element.purpose": ("用途（可选）", "Purpose (optional)"),
    "element.product": ("产品", "Product"),
    "element.status.succeeded": ("成功", "Succeeded"),
    "element.status.failed": ("失败", "Failed"),
    "psi.list_title": ("隐私求交", "Private set intersection"),
    "psi.lead": (
        "与提供方在各自连接器上对标识列求交：只得到交集大小、（一方）交集本身，或把交集留在提供"
        "方用于后续差分隐私统计；"
        "其余数据对双方都不可见。每次会话都须有生效的“可用不可见”计算合约，并受最小集合规模与次"
        "数限制。",
        "Intersect identifier columns with a provider over both connectors: learn only the size"
        ", the "
        "intersection itself (one side), or leave it at the provider for a later DP aggregate; "
        "nothing "
        "else is revealed. Every session needs a compute-only agreement in force and is bounded"
        " by a "
        "minimum set size and a number of sessions.",
    ),
    "psi.none": ("暂无求交会话", "No PSI session yet"),
    "psi.start": ("发起求交", "Start a session"),
    "psi.agreement": ("合约", "Agreement"),
    "psi.mode": ("模式", "Mode"),
    "psi.mode.cardinality": ("仅交集大小（双方可知）", "Size only (both learn it)"),
    "psi.mode.intersection": ("交集明细（仅本方可知）", "Members (this side only)"),
    "psi.mode.filter": (
        "交集留在提供方（求交后统计）",
        "Kept at the provider (PSI then aggregate)",
    ),
    "psi.normalization": ("标识规范化", "Identifier normalisation"),
    "psi.file": ("标识 CSV 文件", "CSV file of identifiers"),
    "psi.column": ("列名（留空则取第一列）", "Column (blank: the first column)"),
    "psi.started_ok": (
        "已发起求交，结果稍后在本页显示",
        "Started; the result appears on this page",
    ),
    "psi.no_file": ("请选择 CSV 文件", "Choose a CSV file"),
    "psi.title": ("求交会话", "PSI session"),
    "psi.state": ("状态", "State"),
    "psi.role": ("本方角色", "This side"),
    "psi.sizes": ("本方 / 对方集合规模", "Set sizes (ours / theirs)"),
    "psi.result": ("交集大小", "Intersection size"),
    "psi.rejected": ("不合规而剔除的标识", "Identifiers rejected by normalisation"),
    "psi.digests": ("摘要（本方集合 / 交集）", "Digests (our set / intersection)"),
    "psi.bytes": ("发送 / 接收字节", "Bytes sent / received"),
    "psi.deadline": ("截止时间", "Deadline"),
    "psi.filter": ("过滤集名称", "Filter name"),
    "psi.members": ("交集明细", "Members"),
    "psi.members_more": (
        "共 {n} 个，完整列表请通过 API 获取",
        "{n} in all; get the full list from the API",
    ),
    "psi.messages": ("报文", "Messages"),
    "psi.error": ("终止原因", "Why it ended"),
    "psi.refresh": ("刷新", "Refresh"),
    "psistate.PREPARING": ("准备中", "Preparing"),
    "psistate.REQUESTED": ("已请求", "Requested"),
    "psistate.EXCHANGING": ("交换中", "Exchanging"),
    "psistate.RESPONDED": ("已应答", "Responded"),
    "psistate.COMPLETED": ("已完成", "Completed"),
    "psistate.TERMINATED": ("已终止", "Terminated"),
    "psistate.EXPIRED": ("已超时", "Expired"),
}
