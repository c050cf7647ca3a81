"""The demo region's catalog: resources and products that follow ../shared/SCENARIOS.md.

S1 普惠金融 (registrations, tax credit as compute-only, an electricity-use data element),
S2 车险理赔 (medical-expense verification, accident records), S3 授权运营 (the data group's
first-level product), S4 产业链 (cable production records), plus a core-data resource that
is registered but can never be listed, a product waiting for review and one returned.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from shuchang.domains.catalog import products, resources
from shuchang.domains.catalog.schemas import ProductIn, ResourceIn, ReviewDecision
from shuchang.domains.participants import SYSTEM, Actor

REGION = "330300"


def _field(
    name: str, type_: str, description: str, role: str = "attribute", sensitivity: str = "general"
) -> dict[str, str]:
    return {
        "name": name,
        "type": type_,
        "description": description,
        "role": role,
        "sensitivity": sensitivity,
    }


RESOURCES: dict[str, tuple[str, dict[str, Any]]] = {
    "registrations": ("东瓯市市场监督管理局", {
        "title": "企业登记信息", "title_en": "Enterprise registrations",
        "description": "东瓯市市场主体登记信息：统一社会信用代码、名称、行业、所属区县、注册资本与成立日期，每日更新。",
        "fields": [_field("uscc", "string", "统一社会信用代码", "identifier"), _field("name", "string", "企业名称"),
                   _field("industry_code", "string", "国民经济行业分类", "dimension"), _field("district", "string", "所属区县", "dimension"),
                   _field("registered_capital_fen", "integer", "注册资本（分）", "measure"), _field("established_on", "date", "成立日期")],
        "source": "市场主体登记系统", "update_frequency": "daily", "industry": "L72", "classification": "general",
        "location": {"type": "sql", "table": "samr.enterprise_registry"}, "regions": [REGION], "tags": ["企业登记", "市场主体", "公共数据"]}),
    "penalties": ("东瓯市市场监督管理局", {
        "title": "行政处罚信息", "description": "市场监管领域行政处罚决定：处罚对象统一社会信用代码、违法类型、处罚金额与决定日期。",
        "fields": [_field("uscc", "string", "统一社会信用代码", "identifier"), _field("violation_type", "string", "违法类型", "dimension"),
                   _field("fine_fen", "integer", "罚没金额（分）", "measure"), _field("decided_on", "date", "决定日期")],
        "source": "行政执法系统", "update_frequency": "weekly", "industry": "S92", "classification": "general",
        "location": {"type": "sql", "table": "samr.penalties"}, "regions": [REGION], "tags": ["行政处罚", "信用"]}),
    "tax": ("国家税务总局东瓯市税务局", {
        "title": "纳税信用等级与发票汇总", "title_en": "Tax credit grade and invoice totals",
        "description": "企业纳税信用等级（A/B/M/C/D）与月度增值税发票开具金额，按行业和区县可聚合，属重要数据，仅供隐私计算。",
        "fields": [_field("uscc", "string", "统一社会信用代码", "identifier"), _field("credit_grade", "string", "纳税信用等级", "dimension"),
                   _field("industry_code", "string", "行业", "dimension"), _field("district", "string", "区县", "dimension"),
                   _field("invoice_total_fen", "integer", "月度开票金额（分）", "measure"), _field("defaulted", "boolean", "是否欠税", "measure")],
        "source": "金税系统", "update_frequency": "monthly", "industry": "S92", "classification": "important",
        "location": {"type": "sql", "table": "tax.credit_monthly"}, "regions": [REGION], "tags": ["税务", "纳税信用", "普惠金融"]}),
    "meters": ("东瓯电力有限公司", {
        "title": "企业月度用电量", "title_en": "Monthly electricity use per enterprise",
        "description": "工商业用户月度用电量（千瓦时），由智能电表读数汇总，关联统一社会信用代码。",
        "fields": [_field("uscc", "string", "统一社会信用代码", "identifier"), _field("month", "date", "月份", "dimension"),
                   _field("kwh", "decimal", "用电量（千瓦时）", "measure")],
        "source": "用电信息采集系统", "update_frequency": "monthly", "industry": "D44", "classification": "important",
        "location": {"type": "sql", "table": "grid.monthly_usage"}, "regions": [REGION], "tags": ["电力", "用电量"]}),
    "medical": ("东瓯市医疗保障局", {
        "title": "意外伤害医疗费用结算", "title_en": "Settled medical expenses of accident victims",
        "description": "交通事故伤者的医保结算记录：身份证号、就诊机构、结算日期与医疗费用，含敏感个人信息。",
        "fields": [_field("resident_id", "string", "居民身份证号码", "identifier", "sensitive_personal"),
                   _field("hospital", "string", "就诊机构", "dimension"), _field("settled_on", "date", "结算日期"),
                   _field("amount_fen", "integer", "医疗费用（分）", "measure", "sensitive_personal")],
        "source": "医保结算系统", "update_frequency": "daily", "industry": "Q84", "classification": "important",
        "legal_basis": "《个人信息保护法》第十三条第一款第（二）项：为订立、履行个人作为一方当事人的合同（保险理赔）所必需，并经被保险人授权",
        "personal_info": True, "sensitive_personal_info": True,
        "location": {"type": "http", "url": "https://ybj.example.cn/api/settlements"}, "regions": [REGION], "tags": ["医保", "车险理赔"]}),
    "accidents": ("东瓯市公安局交通警察支队", {
        "title": "道路交通事故记录", "description": "道路交通事故认定信息：事故编号、发生时间、地点区县、责任认定与伤亡情况。",
        "fields": [_field("accident_no", "string", "事故编号", "identifier"), _field("occurred_at", "datetime", "发生时间"),
                   _field("district", "string", "区县", "dimension"), _field("party_name", "string", "当事人姓名", sensitivity="personal")],
        "source": "交通管理信息系统", "update_frequency": "daily", "industry": "S92", "classification": "important",
        "personal_info": True, "location": {"type": "http", "url": "https://jj.example.cn/api/accidents"}, "regions": [REGION], "tags": ["交通事故", "车险理赔"]}),
    "trajectories": ("东瓯市公安局交通警察支队", {
        "title": "重点车辆实时轨迹", "description": "危险品运输等重点车辆的实时定位轨迹，属核心数据，仅登记不开放。",
        "fields": [_field("plate", "string", "车牌号", "identifier"), _field("lat", "decimal", "纬度"), _field("lng", "decimal", "经度")],
        "source": "重点车辆监管平台", "update_frequency": "realtime", "industry": "S92", "classification": "core",
        "location": {"type": "sql", "table": "police.vehicle_tracks"}, "regions": [REGION], "tags": ["车辆轨迹"]}),
    "vitality": ("东瓯数据集团有限公司", {
        "title": "企业活力指数", "title_en": "Enterprise vitality index",
        "description": "基于授权运营的登记、用电与纳税公共数据加工形成的企业活力指数（0-100），已脱敏，不含原始数据。",
        "fields": [_field("uscc", "string", "统一社会信用代码", "identifier"), _field("month", "date", "月份", "dimension"),
                   _field("vitality", "integer", "活力指数", "measure")],
        "source": "公共数据授权运营（一级开发）", "update_frequency": "monthly", "industry": "I64", "classification": "general",
        "location": {"type": "sql", "table": "dg.vitality_index"}, "regions": [REGION], "tags": ["授权运营", "数据元件", "企业画像"]}),
    "cables": ("东瓯线缆股份有限公司", {
        "title": "线缆生产与检测记录", "title_en": "Cable production and test records",
        "description": "每盘线缆的产品标识、原材料批次、生产日期与出厂检测结果（导体电阻、耐压试验）。",
        "fields": [_field("reel_code", "string", "产品标识（一物一码）", "identifier"), _field("copper_batch", "string", "铜材批次"),
                   _field("produced_on", "date", "生产日期", "dimension"), _field("resistance_mohm", "decimal", "导体电阻", "measure"),
                   _field("voltage_test_passed", "boolean", "耐压试验")],
        "source": "制造执行系统（MES）", "update_frequency": "daily", "industry": "C38", "classification": "general",
        "location": {"type": "file", "path": "/data/mes/reels.parquet", "format": "parquet"}, "regions": [REGION], "tags": ["产业链", "质量追溯"]}),
}  # fmt: skip


def _offer(action: str, purpose: str, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    constraints = [
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": purpose},
        *(extra or []),
    ]
    return {"@type": "Offer", "permission": [{"action": action, "constraint": constraints}]}


PRODUCTS: list[tuple[str, list[str], dict[str, Any], str]] = [
    ("东瓯市市场监督管理局", ["registrations", "penalties"], {
        "kind": "dataset", "title": "企业登记与处罚信息数据集", "title_en": "Enterprise registrations and penalties",
        "description": "面向金融机构的企业登记与行政处罚数据集，按日更新，经连接器按合约交付。",
        "policy": _offer("use", "小微企业信贷风险评估", [{"leftOperand": "recipientRole", "operator": "eq", "rightOperand": "consumer"}]),
        "price": {"model": "subscription", "amount_fen": 500000, "period": "year"}, "tags": ["企业登记", "普惠金融"]}, "listed"),
    ("国家税务总局东瓯市税务局", ["tax"], {
        "kind": "compute_only", "title": "纳税信用隐私计算服务", "title_en": "Tax credit privacy-preserving computation",
        "description": "在税务局连接器侧运行经批准的差分隐私聚合（按行业、区县统计违约率等），结果不含任何单个企业的数据。",
        "policy": _offer("compute", "小微企业信贷风险评估", [{"leftOperand": "count", "operator": "lteq", "rightOperand": "10000"},
                                                         {"leftOperand": "epsilon", "operator": "lteq", "rightOperand": "3.0"}, {"leftOperand": "epsilonPeriod", "operator": "eq", "rightOperand": "P1M"}]),
        "price": {"model": "per_call", "amount_fen": 200}, "tags": ["税务", "隐私计算", "普惠金融"]}, "listed"),
    ("东瓯电力有限公司", ["meters"], {
        "kind": "data_element", "title": "企业用电指数（数据元件）", "title_en": "Enterprise electricity-use index (data element)",
        "description": "由月度用电量计算的企业用电指数，按行业基准归一化到 0-100，已去标识化，可用于经营活跃度评估。",
        "transformation": "按行业中位数归一化月度用电量至 0-100；去除直接标识符，仅保留统一社会信用代码的加盐哈希；对样本少于 10 家的行业组合不输出。",
        "policy": _offer("use", "小微企业信贷风险评估"), "price": {"model": "subscription", "amount_fen": 120000, "period": "month"},
        "tags": ["电力", "数据元件", "普惠金融"]}, "listed"),
    ("东瓯市医疗保障局", ["medical"], {
        "kind": "compute_only", "title": "人伤医疗费用核验", "title_en": "Injury medical-expense verification",
        "description": "保险公司提交理赔案件的身份证号与申报金额，返回“一致/不一致”的核验结果，不返回任何明细。",
        "policy": _offer("compute", "车险人伤理赔核验", [{"leftOperand": "count", "operator": "lteq", "rightOperand": "500000"}]),
        "price": {"model": "per_call", "amount_fen": 50}, "tags": ["医保", "车险理赔"]}, "listed"),
    ("东瓯市公安局交通警察支队", ["accidents"], {
        "kind": "api", "title": "交通事故认定查询接口", "description": "按事故编号查询事故认定结果与责任划分，供保险理赔使用。",
        "policy": _offer("read", "车险人伤理赔核验"), "price": {"model": "per_call", "amount_fen": 30}, "tags": ["交通事故", "车险理赔"]}, "returned"),
    ("东瓯数据集团有限公司", ["vitality"], {
        "kind": "data_element", "title": "企业活力指数（一级开发产品）", "title_en": "Enterprise vitality index (first-level product)",
        "description": "市数据局授权的一级开发主体加工形成的企业活力指数，供二级开发主体在可信环境中融合使用。",
        "transformation": "融合登记、用电、纳税三类公共数据，按行业分层加权计算 0-100 指数；k-匿名（k≥10）校验后输出。",
        "policy": _offer("derive", "供应链金融产品开发"), "price": {"model": "subscription", "amount_fen": 300000, "period": "quarter"},
        "tags": ["授权运营", "企业画像"]}, "submitted"),
    ("东瓯线缆股份有限公司", ["cables"], {
        "kind": "dataset", "title": "线缆质量追溯数据", "title_en": "Cable quality traceability data",
        "description": "按产品标识查询每盘线缆的原材料批次与出厂检测结果，供下游采购方与第三方检测机构核验。",
        "policy": _offer("read", "产业链质量协同"), "price": {"model": "one_off", "amount_fen": 80000}, "tags": ["产业链", "质量追溯"]}, "listed"),
]  # fmt: skip


def seed_catalog(
    session: Session, members: dict[str, uuid.UUID], reviewers: tuple[str, ...]
) -> None:
    """Register every demo resource and product and walk each product to its demo status."""
    resource_ids: dict[str, uuid.UUID] = {}
    for key, (owner, body) in RESOURCES.items():
        actor = Actor(participant_id=members[owner], role="provider")
        resource_ids[key] = resources.register(session, actor, msgspec.convert(body, ResourceIn)).id
    for owner, sources, body, target in PRODUCTS:
        actor = Actor(participant_id=members[owner], role="provider")
        data = msgspec.convert(
            {**body, "resources": [str(resource_ids[k]) for k in sources]}, ProductIn
        )
        product = products.submit(session, actor, products.create(session, actor, data).id)
        if target == "listed":
            products.review(
                session, SYSTEM, product.id, ReviewDecision(decision="approve"), reviewers
            )
