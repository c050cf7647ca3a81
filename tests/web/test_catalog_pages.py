"""Catalog pages (资源目录 / 产品上架) through HTTP, on SQLite and PostgreSQL.

Provider registers a resource with the form → builds a product and submits it → the
operator approves it on the review page → a consumer finds it with a query and a facet.
Bad input comes back next to its field and writes nothing; roles and languages hold.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Literal, get_args

import pytest
from catalog_pages_support import (
    catalog_rows,
    link,
    offer_text,
    product_form,
    resource_form,
    results,
    seed_demo,
)
from web_support import Client, csrf_of, field_error, post_form, sign_in

import factories
from shuchang.domains.catalog import schemas
from shuchang.domains.catalog.models import Product
from shuchang.platform import Platform
from shuchang.web import catalog as catalog_pages
from shuchang.web import i18n, nav, offers
from shuchang.web.catalog_forms import parse_yuan

TEMPLATES = Path(i18n.__file__).parent / "templates"


def _register_resource(client: Client, **overrides: str | list[str]) -> str:
    token = csrf_of(client.get("/console/catalog/resources/new"))
    response = post_form(
        client, "/console/catalog/resources/new", token, **resource_form(**overrides)
    )
    assert response.status_code == 303, field_errors(response.text)
    location: str = response.headers["location"]
    return location.rsplit("/", 1)[1]


def _build_product(client: Client, resource_id: str, **overrides: str | list[str]) -> str:
    token = csrf_of(client.get(f"/console/catalog/products/new?resource={resource_id}"))
    response = post_form(
        client, "/console/catalog/products/new", token, **product_form(resource_id, **overrides)
    )
    assert response.status_code == 303, field_errors(response.text)
    location: str = response.headers["location"]
    return location.rsplit("/", 1)[1]


def field_errors(page: str) -> list[str]:
    return re.findall(r'id="([\w-]+)-error"[^>]*>([^<]*)<', page)


def _switch(client: Client, member: factories.Member) -> None:
    client.cookies.clear()
    sign_in(client, member.api_key)


# --- the walk: register, build, submit, approve, find ----------------------------------------


def test_provider_lists_a_product_and_a_consumer_finds_it(
    client: Client, platform: Platform
) -> None:
    provider = factories.participant(platform, roles=("provider",), name="东瓯农商银行")
    operator = factories.operator(platform)
    consumer = factories.participant(platform, roles=("consumer",))

    sign_in(client, provider.api_key)
    home = client.get("/console/")
    for label in ("资源目录", "我的资源", "我的产品"):
        assert f">{label}</a>" in home.text
    assert ">上架审核</a>" not in home.text

    resource_id = _register_resource(client)
    detail = client.get(f"/console/catalog/resources/{resource_id}")
    assert "已登记数据资源《小微企业贷款与逾期记录》" in detail.text
    assert "overdue_days" in detail.text and "第 1 版" in detail.text
    assert "资源登记" in detail.text  # evidence history
    assert "bank.loans" in detail.text  # the owner sees the location

    product_id = _build_product(client, resource_id)
    page = client.get(f"/console/catalog/products/{product_id}")
    assert "已通过自动检查，等待审核" in page.text
    assert re.search(r'<span id="status">.*?待审核', page.text, re.S)
    assert offer_text(page) == ["用途：小微企业信贷风险评估；次数上限：10000；使用方角色：使用方"]
    assert "¥5,000.00 / 年" in page.text
    assert "第 1 版" in page.text  # pinned source version
    mine = client.get("/console/catalog/products")
    assert f"/console/catalog/products/{product_id}" in mine.text

    _switch(client, operator)
    queue = client.get("/console/catalog/review")
    assert ">上架审核</a>" in queue.text
    review = client.get(link(queue, rf'href="(/console/catalog/review/{product_id})"'))
    assert 'value="approve"' in review.text and "自动检查已通过" in review.text
    response = post_form(
        client, f"/console/catalog/review/{product_id}", csrf_of(review), decision="approve"
    )
    assert response.status_code == 303
    after = client.get(response.headers["location"])
    assert "已批准上架《小微企业信贷风险数据集》" in after.text
    assert "暂无待审核的产品" in after.text

    _switch(client, consumer)
    found = client.get("/console/catalog", params={"q": "信贷"})
    assert "小微企业信贷风险数据集" in results(found)
    narrowed = client.get(link(found, r'href="([^"]+)" class="facet-value" data-value="product"'))
    assert results(narrowed) == ["小微企业信贷风险数据集"]
    assert "共 1 项" in narrowed.text and "¥5,000.00" in narrowed.text
    assert re.search(r'class="facet-value chosen" data-value="product"', narrowed.text)
    shown = client.get(f"/console/catalog/products/{product_id}")
    assert shown.status_code == 200
    assert "用途：小微企业信贷风险评估；次数上限：10000" in offer_text(shown)[0]
    assert "批准上架" in shown.text  # review history
    resource_page = client.get(f"/console/catalog/resources/{resource_id}")
    assert "bank.loans" not in resource_page.text  # consumers never see the location
    assert f"/console/catalog/products/{product_id}" in resource_page.text  # lineage


# --- bad input: the message at the field, nothing written -------------------------------------


BAD_RESOURCES: list[tuple[dict[str, str], str, str]] = [
    ({"title": ""}, "title", "请填写此项"),
    (
        {"fields-1-name": "1st"},
        "fields-1-name",
        "字段名须以字母或下划线开头，只含字母、数字和下划线",
    ),
    ({"fields-1-name": "uscc"}, "fields", "字段 uscc 重复"),
    (
        {"fields-0-sensitivity": "personal"},
        "personal_info",
        "有字段属于个人信息，须标记 personal_info",
    ),
    ({"fields-0-name": "", "fields-1-name": ""}, "fields-0-name", "请填写此项"),
    ({"regions": "330300 99"}, "regions", "应为 6 位行政区划代码"),
    ({"industry": "ZZ"}, "industry", "应为行业分类代码，如 L 或 L72"),
    (
        {"location_type": "http", "location_url": "ftp://x"},
        "location_url",
        "应为 http:// 或 https:// 开头的地址",
    ),
    ({"location_type": "file", "location_path": ""}, "location_path", "请填写此项"),
    (
        {"temporal_start": "2026-05-01", "temporal_end": "2025-01-01"},
        "temporal_end",
        "时间范围的结束早于开始",
    ),
    ({"temporal_start": "yesterday"}, "temporal_start", "日期格式应为 YYYY-MM-DD"),
    ({"title": "长" * 201}, "title", "文本过长：最多 200 个字符"),
    ({"tags": " ".join(f"t{i}" for i in range(21))}, "tags", "最多 20 项"),
]


def test_a_bad_resource_comes_back_at_its_field(client: Client, platform: Platform) -> None:
    """Each case: the form again (422) with the message at the field, the typed values kept,
    and no row written."""
    sign_in(client, factories.participant(platform, roles=("provider",)).api_key)
    token = csrf_of(client.get("/console/catalog/resources/new"))
    for overrides, field, message in BAD_RESOURCES:
        page = post_form(
            client, "/console/catalog/resources/new", token, **resource_form(**overrides)
        )
        assert page.status_code == 422, overrides
        assert field_error(page, field) == message, overrides
        assert "请修改标出的字段后重新提交" in page.text
        if overrides.get("title", "x"):
            title = overrides.get("title", "小微企业贷款与逾期记录")
            assert f'value="{title}"' in page.text  # what was typed stays
    assert catalog_rows(platform) == (0, 0, 0)


def test_rows_are_added_and_removed_without_javascript(client: Client, platform: Platform) -> None:
    sign_in(client, factories.participant(platform, roles=("provider",)).api_key)
    token = csrf_of(client.get("/console/catalog/resources/new"))
    path = "/console/catalog/resources/new"
    added = post_form(client, path, token, **resource_form(add_field="1"))
    assert added.status_code == 200
    assert 'name="fields-3-name"' in added.text and 'value="overdue_days"' in added.text
    removed = post_form(client, path, token, **resource_form(remove_field="1"))
    assert 'value="overdue_days"' not in removed.text and 'value="uscc"' in removed.text
    row = client.get("/console/catalog/resources/field-row", params={"key": 7})
    assert 'name="fields-7-name"' in row.text
    assert 'hx-swap-oob="true"' in row.text and "key=8" in row.text
    assert catalog_rows(platform) == (0, 0, 0)


BAD_PRODUCTS: list[tuple[dict[str, str | list[str]], str, str]] = [
    ({"resources": []}, "resources", "请至少选择一个本单位的数据资源"),
    ({"price_amount": "12.345"}, "price_amount", "金额须为不小于 0 的数字，最多两位小数"),
    ({"price_amount": "-1"}, "price_amount", "金额须为不小于 0 的数字，最多两位小数"),
    ({"price_amount": ""}, "price_amount", "收费产品须填写大于 0 的金额"),
    ({"policy_max_uses": "很多"}, "policy_max_uses", "须为正整数"),
    (
        {"policy_valid_from": "2026-06-01T00:00", "policy_valid_until": "2026-01-01T00:00"},
        "policy_valid_until",
        "截止时间须晚于生效时间",
    ),
    ({"policy_regions": "浙江"}, "policy_regions", "应为 6 位行政区划代码"),
    ({"policy_purpose": "用" * 201}, "policy_purpose", "用途至多 200 个字符"),
    ({"policy_json": "{oops"}, "policy_json", "不是合法的 JSON 对象"),
    (
        {"policy_json": '{"@type": "Offer", "permission": [{"action": "sell"}]}'},
        "policy_json",
        "ODRL 策略在 permission[0].action 处有误："
        "动作须为以下之一：aggregate、compute、derive、distribute、read、use",
    ),
    ({"title": ""}, "title", "请填写此项"),
    ({"tags": "a,b;c d" + "x" * 60}, "tags", "文本过长：最多 50 个字符"),
]


def test_a_bad_product_comes_back_at_its_field(client: Client, platform: Platform) -> None:
    sign_in(client, factories.participant(platform, roles=("provider",)).api_key)
    resource_id = _register_resource(client)
    before = catalog_rows(platform)
    token = csrf_of(client.get("/console/catalog/products/new"))
    for overrides, field, message in BAD_PRODUCTS:
        page = post_form(
            client, "/console/catalog/products/new", token, **product_form(resource_id, **overrides)
        )
        assert page.status_code == 422, overrides
        assert field_error(page, field) == message, overrides
    assert catalog_rows(platform) == before
    preview = "/console/catalog/products/offer-preview"
    good = post_form(client, preview, token, **product_form(resource_id))
    assert offer_text(good) == ["用途：小微企业信贷风险评估；次数上限：10000；使用方角色：使用方"]
    bad = post_form(client, preview, token, **product_form(resource_id, policy_max_uses="0"))
    assert "须为正整数" in bad.text and "<dl" not in bad.text
    odd = post_form(
        client, preview, token, **product_form(resource_id, policy_json='{"@type": "Set"}')
    )
    assert "@type 须为 Offer" in odd.text


def test_another_providers_resource_is_refused_at_the_sources(
    client: Client, platform: Platform
) -> None:
    sign_in(client, factories.participant(platform, roles=("provider",)).api_key)
    theirs = _register_resource(client)
    _switch(client, factories.participant(platform, roles=("provider",)))
    token = csrf_of(client.get("/console/catalog/products/new"))
    page = post_form(client, "/console/catalog/products/new", token, **product_form(theirs))
    assert page.status_code == 403
    assert field_error(page, "resources") == "只能用本单位登记的数据资源制作产品"
    assert catalog_rows(platform)[2] == 0


def test_automatic_checks_return_the_product_with_reasons(
    client: Client, platform: Platform
) -> None:
    sign_in(client, factories.participant(platform, roles=("provider",)).api_key)
    resource_id = _register_resource(client)
    product_id = _build_product(client, resource_id, description="太短的描述", tags="")
    page = client.get(f"/console/catalog/products/{product_id}")
    assert "未通过自动检查，已退回" in page.text
    box = re.search(r'id="returned-reasons">(.*?)</section>', page.text, re.S)
    assert box and "产品描述至少 20 个字" in box.group(1) and "至少需要一个标签" in box.group(1)
    edit = client.get(f"/console/catalog/products/{product_id}/edit")
    assert 'value="小微企业信贷风险评估"' in edit.text  # the builder is filled in again
    response = post_form(
        client,
        f"/console/catalog/products/{product_id}/edit",
        csrf_of(edit),
        **product_form(resource_id),
    )
    assert response.status_code == 303
    assert "等待审核" in client.get(response.headers["location"]).text


# --- review: who may, and returning with reasons -------------------------------------------


def _submitted(client: Client, platform: Platform) -> str:
    sign_in(client, factories.participant(platform, roles=("provider",)).api_key)
    return _build_product(client, _register_resource(client))


def test_a_consumer_cannot_open_the_review_pages(client: Client, platform: Platform) -> None:
    product_id = _submitted(client, platform)
    _switch(client, factories.participant(platform, roles=("consumer",)))
    assert ">上架审核</a>" not in client.get("/console/catalog").text
    for path in ("/console/catalog/review", f"/console/catalog/review/{product_id}"):
        page = client.get(path)
        assert page.status_code == 403
        assert "无权访问" in page.text and "此操作需要以下角色之一" in page.text
    token = csrf_of(client.get("/console/catalog"))
    refused = post_form(client, f"/console/catalog/review/{product_id}", token, decision="approve")
    assert refused.status_code == 403
    assert refused.json()["code"] == "role.forbidden"
    assert client.get(f"/console/catalog/products/{product_id}").status_code == 404
    with platform.unit(write=False) as s:
        product = s.get(Product, uuid.UUID(product_id))
        assert product is not None and product.status == "submitted"


def test_the_regulator_sees_the_queue_but_does_not_decide(
    client: Client, platform: Platform
) -> None:
    product_id = _submitted(client, platform)
    _switch(client, factories.regulator(platform))
    queue = client.get("/console/catalog/review")
    assert queue.status_code == 200 and 'id="read-only"' in queue.text
    page = client.get(f"/console/catalog/review/{product_id}")
    assert page.status_code == 200
    assert 'value="approve"' not in page.text and "不作审核决定" in page.text


def test_returning_needs_reasons_and_the_provider_sees_them(
    client: Client, platform: Platform
) -> None:
    product_id = _submitted(client, platform)
    provider_cookies = dict(client.cookies)
    _switch(client, factories.operator(platform))
    review = client.get(f"/console/catalog/review/{product_id}")
    path = f"/console/catalog/review/{product_id}"
    bare = post_form(client, path, csrf_of(review), decision="return", reasons="  ")
    assert bare.status_code == 422
    assert field_error(bare, "reasons") == "退回须写明理由"
    returned = post_form(
        client, path, csrf_of(review), decision="return", reasons="价格偏高\n请补充样例数据"
    )
    assert returned.status_code == 303
    client.cookies.clear()
    client.cookies.update(provider_cookies)
    page = client.get(f"/console/catalog/products/{product_id}")
    box = re.search(r'id="returned-reasons">(.*?)</section>', page.text, re.S)
    assert box and "价格偏高" in box.group(1) and "请补充样例数据" in box.group(1)


# --- versions, bulk import ------------------------------------------------------------------


def test_a_new_version_keeps_products_on_theirs(client: Client, platform: Platform) -> None:
    sign_in(client, factories.participant(platform, roles=("provider",)).api_key)
    resource_id = _register_resource(client)
    _build_product(client, resource_id, then="draft")
    form = client.get(f"/console/catalog/resources/{resource_id}/revise")
    assert 'value="overdue_days"' in form.text  # filled in with the latest version
    response = post_form(
        client,
        f"/console/catalog/resources/{resource_id}/revise",
        csrf_of(form),
        **resource_form(title="小微企业贷款与逾期记录（含担保）"),
    )
    assert response.status_code == 303
    latest = client.get(response.headers["location"])
    assert "已登记《小微企业贷款与逾期记录（含担保）》第 2 版" in latest.text
    assert "登记新版本" in latest.text  # evidence
    old = client.get(f"/console/catalog/resources/{resource_id}", params={"version": 1})
    assert 'id="old-version"' in old.text
    assert "<h1>小微企业贷款与逾期记录 <span" in old.text
    lineage = re.search(r'id="lineage">(.*?)</ul>', old.text, re.S)
    assert lineage and "第 1 版" in lineage.group(1)  # the draft still pins version 1


CSV_HEADER = (
    "title,description,fields,source,update_frequency,industry,classification,location,tags\n"
)
GOOD_ROW = (
    '批量资源一,"第一条批量导入的资源描述",'
    '"[{""name"": ""uscc"", ""type"": ""string""}]",'
    '系统甲,daily,L72,general,"{""type"": ""sql"", ""table"": ""a.b""}",批量\n'
)
BAD_ROW = (
    '批量资源二,"第二条",'
    '"[{""name"": ""1bad"", ""type"": ""string""}]",'
    '系统乙,daily,L72,general,"{""type"": ""sql"", ""table"": ""a.c""}",批量\n'
)


def test_bulk_import_reports_each_row(client: Client, platform: Platform) -> None:
    sign_in(client, factories.participant(platform, roles=("provider",)).api_key)
    token = csrf_of(client.get("/console/catalog/resources/import"))
    upload = {"file": ("resources.csv", (CSV_HEADER + GOOD_ROW + BAD_ROW).encode(), "text/csv")}
    strict = client.post("/console/catalog/resources/import", data={"_csrf": token}, files=upload)
    assert strict.status_code == 422
    assert "未导入任何数据" in strict.text and 'data-row="2"' in strict.text
    assert catalog_rows(platform) == (0, 0, 0)
    partial = client.post(
        "/console/catalog/resources/import", data={"_csrf": token, "partial": "1"}, files=upload
    )
    assert partial.status_code == 200
    assert "已导入 1 条" in partial.text and "1 行未导入" in partial.text
    assert re.search(
        r'data-row="2"><td class="mono">2</td><td class="mono">fields\[0\]\.name', partial.text
    )
    assert catalog_rows(platform)[:2] == (1, 1)
    nothing = {"file": ("", b"", "application/octet-stream")}  # what a browser sends
    empty = client.post("/console/catalog/resources/import", data={"_csrf": token}, files=nothing)
    assert field_error(empty, "file") == "请选择要上传的文件"
    example = client.get("/console/catalog/resources/import/example.csv")
    assert example.headers["content-type"].startswith("text/csv")
    assert "title,description,fields" in example.text


# --- search: facets, filters in 元, sorts, pages --------------------------------------------


def test_search_filters_facets_and_pages(
    client: Client, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_demo(platform)
    sign_in(client, factories.participant(platform).api_key)
    everything = client.get("/console/catalog")
    assert "重点车辆实时轨迹" not in everything.text  # core data stays out of view
    assert "企业活力指数（一级开发产品）" not in results(everything)  # still under review
    products = client.get("/console/catalog", params={"type": "product", "sort": "price_desc"})
    prices = re.findall(r'<span class="price">([^<]*)</span>', products.text)
    assert prices[0] == "¥5,000.00"
    assert len(prices) == 5
    cheap = client.get("/console/catalog", params={"type": "product", "price_max": "2"})
    assert set(results(cheap)) == {"纳税信用隐私计算服务", "人伤医疗费用核验"}
    bad = client.get("/console/catalog", params={"price_min": "abc", "price_max": "1"})
    assert bad.status_code == 422
    assert field_error(bad, "price_min") == "金额须为不小于 0 的数字，最多两位小数"
    reversed_range = client.get("/console/catalog", params={"price_min": "9", "price_max": "1"})
    assert field_error(reversed_range, "price_min") == "最低价高于最高价"

    tagged = client.get(
        link(
            client.get("/console/catalog"),
            r'href="([^"]+)" class="facet-value" data-value="普惠金融"',
        )
    )
    assert set(results(tagged)) == {
        "纳税信用隐私计算服务",
        "企业用电指数（数据元件）",
        "企业登记与处罚信息数据集",
        "纳税信用等级与发票汇总",
    }
    both = client.get(link(tagged, r'href="([^"]+)" class="facet-value" data-value="important"'))
    assert set(results(both)) == {
        "纳税信用隐私计算服务",  # a product is graded as its most sensitive source
        "企业用电指数（数据元件）",
        "纳税信用等级与发票汇总",
    }
    assert re.search(r'class="chip chip-remove"[^>]*>#\s*普惠金融', both.text)

    monkeypatch.setattr(catalog_pages, "PAGE_SIZE", 3)
    first = client.get("/console/catalog", params={"type": "resource", "sort": "newest"})
    second = client.get(link(first, r'href="([^"]+)" rel="next"'))
    assert len(results(first)) == 3 and not set(results(first)) & set(results(second))
    assert "第一页" in second.text
    forged = client.get("/console/catalog", params={"cursor": "!!!"})
    assert forged.status_code == 422 and "分页游标无效" in forged.text


def test_unknown_pages_say_so(client: Client, platform: Platform) -> None:
    sign_in(client, factories.participant(platform).api_key)
    page = client.get(f"/console/catalog/products/{uuid.uuid4()}")
    assert page.status_code == 404
    assert "数据产品不存在" in page.text and "<html" in page.text
    assert client.get("/console/catalog/resources/new").status_code == 403


# --- language ----------------------------------------------------------------------------


def test_catalog_pages_in_english(client: Client, platform: Platform) -> None:
    seed_demo(platform)
    sign_in(client, factories.participant(platform).api_key)
    page = client.get("/console/catalog", params={"q": "税务", "lang": "en"})
    assert '<html lang="en">' in page.text
    assert "Catalogue" in page.text and "Important data" in page.text
    assert "Data product" in page.text and "Relevance" in page.text
    product = link(page, r'href="(/console/catalog/products/[^"]+)">纳税信用隐私计算服务')
    shown = client.get(product)
    assert offer_text(shown) == [
        "Purpose: 小微企业信贷风险评估; Max uses: 10000; "
        "Privacy budget: at most ε 3.0 per period; Budget period: monthly"
    ]
    assert "Permitted · Compute" in shown.text and "¥2.00 per call" in shown.text
    assert "用途" in offer_text(client.get(product + "?lang=zh-CN"))[0]


# --- pieces without a database ------------------------------------------------------------


def test_offers_are_built_described_and_read_back() -> None:
    builder = offers.Builder(
        action="compute",
        purpose="车险人伤理赔核验",
        valid_from="2026-01-01T00:00",
        valid_until="2026-12-31T23:59",
        max_uses="500000",
        regions="330300 330302",
        recipient_roles=["consumer"],
    )
    offer, faults = offers.build(builder)
    assert not faults and offer is not None
    constraints = offer["permission"][0]["constraint"]
    assert constraints[1]["rightOperand"] == "2026-01-01T00:00:00+08:00"
    assert constraints[4] == {
        "leftOperand": "spatial",
        "operator": "isAnyOf",
        "rightOperand": ["330300", "330302"],
    }
    lines = offers.describe(offer, "zh-CN")
    assert lines[0].rule == "许可 · 计算"
    assert lines[0].conditions == (
        "用途：车险人伤理赔核验；生效时间：2026-01-01 00:00 起；有效期至：2026-12-31 23:59；"
        "次数上限：500000；使用地域：330300、330302；使用方角色：使用方"
    )
    assert offers.to_builder(offer) == builder
    unusual = {
        "@type": "Offer",
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {
                        "or": [
                            {
                                "leftOperand": "recipientKind",
                                "operator": "eq",
                                "rightOperand": "enterprise",
                            },
                            {
                                "leftOperand": "elapsedTime",
                                "operator": "lteq",
                                "rightOperand": "P30D",
                            },
                        ]
                    }
                ],
                "duty": [
                    {
                        "action": "compensate",
                        "constraint": [
                            {"leftOperand": "payAmount", "operator": "eq", "rightOperand": "120000"}
                        ],
                    }
                ],
            }
        ],
        "prohibition": [{"action": "distribute"}],
    }
    assert offers.to_builder(unusual) is None  # edited as JSON instead
    said = offers.describe(unusual, "zh-CN")
    assert said[0].conditions == (
        "满足其一（使用方主体类型：企业；合约生效后期限：30 天）；"
        "义务：支付对价（支付金额：¥1,200.00）"
    )
    assert said[1].rule == "禁止 · 分发" and said[1].conditions == "无附加条件"


def test_money_in_yuan_becomes_fen() -> None:
    assert parse_yuan("5,000") == (500_000, None)
    assert parse_yuan("¥12.5") == (1250, None)
    assert parse_yuan("0.01") == (1, None)
    assert parse_yuan("") == (None, None)
    for bad in ("1.001", "-3", "abc", "NaN", "1e3000"):
        assert parse_yuan(bad)[1] is not None
    assert offers.yuan(123456789) == "¥1,234,567.89"


def test_every_catalog_code_has_words_in_both_languages() -> None:
    families = {
        "doctype": Literal["resource", "product"],
        "pkind": schemas.ProductKind,
        "class": schemas.Classification,
        "freq": schemas.Frequency,
        "pmodel": schemas.PriceModel,
        "pstatus": schemas.ProductStatus,
        "period": Literal["month", "quarter", "year"],
        "reviewstep": Literal["submitted", "returned", "listed", "delisted"],
        "loc": Literal["file", "sql", "http"],
        "industry": Literal[tuple("ABCDEFGHIJKLMNOPQRST")],  # type: ignore[valid-type]
    }
    wanted = {f"{family}.{code}" for family, kind in families.items() for code in get_args(kind)}
    wanted |= {f"odrl_action.{a}" for a in offers.ACTIONS}
    wanted |= {entry.label for entry in nav.NAV}
    # Keys passed to the form macros as strings ("resource.title" …) as well as t("…").
    for template in (TEMPLATES / "catalog").glob("*.html"):
        wanted |= set(
            re.findall(
                r"""["']((?:resource|product|policy|catalog|import|review)\.[a-z_]+)["']""",
                template.read_text(),
            )
        )
    for language in i18n.LANGUAGES:
        missing = wanted - set(i18n.MESSAGES[language])
        assert not missing, f"{language} lacks {sorted(missing)}"
