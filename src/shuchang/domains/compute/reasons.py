"""Why a query is refused: one stable code per reason, in English and zh-CN (拒绝原因)."""

from __future__ import annotations

from shuchang.domains.compute.errors import QueryRejected

REASONS: dict[str, tuple[str, str]] = {
    "too_long": ("the query is longer than {n} characters", "查询超过 {n} 个字符"),
    "too_complex": ("the query has more than {n} syntax nodes", "查询语法节点超过 {n} 个"),
    "parse_error": ("the query is not valid SQL: {detail}", "查询不是合法的 SQL：{detail}"),
    "multiple_statements": ("only one statement is allowed", "只允许一条语句"),
    "not_select": ("only a SELECT is allowed, not {detail}", "只允许 SELECT，不允许 {detail}"),
    "subquery": ("subqueries are not allowed", "不允许子查询"),
    "cte": ("WITH (common table expressions) is not allowed", "不允许 WITH 公共表表达式"),
    "set_operation": (
        "UNION / INTERSECT / EXCEPT are not allowed",
        "不允许 UNION/INTERSECT/EXCEPT",
    ),
    "join": ("joins are not allowed: query the one approved table", "不允许连接，只能查询批准的表"),
    "window": ("window functions and QUALIFY are not allowed", "不允许窗口函数和 QUALIFY"),
    "table_function": (
        "table functions (file readers, generators) are not allowed",
        "不允许表函数（读文件、生成器等）",
    ),
    "function": ("function {detail} is not allowed", "不允许使用函数 {detail}"),
    "min_max": (
        "MIN / MAX reveal single values and are not allowed",
        "MIN/MAX 会暴露单个值，不允许",
    ),
    "percentile": (
        "percentiles and medians reveal single values and are not allowed",
        "分位数和中位数会暴露单个值，不允许",
    ),
    "case": ("CASE / IF expressions are not allowed", "不允许 CASE/IF 表达式"),
    "arithmetic": (
        "arithmetic is not allowed (aggregate bare measure columns)",
        "不允许算术运算（只能对度量列直接聚合）",
    ),
    "cast": ("casts are not allowed", "不允许类型转换"),
    "distinct": ("DISTINCT is not allowed", "不允许 DISTINCT"),
    "having": (
        "HAVING is not allowed (small cells are suppressed by k)",
        "不允许 HAVING（小单元格按 k 自动抑制）",
    ),
    "order_by": (
        "ORDER BY is not allowed (cells come in domain order)",
        "不允许 ORDER BY（结果按值域顺序返回）",
    ),
    "limit": ("LIMIT / OFFSET are not allowed", "不允许 LIMIT/OFFSET"),
    "sample": ("TABLESAMPLE / USING SAMPLE are not allowed", "不允许抽样子句"),
    "star": ("SELECT * is not allowed; only COUNT(*)", "不允许 SELECT *，只允许 COUNT(*)"),
    "null_test": (
        "IS NULL tests and NULL literals are not allowed",
        "不允许 IS NULL 判断和 NULL 字面量",
    ),
    "pattern": ("LIKE / regular expressions are not allowed", "不允许 LIKE 和正则匹配"),
    "filter": (
        "aggregate FILTER clauses are not allowed; use WHERE",
        "不允许聚合 FILTER 子句，请用 WHERE",
    ),
    "unbound_parameter": ("parameters are only allowed in templates", "参数只能用于模板"),
    "parameter": ("template parameter {detail}", "模板参数 {detail}"),
    "template": ("no template named {detail}", "没有名为 {detail} 的模板"),
    "adhoc_disabled": (
        "this product only answers its approved templates",
        "该产品只接受已批准的查询模板",
    ),
    "unknown_table": ("query the approved table {detail}", "只能查询批准的表 {detail}"),
    "table_qualifier": (
        "schema or database qualifiers are not allowed",
        "不允许使用库名或模式名限定表",
    ),
    "unknown_column": ("unknown column {detail}", "未知的列 {detail}"),
    "identifier_column": (
        "the person identifier column {detail} cannot be selected, grouped, filtered or aggregated",
        "个人/主体标识列 {detail} 不能被选择、分组、筛选或聚合",
    ),
    "not_a_dimension": (
        "{detail} is not a declared dimension (only dimensions are grouped and filtered)",
        "{detail} 不是已声明的维度（只能按维度分组和筛选）",
    ),
    "not_a_measure": ("{detail} is not a declared measure", "{detail} 不是已声明的度量"),
    "count_argument": (
        "use COUNT(*); COUNT of a column is not allowed",
        "请使用 COUNT(*)，不允许 COUNT(列)",
    ),
    "value_outside_domain": (
        "{detail} is not in the dimension's public value domain",
        "{detail} 不在该维度的公开值域内",
    ),
    "literal_type": ("{detail} has the wrong type for its dimension", "{detail} 与维度类型不符"),
    "operator": ("{detail}", "{detail}"),
    "column_comparison": ("compare a dimension with a constant", "只能将维度与常量比较"),
    "not_grouped": (
        "{detail} is selected but not in GROUP BY",
        "{detail} 被选择但不在 GROUP BY 中",
    ),
    "no_aggregate": (
        "select at least one COUNT(*), SUM or AVG",
        "须至少选择一个 COUNT(*)、SUM 或 AVG",
    ),
    "alias": ("alias {detail} is not allowed", "别名 {detail} 不允许"),
    "group_by": (
        "GROUP BY lists declared dimension columns only: {detail}",
        "GROUP BY 只能列出已声明的维度列：{detail}",
    ),
    "too_many_cells": (
        "the grouping has {detail} cells; at most {n} are allowed",
        "分组共有 {detail} 个单元格，最多允许 {n} 个",
    ),
    "too_deep": ("the WHERE clause nests deeper than {n}", "WHERE 条件嵌套超过 {n} 层"),
    "in_list": ("an IN list may hold at most {n} values", "IN 列表最多 {n} 个值"),
    "unsupported": ("{detail} is not allowed", "不允许 {detail}"),
}


def reject(
    reason: str, detail: str = "", *, n: int | None = None, fragment: str | None = None
) -> QueryRejected:
    en, zh = REASONS[reason]
    values = {"detail": detail, "n": "" if n is None else n}
    return QueryRejected(
        reason, en.format(**values).strip(), zh.format(**values).strip(), fragment=fragment
    )
