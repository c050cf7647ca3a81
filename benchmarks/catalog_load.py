"""Catalog at scale: bulk import, lookup and full-text search over ~1,000,000 resources.

Targets (issue): on a 2-core machine, load generator included, 1,000,000 realistic resources:
lookup by id >= 3,000 req/s with p99 <= 25 ms at 32 concurrent connections; full-text search
with filters p99 <= 50 ms at 8 concurrent connections, on SQLite and on PostgreSQL; bulk
import >= 5,000 resources/s.

For each backend (SQLite file in a temp dir; PostgreSQL scratch database
``shuchang_bench_catalog``, dropped after unless ``--keep``; a database reused with
``--skip-import`` is never dropped):

1. register ``--providers`` providers and a few consumers through ``service.register``
   (lenient rule; the consumers' API keys are the load's callers);
2. generate ``--resources`` realistic resources, deterministic for ``--seed``: Chinese titles
   and descriptions that combine per-industry vocabularies (GB/T 4754 sections A..S: 企业登记,
   纳税信用, 用电量, 医保结算, 交通事故, 线缆检测, 物流运单, 不动产登记, 社保缴纳, 公积金 …), 3..9
   fields with roles and sensitivities, tags, 东瓯市 (330300) districts, an English title on
   about a third, classification general 80 % / important 18 % / core 2 %;
3. import them through the service, ``bulk.import_resources(session, provider_actor, rows)``,
   ``--batch`` rows per transaction (rows generated before the clock starts for each batch):
   **this is the bulk import figure**;
4. for each ``--workers`` count start ``python -m shuchang serve`` (granian, SHUCHANG_SEQUENCER
   false) and, with wrk on this machine (127.0.0.1 only):
   * once, on the first server: ``POST /api/v1/catalog/resources/import`` with a
     ``--http-import-rows``-row JSON body as a provider (the import figure over HTTP);
   * each search URL once by hand (checks 200 and prints single-request latency per query);
   * warm-up: lookups for ``--warmup`` s (not reported);
   * lookup: ``GET /api/v1/catalog/resources/{id}`` over random non-core ids, random consumer
     key, ``--lookup-connections`` (32) connections, ``--seconds`` s;
   * search: ``GET /api/v1/catalog/search?q=..&classification=general&industry=..&limit=20``
     rotating over realistic Chinese/English queries and filters (percent-encoded),
     ``--search-connections`` (8) connections, ``--seconds`` s; then the same with
     ``facets=false`` to show what facet counting costs.

Printed: import resources/s, per load run requests, req/s, p50, p99, errors, host CPU, the
server+wrk CPU share and CPU µs/request (as participants_load.py), and the 1-minute load
average when the run ended: the machine may be shared, so read req/s beside it.

    .venv/bin/python benchmarks/catalog_load.py --resources 100000 --backend sqlite
    .venv/bin/python benchmarks/catalog_load.py                       # 1,000,000, both backends
    .venv/bin/python benchmarks/catalog_load.py --backend sqlite --keep --db-dir /tmp/cat
    .venv/bin/python benchmarks/catalog_load.py --backend sqlite --skip-import --db-dir /tmp/cat
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import httpx
from benchkit import (
    DEFAULT_PG_URL,
    ScratchDb,
    loadavg,
    print_machine,
    print_table,
    scratch_database,
    wait_for_quiet,
)
from participants_load import LUA_COMMON, Run, measured, server, uscc, wrk
from sqlalchemy import create_engine, make_url, select, text

from shuchang.db import make_engine, make_session_factory, session_scope
from shuchang.domains.catalog import bulk
from shuchang.domains.catalog.models import Resource, ResourceVersion
from shuchang.domains.participants import Actor, service
from shuchang.domains.participants.schemas import SYSTEM, RegisterParticipant
from shuchang.domains.participants.service import OnboardingRules
from shuchang.migrations import upgrade

DB_NAME = "shuchang_bench_catalog"
LOOKUP_TARGET_RPS = 3000
LOOKUP_TARGET_P99_MS = 25.0
SEARCH_TARGET_P99_MS = 50.0
IMPORT_TARGET_RPS = 5000

# ---------------------------------------------------------------------------------------------
# vocabulary
# ---------------------------------------------------------------------------------------------

CITY = ("330300", "东瓯市")
DISTRICTS = [
    ("330302", "鹿城区"), ("330303", "龙湾区"), ("330304", "瓯海区"), ("330305", "洞头区"),
    ("330324", "永嘉县"), ("330326", "平阳县"), ("330327", "苍南县"), ("330328", "文成县"),
    ("330329", "泰顺县"), ("330381", "瑞安市"), ("330382", "乐清市"),
]  # fmt: skip


def _field(spec: str) -> dict[str, str]:
    """``name:type:描述[:role[:sensitivity]]`` as a Field body."""
    name, type_, desc, *rest = spec.split(":")
    role = rest[0] if rest else "attribute"
    sens = rest[1] if len(rest) > 1 else "general"
    return {"name": name, "type": type_, "description": desc, "role": role, "sensitivity": sens}


USCC = _field("uscc:string:统一社会信用代码:identifier")
RESIDENT = _field("resident_id:string:居民身份证号码:identifier:sensitive_personal")
NAMED = {"@uscc": USCC, "@resident": RESIDENT}
COMMON_FIELDS = [
    _field("district:string:所属区县:dimension"),
    _field("month:date:统计月份:dimension"),
    _field("industry_code:string:国民经济行业分类代码:dimension"),
    _field("updated_on:date:更新日期"),
    _field("remark:string:备注"),
]


@dataclass(frozen=True)
class Industry:
    codes: tuple[str, ...]  # GB/T 4754-2017 section or division codes
    org: tuple[str, ...]  # who holds such data
    subjects: tuple[tuple[str, str], ...]  # (中文主题, English subject)
    systems: tuple[str, ...]  # source information systems
    fields: tuple[dict[str, str], ...]
    tags: tuple[str, ...]
    schema: str

    @classmethod
    def of(  # noqa: PLR0917 - one positional string per column of the table below
        cls, codes: str, orgs: str, subjects: str, systems: str, fields: str, tags: str, schema: str
    ) -> Industry:
        """Space-separated lists; subjects ``中文=English; …``; fields ``spec | spec``."""
        pairs = tuple(tuple(s.split("=")) for s in subjects.split("; "))
        return cls(
            codes=tuple(codes.split()),
            org=tuple(orgs.split()),
            subjects=pairs,  # type: ignore[arg-type]
            systems=tuple(systems.split()),
            fields=tuple(NAMED.get(s) or _field(s) for s in fields.split(" | ")),
            tags=tuple(tags.split()),
            schema=schema,
        )


INDUSTRIES: list[Industry] = [
    Industry.of(
        "A01 A03 A04",
        "东瓯市农业农村局 东瓯农业发展集团有限公司",
        "农产品产量=farm output; 土地经营权流转=land transfer; 农机作业=farm machinery work; "
        "种植面积=planted area; 水产养殖=aquaculture",
        "农业农村综合信息平台 土地流转管理系统",
        "plot_code:string:地块编码:identifier | crop:string:作物品种:dimension | "
        "area_mu:decimal:面积（亩）:measure | yield_kg:decimal:产量（公斤）:measure | "
        "farmer_name:string:经营主体姓名:attribute:personal",
        "农业 乡村振兴 农产品 土地流转",
        "agri",
    ),
    Industry.of(
        "C38 C36 C26 C13 C34",
        "东瓯线缆股份有限公司 东瓯泵阀集团有限公司 东瓯鞋业有限公司",
        "线缆检测=cable test; 生产工单=production orders; 质量追溯=quality traceability; "
        "设备运行=equipment telemetry; 原材料批次=material batches; 能耗监测=energy monitoring",
        "制造执行系统（MES） 企业资源计划（ERP） 工业互联网平台",
        "reel_code:string:产品标识（一物一码）:identifier | "
        "batch_no:string:批次号:dimension | produced_on:date:生产日期:dimension | "
        "resistance_mohm:decimal:导体电阻:measure | "
        "voltage_test_passed:boolean:耐压试验是否通过:measure | "
        "line_no:string:产线编号:dimension | output_units:integer:产量（件）:measure",
        "产业链 质量追溯 工业互联网 智能制造 线缆",
        "mes",
    ),
    Industry.of(
        "D44 D45 D46",
        "东瓯电力有限公司 东瓯燃气有限公司 东瓯水务集团有限公司",
        "用电量=electricity use; 用气量=gas use; 用水量=water use; 电表读数=meter readings; "
        "欠费停电=arrears disconnections",
        "用电信息采集系统 营销业务系统 智慧水务平台",
        "@uscc | meter_no:string:表计编号:identifier | kwh:decimal:用电量（千瓦时）:measure | "
        "peak_kwh:decimal:峰时用电量:measure | arrears_fen:integer:欠费金额（分）:measure | "
        "tariff:string:电价类别:dimension",
        "电力 用电量 能源 普惠金融 企业画像",
        "grid",
    ),
    Industry.of(
        "E47 E48",
        "东瓯市住房和城乡建设局",
        "施工许可=construction permits; 工程竣工验收=completion acceptance; 建筑工地扬尘=site dust",
        "工程建设项目审批系统",
        "permit_no:string:施工许可证号:identifier | @uscc | "
        "contract_fen:integer:合同价（分）:measure | "
        "floor_area:decimal:建筑面积（平方米）:measure",
        "建筑业 工程建设 审批",
        "build",
    ),
    Industry.of(
        "F51 F52",
        "东瓯商贸集团有限公司 东瓯市商务局",
        "销售流水=sales; 商品价格=retail prices; 门店客流=store footfall; "
        "进出口报关=customs declarations",
        "收银系统 供应链管理系统",
        "store_code:string:门店编码:identifier | sku:string:商品编码:dimension | "
        "sales_fen:integer:销售额（分）:measure | quantity:integer:销量:measure",
        "商贸 消费 零售 价格监测",
        "retail",
    ),
    Industry.of(
        "G54 G58 G59 G60",
        "东瓯港集团有限公司 东瓯物流有限公司 东瓯市交通运输局",
        "物流运单=waybills; 货运车辆轨迹=truck trajectories; 港口吞吐量=port throughput; "
        "公交客流=bus ridership; 快递揽投=parcel pickups",
        "运输管理系统（TMS） 港口生产调度系统 网络货运平台",
        "waybill_no:string:运单号:identifier | origin:string:始发地:dimension | "
        "destination:string:目的地:dimension | weight_kg:decimal:货重（公斤）:measure | "
        "plate:string:车牌号:attribute:personal | freight_fen:integer:运费（分）:measure",
        "物流 交通运输 供应链 运单",
        "tms",
    ),
    Industry.of(
        "I64 I65",
        "东瓯数据集团有限公司 东瓯市大数据发展管理局",
        "企业活力指数=enterprise vitality index; 企业画像=enterprise profiles; "
        "数据元件=data elements; 政务服务办件=government service cases",
        "公共数据平台 一网通办系统 数据加工平台",
        "@uscc | score:integer:指数（0-100）:measure | case_no:string:办件编号:identifier | "
        "handled_days:integer:办理时长（天）:measure",
        "授权运营 数据元件 企业画像 公共数据 数字政府",
        "dg",
    ),
    Industry.of(
        "J66 J67 J68",
        "东瓯农商银行股份有限公司 东瓯财产保险股份有限公司",
        "贷款余额=loan balances; 车险理赔=motor claims; 信贷违约=credit defaults; "
        "保单承保=policies written",
        "信贷管理系统 核心业务系统 理赔系统",
        "@uscc | loan_fen:integer:贷款余额（分）:measure | "
        "overdue_days:integer:逾期天数:measure | claim_no:string:理赔案件号:identifier | "
        "claim_fen:integer:赔付金额（分）:measure | "
        "holder_name:string:投保人姓名:attribute:personal",
        "金融 普惠金融 信贷 保险 车险理赔 credit",
        "fin",
    ),
    Industry.of(
        "K70",
        "东瓯市自然资源和规划局 东瓯市不动产登记中心",
        "不动产登记=real estate registration; 房屋交易=housing transactions; 土地出让=land sales",
        "不动产登记系统 房屋交易网签系统",
        "certificate_no:string:不动产权证号:identifier | "
        "parcel_code:string:宗地代码:dimension | area_sqm:decimal:面积（平方米）:measure | "
        "price_fen:integer:成交价（分）:measure | "
        "owner_name:string:权利人姓名:attribute:personal",
        "不动产 房地产 自然资源 抵押",
        "realty",
    ),
    Industry.of(
        "L72",
        "东瓯市市场监督管理局",
        "企业登记=enterprise registrations; 经营异常名录=abnormal operations list; "
        "企业年报=annual reports; 股权出质=equity pledges",
        "市场主体登记系统 国家企业信用信息公示系统",
        "@uscc | name:string:企业名称 | "
        "registered_capital_fen:integer:注册资本（分）:measure | "
        "established_on:date:成立日期:dimension | "
        "legal_rep:string:法定代表人:attribute:personal",
        "企业登记 市场主体 公共数据 信用",
        "samr",
    ),
    Industry.of(
        "M74 M75",
        "东瓯质量技术监督检测研究院",
        "检验检测报告=test reports; 计量器具检定=instrument calibration; 专利授权=patents granted",
        "检验检测业务系统 计量管理系统",
        "report_no:string:报告编号:identifier | item:string:检测项目:dimension | "
        "conclusion:string:检测结论:dimension | sample_count:integer:样品数:measure",
        "检验检测 质量 计量 科技服务",
        "lab",
    ),
    Industry.of(
        "N77 N78",
        "东瓯市生态环境局",
        "空气质量=air quality; 排污许可=discharge permits; 水质监测=water quality",
        "生态环境监测平台 排污许可管理系统",
        "station_code:string:监测站点:identifier | pm25:decimal:PM2.5 浓度:measure | "
        "cod_mg:decimal:化学需氧量:measure | @uscc",
        "生态环境 环保 监测 碳排放",
        "env",
    ),
    Industry.of(
        "P83",
        "东瓯市教育局",
        "学籍=student registry; 招生入学=school admissions; 学校资源=school resources",
        "教育管理信息系统",
        "student_no:string:学籍号:identifier:personal | school:string:学校:dimension | "
        "grade:string:年级:dimension | enrolled:integer:在校人数:measure",
        "教育 学籍 公共服务",
        "edu",
    ),
    Industry.of(
        "Q84 Q85",
        "东瓯市医疗保障局 东瓯市卫生健康委员会 东瓯医科大学附属第一医院",
        "医保结算=medical insurance settlements; 门诊就诊=outpatient visits; "
        "疫苗接种=vaccinations; 住院费用=inpatient costs",
        "医保结算系统 全民健康信息平台 医院信息系统（HIS）",
        "@resident | hospital:string:就诊机构:dimension | "
        "settled_on:date:结算日期:dimension | "
        "amount_fen:integer:医疗费用（分）:measure:sensitive_personal | "
        "diagnosis:string:诊断:attribute:sensitive_personal",
        "医保 医疗健康 车险理赔 卫生",
        "health",
    ),
    Industry.of(
        "R88 R89",
        "东瓯市文化广电旅游局",
        "景区客流=scenic area visitors; 文化场馆预约=venue bookings; 旅游消费=tourism spending",
        "智慧文旅平台",
        "site_code:string:景区编码:identifier | visitors:integer:客流量（人次）:measure | "
        "spending_fen:integer:消费额（分）:measure",
        "文旅 旅游 客流",
        "tour",
    ),
    Industry.of(
        "S92 S94",
        "国家税务总局东瓯市税务局 东瓯市人力资源和社会保障局 东瓯市住房公积金管理中心 "
        "东瓯市公安局交通警察支队",
        "纳税信用=tax credit; 社保缴纳=social insurance contributions; "
        "公积金=housing provident fund; 交通事故=traffic accidents; "
        "行政处罚=administrative penalties; 发票开具=invoices issued",
        "金税系统 社会保险信息系统 公积金业务系统 交通管理信息系统",
        "@uscc | credit_grade:string:纳税信用等级:dimension | "
        "invoice_total_fen:integer:开票金额（分）:measure | "
        "insured_count:integer:参保人数:measure | paid_fen:integer:缴存金额（分）:measure | "
        "accident_no:string:事故编号:identifier | "
        "party_name:string:当事人姓名:attribute:personal",
        "税务 纳税信用 社保 公积金 交通事故 信用 公共数据",
        "gov",
    ),
]

QUALIFIERS = ("", "", "规上工业企业", "小微企业", "重点", "个体工商户", "城镇", "农村", "中小企业",
              "高新技术企业", "外贸企业", "公共机构", "重点行业")  # fmt: skip
SUFFIXES = (("明细", "details"), ("月度汇总", "monthly summary"), ("统计", "statistics"),
            ("台账", "ledger"), ("记录", "records"), ("信息", "information"), ("清单", "list"),
            ("年度报表", "annual report"), ("日报", "daily report"), ("指数", "index"))  # fmt: skip
SCOPES = ("覆盖全市各区县", "按区县和行业可聚合", "仅含已归档记录", "自{year}年起连续记录",
          "经清洗去重", "与统一社会信用代码关联", "按月份分区存储", "含历史变更轨迹")  # fmt: skip
USES = ("可用于小微企业信贷风险评估", "支撑车险理赔核验", "服务产业链协同与质量追溯",
        "用于城市运行监测与决策分析", "为数据元件加工提供原始数据", "面向授权运营场景开放",
        "可在隐私计算环境中联合建模", "用于政务服务效能评估", "支撑普惠金融授信")  # fmt: skip
GENERIC_TAGS = ("公共数据", "企业数据", "开放数据", "授权运营", "普惠金融", "数字政府",
                "数据要素", "年度")  # fmt: skip
FREQ = (("daily", "每日更新"), ("weekly", "每周更新"), ("monthly", "每月更新"),
        ("quarterly", "每季度更新"), ("yearly", "每年更新"), ("realtime", "实时更新"),
        ("once", "一次性提供"))  # fmt: skip


def make_row(rng: random.Random, n: int) -> dict[str, Any]:
    """One realistic ResourceIn body (a dict, as a JSON import would carry)."""
    ind = rng.choice(INDUSTRIES)
    subject, subject_en = rng.choice(ind.subjects)
    suffix, suffix_en = rng.choice(SUFFIXES)
    where = rng.random()
    if where < 0.55:
        code, place = rng.choice(DISTRICTS)
        regions = [code] + ([rng.choice(DISTRICTS)[0]] if rng.random() < 0.2 else [])
    else:
        code, place = CITY
        regions = [CITY[0]]
    regions = list(dict.fromkeys(regions))
    year = rng.randint(2015, 2025)
    qualifier = rng.choice(QUALIFIERS)
    title = f"{place}{qualifier}{subject}{suffix}"
    if rng.random() < 0.4:
        title += f"（{year}年起）"
    title += f" {n:07d}"  # keeps titles unique, like a registry number
    org = rng.choice(ind.org)
    system = rng.choice(ind.systems)
    picked = rng.sample(ind.fields, k=min(len(ind.fields), rng.randint(2, 5)))
    picked += rng.sample(COMMON_FIELDS, k=rng.randint(1, 3))
    fields: list[dict[str, str]] = list({f["name"]: f for f in picked}.values())
    sens = {f["sensitivity"] for f in fields}
    freq, freq_zh = rng.choice(FREQ)
    described = "、".join(f["description"] for f in fields[:5])
    description = (
        f"{org}{system}汇集的{place}{qualifier}{subject}数据，"
        f"{rng.choice(SCOPES).format(year=year)}，包括{described}等字段，{freq_zh}。"
        f"{rng.choice(USES)}。"
    )
    if rng.random() < 0.5:
        until = min(2025, year + rng.randint(0, 8))
        description += f"数据范围为{year}年至{until}年，{rng.choice(SCOPES).format(year=year)}。"
    r = rng.random()
    classification = "general" if r < 0.80 else "important" if r < 0.98 else "core"
    tags = list(dict.fromkeys([subject, *rng.sample(ind.tags, k=min(2, len(ind.tags))),
                               rng.choice(GENERIC_TAGS)]))  # fmt: skip
    start = date(year, 1, 1)
    row: dict[str, Any] = {
        "title": title,
        "description": description,
        "fields": fields,
        "source": f"{org}·{system}",
        "update_frequency": freq,
        "industry": rng.choice(ind.codes),
        "classification": classification,
        "location": {"type": "sql", "table": f"{ind.schema}.t{n % 997:03d}_{rng.randint(1, 99)}"},
        "regions": regions,
        "tags": tags,
        "temporal_start": start.isoformat(),
        "temporal_end": (start + timedelta(days=365 * rng.randint(1, 9))).isoformat(),
    }
    if rng.random() < 0.35:
        row["title_en"] = (
            f"{subject_en.capitalize()} {suffix_en} of "
            f"{CITY[1] if code == CITY[0] else 'a district'}"
        )
        row["description_en"] = (
            f"{subject_en.capitalize()} held by the {system} system, {suffix_en}."
        )
    if "sensitive_personal" in sens:
        row["sensitive_personal_info"] = True
    if sens & {"personal", "sensitive_personal"}:
        row["personal_info"] = True
        row["legal_basis"] = (
            "《个人信息保护法》第十三条第一款第（三）项：履行法定职责或者法定义务所必需"
        )
    return row


def make_rows(seed: int, start: int, count: int) -> list[dict[str, Any]]:
    """Rows ``start .. start+count-1`` (each batch has its own seeded stream: resumable)."""
    rng = random.Random(seed * 1_000_003 + start)
    return [make_row(rng, n) for n in range(start, start + count)]


# Search load: (q, industry filter, extra filters); every URL also has classification=general.
SEARCHES: list[tuple[str, str, dict[str, str]]] = [
    ("用电量", "D", {}), ("企业登记", "L", {}), ("纳税信用", "S", {}), ("医保结算", "Q", {}),
    ("交通事故", "S92", {}), ("线缆检测", "C38", {}), ("物流运单", "G", {}),
    ("不动产登记", "K", {}),
    ("社保缴纳", "S94", {}), ("公积金", "S", {}), ("质量追溯", "C", {}), ("港口吞吐量", "G", {}),
    ("用电量 鹿城区", "D44", {}), ("小微企业 贷款余额", "J", {}),
    ("空气质量", "N", {"region": "330302"}),
    ("electricity", "D", {}), ("tax credit", "S", {}), ("waybills", "G54", {}),
    ("电", "D", {}), ("车险理赔", "J68", {}), ("景区客流", "R", {"region": "330305"}),
    ("检验检测报告", "M74", {}), ("授权运营", "I", {}), ("农产品产量", "A", {"region": "330324"}),
]  # fmt: skip


def search_paths(facets: bool) -> list[str]:
    out = []
    for q, industry, extra in SEARCHES:
        params = {"q": q, "classification": "general", "industry": industry, **extra, "limit": "20"}
        if not facets:
            params["facets"] = "false"
        out.append("/api/v1/catalog/search?" + urlencode(params))  # percent-encodes UTF-8
    return out


LUA_PATHS = (
    LUA_COMMON
    + r"""
local paths, keys
function init(args)
  paths = read_lines(args[1])
  keys = read_lines(args[2])
  math.randomseed(os.time() * 1000 + tid * 7919)
end
function request()
  local path = paths[math.random(#paths)]
  local key = keys[math.random(#keys)]
  return wrk.format("GET", path,
    {["Authorization"] = "Bearer " .. key, ["Accept"] = "application/json"})
end
done = done_report
"""
)


def say(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------------------------------------
# database, participants, import
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def database(backend: str, opts: argparse.Namespace) -> Iterator[ScratchDb]:
    """A scratch database; with --keep/--skip-import a named one that outlives the run (a
    reused database is never dropped: it took the import to build)."""
    keep = opts.keep or opts.skip_import
    if not keep:
        with scratch_database(backend, DB_NAME, opts.pg_url) as db:
            yield db
        return
    if backend == "sqlite":
        root = Path(opts.db_dir)
        root.mkdir(parents=True, exist_ok=True)
        path = root / f"{DB_NAME}.db"
        if not opts.skip_import:  # the file, -wal, -shm and the evidence log key beside it
            for f in root.glob(f"{path.name}*"):
                f.unlink()
        elif not path.exists():
            raise SystemExit(f"--skip-import: {path} does not exist (run once with --keep)")
        try:
            yield ScratchDb(url=f"sqlite:///{path}", backend=backend, path=path)
        finally:
            if not keep:
                for f in root.glob(f"{path.name}*"):
                    f.unlink()
        return
    admin = create_engine(opts.pg_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": DB_NAME}
            )
            if not opts.skip_import:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
            elif not exists:
                raise SystemExit(f"--skip-import: database {DB_NAME} does not exist")
        url = make_url(opts.pg_url).set(database=DB_NAME).render_as_string(hide_password=False)
        yield ScratchDb(url=url, backend=backend)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        admin.dispose()


def register(factory: Any, name: str, identifier: str, roles: list[str]) -> tuple[uuid.UUID, str]:
    with session_scope(factory) as s:
        reg = service.register(
            s,
            SYSTEM,
            RegisterParticipant(
                kind="enterprise", name=name, identifier=identifier, roles=roles, region=CITY[0]
            ),  # type: ignore[arg-type]
            OnboardingRules(review_rule="lenient", approval="auto"),
        )
    if reg.participant.status != "active" or reg.api_key is None:
        raise SystemExit(f"{name} is {reg.participant.status}")
    return reg.participant.id, reg.api_key


@dataclass
class Seeded:
    providers: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    consumer_keys: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # non-core resources (consumers may read them)
    import_secs: float = 0.0
    import_cpu: float = 0.0  # this process's CPU time in the import (SQLite's work included)
    imported: int = 0


def participants(url: str, opts: argparse.Namespace, seeded: Seeded) -> None:
    """Providers (for the import) and consumers (the load's callers); a fresh series per run."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        upgrade(engine)
        run = random.Random().randrange(100_000)  # fresh identifiers, also on a reused DB
        orgs = sorted({o for ind in INDUSTRIES for o in ind.org})
        for i in range(opts.providers):
            name = f"{orgs[i % len(orgs)]}（数据提供）{run}-{i}"
            seeded.providers.append(register(factory, name, uscc("P", run * 100 + i), ["provider"]))
        for i in range(opts.consumers):
            name = f"东瓯使用方{run}-{i}有限公司"
            seeded.consumer_keys.append(
                register(factory, name, uscc("K", run * 100 + i), ["consumer"])[1]
            )
    finally:
        engine.dispose()


def import_all(url: str, opts: argparse.Namespace, seeded: Seeded) -> None:
    """``bulk.import_resources`` per batch as a provider; only the import is on the clock."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        done, last_print = 0, time.monotonic()
        while done < opts.resources:
            n = min(opts.batch, opts.resources - done)
            rows = make_rows(opts.seed, done, n)
            pid, _ = seeded.providers[(done // opts.batch) % len(seeded.providers)]
            actor = Actor(participant_id=pid, role="provider")
            t0, c0 = time.perf_counter(), time.process_time()
            with session_scope(factory) as s:
                report = bulk.import_resources(s, actor, rows)
            seeded.import_secs += time.perf_counter() - t0
            seeded.import_cpu += time.process_time() - c0
            if report.imported != n:
                raise SystemExit(f"batch at {done}: imported {report.imported} of {n}")
            seeded.ids += [
                str(i)
                for i, r in zip(report.ids, rows, strict=True)
                if r["classification"] != "core"
            ]
            done += n
            seeded.imported = done
            if time.monotonic() - last_print > 30 or done == opts.resources:
                last_print = time.monotonic()
                say(
                    f"  imported {done:>9,} / {opts.resources:,}: "
                    f"{done / seeded.import_secs:,.0f} resources/s so far, "
                    f"{seeded.import_cpu / done * 1e6:,.0f} µs CPU each (load avg {loadavg()})"
                )
    finally:
        engine.dispose()


def existing_ids(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Resource.id)
                .join(
                    ResourceVersion,
                    (ResourceVersion.resource_id == Resource.id)
                    & (ResourceVersion.version == Resource.version),
                )
                .where(ResourceVersion.classification != "core")
            )
            return [str(r[0]) for r in rows]
    finally:
        engine.dispose()


def db_size(db: ScratchDb) -> str:
    if db.path is not None:
        total = sum(p.stat().st_size for p in db.path.parent.glob(f"{db.path.name}*"))
        return f"{total / 2**30:.2f} GiB"
    engine = create_engine(db.url)
    try:
        with engine.connect() as conn:
            return str(
                conn.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
            )
    finally:
        engine.dispose()


def analyze(db: ScratchDb) -> None:
    """What an operator does after a bulk load: refresh the planner's statistics."""
    engine = (
        make_engine(db.url)
        if db.backend == "sqlite"
        else create_engine(db.url, isolation_level="AUTOCOMMIT")
    )
    try:
        with engine.connect() as conn:
            t0 = time.perf_counter()
            conn.execute(text("ANALYZE"))
            if db.backend == "sqlite":
                conn.commit()
            say(f"  ANALYZE in {time.perf_counter() - t0:.1f} s")
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------


def http_import(base: str, key: str, opts: argparse.Namespace) -> list[object] | None:
    if not opts.http_import_rows:
        return None
    rows = make_rows(opts.seed + 1, 0, opts.http_import_rows)
    body = json.dumps(rows, ensure_ascii=False).encode()
    t0 = time.perf_counter()
    r = httpx.post(
        f"{base}/api/v1/catalog/resources/import",
        content=body,
        timeout=600,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    secs = time.perf_counter() - t0
    imported = r.json().get("imported", 0) if r.status_code == 200 else 0
    say(
        f"    HTTP import: {len(rows):,} rows, body {len(body) / 1e6:.1f} MB -> {r.status_code} "
        f"in {secs:.2f} s = {imported / secs:,.0f} resources/s (load avg {loadavg()})"
        + ("" if r.status_code == 200 else f": {r.text[:300]}")
    )
    return [
        len(rows),
        f"{len(body) / 1e6:.1f} MB",
        r.status_code,
        f"{secs:.2f}",
        f"{imported / secs:,.0f}",
        loadavg(),
    ]


def probe_searches(base: str, key: str, paths: list[str]) -> list[list[object]]:
    """Each search once (after one unmeasured call): status, hits, matches counted, latency."""
    rows: list[list[object]] = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for (q, industry, extra), path in zip(SEARCHES, paths, strict=True):
            client.get(path)
            t0 = time.perf_counter()
            r = client.get(path)
            ms = (time.perf_counter() - t0) * 1000
            if r.status_code != 200:
                raise RuntimeError(f"search {path} answered {r.status_code}: {r.text[:300]}")
            page = r.json()
            matched = sum(v["count"] for v in page["facets"].get("classification", []))
            filters = f"industry={industry}" + "".join(f" {k}={v}" for k, v in extra.items())
            rows.append(
                [
                    q,
                    filters,
                    len(page["items"]),
                    f"{matched:,}" + ("" if page["facets_exact"] else "+"),
                    f"{ms:.0f}",
                ]
            )
    return rows


def check_lookup(base: str, key: str, rid: str) -> None:
    r = httpx.get(
        f"{base}/api/v1/catalog/resources/{rid}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    if r.status_code != 200:
        raise RuntimeError(f"lookup answered {r.status_code}: {r.text[:300]}")


@dataclass
class Measured:
    run: Run
    load: str
    data: int


def run_backend(backend: str, opts: argparse.Namespace, workdir: Path, out: dict[str, Any]) -> None:
    with database(backend, opts) as db:
        say(f"\n## {backend}: {opts.resources:,} resources")
        seeded = Seeded()
        participants(db.url, opts, seeded)
        if opts.skip_import:
            seeded.ids = existing_ids(db.url)
            say(f"  reusing the database: {len(seeded.ids):,} non-core resources")
        else:
            say(
                f"  bulk import: {opts.batch:,} rows per transaction, {opts.providers} providers "
                f"(load avg {loadavg()})"
            )
            la0 = loadavg()
            import_all(db.url, opts, seeded)
            rate = seeded.imported / seeded.import_secs
            cpu_us = seeded.import_cpu / seeded.imported * 1e6
            out["import"].append(
                [
                    backend,
                    f"{seeded.imported:,}",
                    opts.batch,
                    f"{seeded.import_secs:.0f}",
                    f"{rate:,.0f}",
                    f"{cpu_us:,.0f}",
                    f"{1e6 / cpu_us:,.0f}",
                    f"{la0} → {loadavg()}",
                ]
            )
            analyze(db)
        size = db_size(db)
        out["sizes"][backend] = size
        say(f"  database size: {size}")
        ids_file, keys_file = workdir / f"ids-{backend}.txt", workdir / f"keys-{backend}.txt"
        ids_file.write_text("\n".join(seeded.ids) + "\n")
        keys_file.write_text("\n".join(seeded.consumer_keys) + "\n")
        lua = workdir / "paths.lua"
        lua.write_text(LUA_PATHS)
        lookup_lua = workdir / "lookup.lua"
        lookup_lua.write_text(
            LUA_PATHS.replace(
                'wrk.format("GET", path,', 'wrk.format("GET", "/api/v1/catalog/resources/" .. path,'
            )
        )
        facet_paths, plain_paths = search_paths(True), search_paths(False)
        searches = {"search": workdir / "search.txt", "search-nofacets": workdir / "search-nf.txt"}
        searches["search"].write_text("\n".join(facet_paths) + "\n")
        searches["search-nofacets"].write_text("\n".join(plain_paths) + "\n")
        server_dir = workdir / backend
        server_dir.mkdir(exist_ok=True)
        provider_key = seeded.providers[0][1]
        for n, workers in enumerate(opts.workers):
            say(f"  {workers} worker(s): starting the server")
            with server(db.url, workers, server_dir, False) as (base, pid):
                check_lookup(base, seeded.consumer_keys[0], seeded.ids[0])
                if n == 0:
                    row = http_import(base, provider_key, opts)
                    if row:
                        out["http_import"].append([backend, *row])
                probe = probe_searches(base, seeded.consumer_keys[0], facet_paths)
                out["probes"].setdefault(backend, probe)
                say(
                    "    single searches (facets on): "
                    + ", ".join(f"{r[0]} {r[4]} ms" for r in probe)
                )
                wrk(
                    base,
                    lookup_lua,
                    [str(ids_file), str(keys_file)],
                    opts.warmup,
                    opts.lookup_connections,
                    opts.threads,
                )
                background = wait_for_quiet(opts.quiet_threshold, opts.max_wait)
                say(f"    background CPU before measuring: {background:.0%}, load avg {loadavg()}")
                plan = [
                    ("lookup", lookup_lua, ids_file, opts.lookup_connections),
                    ("search", lua, searches["search"], opts.search_connections),
                    ("search-nofacets", lua, searches["search-nofacets"], opts.search_connections),
                ]
                for endpoint, script, data, conns in plan:
                    conf = SimpleNamespace(connections=conns, threads=opts.threads)
                    run = measured(
                        backend,
                        "shipped",
                        workers,
                        endpoint,
                        base,
                        pid,
                        script,
                        [str(data), str(keys_file)],
                        conf,
                        opts.seconds,
                    )  # type: ignore[arg-type]
                    out["runs"].append(Measured(run, loadavg(), opts.resources))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=int, default=20, help="duration of each measured run")
    parser.add_argument("--warmup", type=int, default=5, help="lookup warm-up seconds")
    parser.add_argument("--workers", default="1,2", help="server worker counts, e.g. 1,2")
    parser.add_argument(
        "--skip-import",
        action="store_true",
        help="reuse the database a --keep run left (SQLite: --db-dir)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database for --skip-import")
    parser.add_argument(
        "--db-dir",
        default=str(Path(tempfile.gettempdir()) / DB_NAME),
        help="where --keep/--skip-import keep the SQLite file",
    )
    parser.add_argument("--batch", type=int, default=5000, help="rows per import transaction")
    parser.add_argument("--http-import-rows", type=int, default=5000, help="0 skips it")
    parser.add_argument("--providers", type=int, default=12)
    parser.add_argument("--consumers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--lookup-connections", type=int, default=32)
    parser.add_argument("--search-connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=0.25,
        help="wait until other programs use less than this CPU share",
    )
    parser.add_argument("--max-wait", type=float, default=20, help="... for at most this long")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL admin URL")
    opts = parser.parse_args(argv)
    opts.workers = [int(w) for w in opts.workers.split(",") if w.strip()]
    if opts.batch > bulk.MAX_ROWS:
        parser.error(f"--batch is at most {bulk.MAX_ROWS}")
    return opts


def report(out: dict[str, Any]) -> None:
    print()
    if out["import"]:
        print(
            "Bulk import through bulk.import_resources "
            "(service layer, one provider actor per batch)"
        )
        print_table(
            [
                "backend",
                "resources",
                "rows/txn",
                "secs",
                "resources/s",
                "CPU µs/resource",
                "1 core busy: resources/s",
                "load avg start → end",
            ],
            out["import"],
        )
        print(
            "(CPU = the importing process only; on PostgreSQL the server's own work is not in it)"
        )
        print()
    if out["http_import"]:
        print("Bulk import over HTTP: POST /api/v1/catalog/resources/import (one request)")
        print_table(
            ["backend", "rows", "body", "status", "secs", "resources/s", "load avg"],
            out["http_import"],
        )
        print()
    for backend, probe in out["probes"].items():
        print(
            f"Single search requests, {backend} (facets on; matches = classification facet total,"
            " '+' = more than the 10,000 counted)"
        )
        print_table(["q", "filters", "hits", "matches", "ms"], probe)
        print()
    runs: list[Measured] = out["runs"]
    if runs:
        print_table(
            [
                "backend",
                "resources",
                "workers",
                "endpoint",
                "conns",
                "secs",
                "requests",
                "req/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "host CPU",
                "server+wrk CPU",
                "CPU µs/req",
                "load avg",
            ],
            [
                [
                    m.run.backend,
                    f"{m.data:,}",
                    m.run.workers,
                    m.run.endpoint,
                    m.run.connections,
                    f"{m.run.seconds:.1f}",
                    f"{m.run.requests:,}",
                    f"{m.run.rps:,.0f}",
                    f"{m.run.p50_ms:.2f}",
                    f"{m.run.p99_ms:.2f}",
                    m.run.errors,
                    f"{m.run.host_busy:.0%}",
                    f"{m.run.ours_busy:.0%}",
                    f"{m.run.cpu_us:,.0f}",
                    m.load,
                ]
                for m in runs
            ],
        )
        print()
    for row in out["import"]:
        rate = float(row[4].replace(",", ""))
        print(
            f"target bulk import {row[0]} (>= {IMPORT_TARGET_RPS:,}/s): "
            f"{'met' if rate >= IMPORT_TARGET_RPS else 'NOT met'} ({row[4]}/s)"
        )
    for m in runs:
        r = m.run
        if r.endpoint == "lookup":
            ok = r.rps >= LOOKUP_TARGET_RPS and r.p99_ms <= LOOKUP_TARGET_P99_MS and not r.errors
            goal = f">= {LOOKUP_TARGET_RPS:,} req/s, p99 <= {LOOKUP_TARGET_P99_MS:g} ms"
        elif r.endpoint == "search":
            ok = r.p99_ms <= SEARCH_TARGET_P99_MS and not r.errors
            goal = f"p99 <= {SEARCH_TARGET_P99_MS:g} ms"
        else:
            continue
        print(
            f"target {r.endpoint} {r.backend} {r.workers}w ({goal}): {'met' if ok else 'NOT met'}"
            f" ({r.rps:,.0f} req/s, p99 {r.p99_ms:.1f} ms, load avg {m.load})"
        )
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    opts = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    backends = ["sqlite", "postgresql"] if opts.backend == "both" else [opts.backend]
    print("# Shuchang catalog load benchmark")
    print_machine(opts.pg_url if "postgresql" in backends else None)
    print(f"load avg    : {loadavg()} (2 cores; other jobs may share them)")
    print(
        f"data        : {opts.resources:,} resources (seed {opts.seed}), {opts.batch:,} rows per "
        f"import transaction{' (reused: --skip-import)' if opts.skip_import else ''}"
    )
    print(
        f"load        : wrk {opts.threads} thread(s); lookup {opts.lookup_connections} connections,"
        f" search {opts.search_connections} connections, {opts.seconds} s each after "
        f"{opts.warmup} s lookup warm-up; server workers {opts.workers}; sequencer off; 127.0.0.1"
    )
    out: dict[str, Any] = {"import": [], "http_import": [], "probes": {}, "runs": [], "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="shuchang-catalog-") as tmp:
        try:
            for backend in backends:
                run_backend(backend, opts, Path(tmp), out)
        finally:
            report(out)


if __name__ == "__main__":
    sys.exit(main())
