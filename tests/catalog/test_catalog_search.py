"""Search (目录检索): Chinese and English full text, filters, facets, sorts, visibility.

One data set per backend (see ``cast`` in conftest.py); every test only reads it, and every
expectation is a literal set of ids, so SQLite and PostgreSQL must give the same answers.

The data: the market regulator (甲), the tax bureau (乙) and a power company (丙).

=========  ==========================  ======  ===========  ======  ==========  ==========
name       title                       owner   class        ind.    region      status
=========  ==========================  ======  ===========  ======  ==========  ==========
reg        企业登记信息                 甲      general      L72     330302      resource
pen        行政处罚信息                 甲      general      S92     330303      resource
tax        纳税信用等级与发票汇总         乙      important    S92     330302      resource
elec       企业月度用电量               丙      general      D44     330304      resource
core       重点税源企业实时征管数据        乙      core         S92     330302      resource
p_reg      企业登记数据集               甲      (reg)                            listed
p_free     企业登记信息查询接口          甲      (reg)                            listed
p_tax      纳税信用隐私计算服务          乙      (tax)                            listed
p_elec     企业用电指数（数据元件）        丙      (elec)                           listed
p_draft    企业登记草稿产品              甲      (reg)                            draft
p_sub      企业登记待审产品              甲      (reg)                            submitted
p_ret      纳税信用明细数据              乙      (tax)                            returned
p_gone     企业用电明细                 丙      (elec)                           delisted
=========  ==========================  ======  ===========  ======  ==========  ==========
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from catalog_factories import field, offer, resource_body
from catalog_support import (
    PRODUCTS,
    SEARCH,
    Client,
    draft,
    found,
    register,
    review,
    search,
    submit,
    walk,
)
from catalog_support import listed as listed_by

import factories
from conftest import Cast
from shuchang.domains.catalog import search as catalog_search


@dataclass
class Catalog:
    cast: Cast
    power: factories.Member
    ids: dict[str, str]  # name in the table above → id

    def of(self, *names: str) -> set[str]:
        return {self.ids[n] for n in names}

    @property
    def client(self) -> Client:
        return self.cast.client


CONSUMER_SEES = ("reg", "pen", "tax", "elec", "p_reg", "p_free", "p_tax", "p_elec")


def _resources(c: Cast, power: factories.Member) -> dict[str, str]:
    client = c.client
    return {
        "reg": register(client, c.provider, resource_body(
            title="企业登记信息", title_en="Enterprise registrations",
            description="东瓯市市场主体登记信息：统一社会信用代码、名称、所属区县与成立日期。",
            description_en="Registered market entities of Dong'ou with founding dates.",
            industry="L72", regions=["330302"], tags=["企业登记", "市场主体"]))["id"],
        "pen": register(client, c.provider, resource_body(
            title="行政处罚信息", title_en="Administrative penalties",
            description="市场监管领域行政处罚决定：处罚对象、违法类型、罚没金额与决定日期。",
            description_en="Penalty decisions of market regulation.",
            fields=[field("violation_type", "string", "违法类型", role="dimension"),
                    field("fine_fen", "integer", "罚没金额（分）", role="measure")],
            industry="S92", regions=["330303"], tags=["行政处罚", "信用"]))["id"],
        "tax": register(client, c.other_provider, resource_body(
            title="纳税信用等级与发票汇总", title_en="Tax credit grades and invoice totals",
            description="国家税务总局东瓯市税务局提供的纳税信用等级与月度发票开具金额。",
            description_en="Credit grades A to D and monthly VAT invoice totals.",
            fields=[field("credit_grade", "string", "纳税信用等级", role="dimension"),
                    field("invoice_total_fen", "integer", "月度开票金额（分）", role="measure")],
            classification="important", industry="S92", regions=["330302"],
            tags=["税务", "纳税信用"]))["id"],
        "elec": register(client, power, resource_body(
            title="企业月度用电量", title_en="Monthly electricity use per enterprise",
            description="工商业用户月度用电量（千瓦时），由智能电表读数汇总。",
            description_en="Metered monthly electricity use of businesses, in kWh.",
            fields=[field("kwh", "decimal", "用电量（千瓦时）", role="measure")],
            industry="D44", regions=["330304"], tags=["电力", "用电量"]))["id"],
        "core": register(client, c.other_provider, resource_body(
            title="重点税源企业实时征管数据", title_en="Real-time collection data of key taxpayers",
            description="国家税务总局东瓯市税务局重点税源企业的实时征管数据，属核心数据。",
            description_en="Core data of the tax bureau, never opened.",
            classification="core", industry="S92", regions=["330302"],
            tags=["税务", "征管"]))["id"],
    }  # fmt: skip


def _products(c: Cast, power: factories.Member, r: dict[str, str]) -> dict[str, str]:
    client, op = c.client, c.operator

    def listed(*args: Any, **body: Any) -> dict[str, Any]:
        return listed_by(*args, description_en=None, **body)

    ids = {
        "p_reg": listed(client, c.provider, op, [r["reg"]],
            kind="dataset", title="企业登记数据集", title_en="Enterprise registrations dataset",
            description="面向金融机构的企业登记数据集，按日更新，经连接器按合约交付。",
            price={"model": "subscription", "amount_fen": 500000, "period": "year"},
            tags=["企业登记", "普惠金融"])["id"],
        "p_free": listed(client, c.provider, op, [r["reg"]],
            kind="api", title="企业登记信息查询接口", title_en="Registration lookup API",
            description="按统一社会信用代码查询企业登记信息的公共接口，免费开放。",
            price={"model": "free", "amount_fen": 0}, tags=["企业登记"])["id"],
        "p_tax": listed(client, c.other_provider, op, [r["tax"]],
            kind="compute_only", title="纳税信用隐私计算服务",
            title_en="Tax credit privacy-preserving computation",
            description="在国家税务总局东瓯市税务局连接器侧运行经批准的聚合计算，结果不含单个企业数据。",
            policy=offer("compute"), price={"model": "per_call", "amount_fen": 200},
            tags=["税务", "隐私计算", "普惠金融"])["id"],
        "p_elec": listed(client, power, op, [r["elec"]],
            kind="data_element", title="企业用电指数（数据元件）",
            title_en="Enterprise electricity-use index",
            description="由月度用电量计算的企业用电指数，按行业基准归一化到零至一百。",
            transformation="按行业中位数归一化；去除直接标识符。",
            price={"model": "subscription", "amount_fen": 120000, "period": "month"},
            tags=["电力", "数据元件"])["id"],
    }  # fmt: skip
    ids["p_draft"] = draft(client, c.provider, [r["reg"]], title="企业登记草稿产品")["id"]
    ids["p_sub"] = draft(client, c.provider, [r["reg"]], title="企业登记待审产品")["id"]
    submit(client, c.provider, ids["p_sub"])
    ids["p_ret"] = draft(client, c.other_provider, [r["tax"]], title="纳税信用明细数据")["id"]
    submit(client, c.other_provider, ids["p_ret"])
    review(client, op, ids["p_ret"], "return", ["明细数据须改为隐私计算方式提供"])
    ids["p_gone"] = listed(client, power, op, [r["elec"]], title="企业用电明细")["id"]
    client.post(f"{PRODUCTS}/{ids['p_gone']}/delist", headers=power.headers)
    return ids


@pytest.fixture(scope="module")
def catalog(cast: Cast) -> Catalog:
    power = factories.participant(cast.platform, roles=("provider",), name="东瓯电力有限公司")
    resources = _resources(cast, power)
    return Catalog(cast, power, {**resources, **_products(cast, power, resources)})


# --- full text ------------------------------------------------------------------------------

TEXT = {
    "税务局": ("tax", "p_tax"),
    "东瓯市税务局": ("tax", "p_tax"),
    "税务": ("tax", "p_tax"),
    "纳税信用": ("tax", "p_tax"),
    "企业登记": ("reg", "p_reg", "p_free"),
    "行政处罚": ("pen",),
    "千瓦时": ("elec",),
    "务税": (),
    "局税": (),
    "登记企业": (),
    "Electricity": ("elec", "p_elec"),
    "registrations": ("reg", "p_reg"),
    "REGISTRATIONS dataset": ("p_reg",),
    "credit_grade": ("tax", "p_tax"),
    "invoice_total_fen": ("tax", "p_tax"),
    "kwh": ("elec", "p_elec"),
    "企业 电力": ("elec", "p_elec"),
    "企业 税务": ("p_tax",),
    "税务 violation_type": (),
}


@pytest.mark.parametrize(("q", "names"), TEXT.items(), ids=TEXT.keys())
def test_full_text_finds_exactly_the_texts_that_contain_the_words(
    catalog: Catalog, q: str, names: tuple[str, ...]
) -> None:
    assert found(catalog.client, catalog.cast.consumer, q) == catalog.of(*names)


def test_one_han_character_finds_the_words_it_begins(catalog: Catalog) -> None:
    consumer = catalog.cast.consumer

    assert found(catalog.client, consumer, "税") == catalog.of("tax", "p_tax")
    assert found(catalog.client, consumer, "罚") == catalog.of("pen")
    assert found(catalog.client, consumer, "瓯") == found(catalog.client, consumer, "瓯市")


def test_tags_and_field_descriptions_are_searchable(catalog: Catalog) -> None:
    consumer = catalog.cast.consumer

    assert found(catalog.client, consumer, "隐私计算") == catalog.of("p_tax")
    assert found(catalog.client, consumer, "违法类型") == catalog.of("pen")


# --- filters --------------------------------------------------------------------------------

FILTERS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "everything": ({}, CONSUMER_SEES),
    "resources": ({"type": "resource"}, ("reg", "pen", "tax", "elec")),
    "products": ({"type": "product"}, ("p_reg", "p_free", "p_tax", "p_elec")),
    "kind": ({"kind": "compute_only"}, ("p_tax",)),
    "classification": ({"classification": "important"}, ("tax", "p_tax")),
    "core, as a consumer": ({"classification": "core"}, ()),
    "industry section": ({"industry": "S"}, ("pen", "tax", "p_tax")),
    "industry division": ({"industry": "L72"}, ("reg", "p_reg", "p_free")),
    "industry nobody has": ({"industry": "C"}, ()),
    "one tag": ({"tag": "企业登记"}, ("reg", "p_reg", "p_free")),
    "two tags": ({"tag": ["企业登记", "普惠金融"]}, ("p_reg",)),
    "price range": ({"price_min": 100, "price_max": 200000}, ("p_tax", "p_elec")),
    "free": ({"price_max": 0}, ("p_free",)),
    "county": ({"region": "330304"}, ("elec", "p_elec")),
    "city prefix": ({"region": "3303"}, CONSUMER_SEES),
    "text and filters": ({"q": "企业", "type": "product", "price_max": 0}, ("p_free",)),
}


@pytest.mark.parametrize(("params", "names"), FILTERS.values(), ids=FILTERS.keys())
def test_filters(catalog: Catalog, params: dict[str, Any], names: tuple[str, ...]) -> None:
    assert found(catalog.client, catalog.cast.consumer, **params) == catalog.of(*names)


def test_the_provider_filter(catalog: Catalog) -> None:
    c = catalog.cast

    assert found(c.client, c.consumer, provider=str(c.provider.id)) == catalog.of(
        "reg", "pen", "p_reg", "p_free"
    )
    assert found(c.client, c.operator, provider=str(c.other_provider.id)) == catalog.of(
        "tax", "core", "p_tax", "p_ret"
    )
    assert found(c.client, c.operator, provider=str(uuid.uuid4())) == set()


# --- facets ---------------------------------------------------------------------------------


def facet_counts(page: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {
        name: {v["value"]: v["count"] for v in values} for name, values in page["facets"].items()
    }


def test_facets_count_what_the_viewer_may_see(catalog: Catalog) -> None:
    page = search(catalog.client, catalog.cast.consumer, limit=1)

    assert page["facets_exact"] is True
    assert facet_counts(page) == {
        "doc_type": {"resource": 4, "product": 4},
        "kind": {"dataset": 1, "api": 1, "compute_only": 1, "data_element": 1},
        "classification": {"general": 6, "important": 2},
        "industry": {"L72": 3, "S92": 3, "D44": 2},
        "region": {"330302": 5, "330303": 1, "330304": 2},
        "tag": {
            "企业登记": 3, "普惠金融": 2, "税务": 2, "电力": 2, "市场主体": 1, "行政处罚": 1,
            "信用": 1, "纳税信用": 1, "隐私计算": 1, "数据元件": 1, "用电量": 1,
        },
    }  # fmt: skip
    top = [v["value"] for v in page["facets"]["tag"]][:1]
    assert top == ["企业登记"]  # most frequent first


def test_facets_follow_the_query_and_the_filters(catalog: Catalog) -> None:
    c = catalog.cast

    by_text = facet_counts(search(c.client, c.consumer, q="税务"))
    by_filter = facet_counts(search(c.client, c.operator, classification="core"))

    assert by_text["doc_type"] == {"resource": 1, "product": 1}
    assert by_text["tag"] == {"税务": 2, "纳税信用": 1, "隐私计算": 1, "普惠金融": 1}
    assert by_filter["classification"] == {"core": 1}
    assert by_filter["tag"] == {"税务": 1, "征管": 1}


def test_beyond_the_window_facets_say_approximate_and_relevance_ranks_the_newest_matches(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_search, "WINDOW", 3)
    c = catalog.cast

    every_match = walk(c.client, c.consumer, 2, q="企业", sort="newest")
    ranked = walk(c.client, c.consumer, 2, q="企业")
    page = search(c.client, c.consumer, q="企业")

    assert len(every_match) > 3  # newest order still pages through all of them
    assert len(ranked) == 3 and set(ranked) <= set(every_match)
    assert page["facets_exact"] is False
    assert sum(v["count"] for v in page["facets"]["doc_type"]) == 3


# --- sorts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "names"),
    [
        ("price_asc", ["p_free", "p_tax", "p_elec", "p_reg"]),
        ("price_desc", ["p_reg", "p_elec", "p_tax", "p_free"]),
        ("newest", ["p_elec", "p_tax", "p_free", "p_reg"]),
    ],
)
def test_products_sort_by_price_or_recency(catalog: Catalog, sort: str, names: list[str]) -> None:
    page = search(catalog.client, catalog.cast.consumer, type="product", sort=sort)

    assert [hit["id"] for hit in page["items"]] == [catalog.ids[n] for n in names]
    prices = [hit["price_fen"] for hit in page["items"]]
    assert prices == sorted(prices, reverse=sort == "price_desc") or sort == "newest"


def test_newest_resources_come_first(catalog: Catalog) -> None:
    page = search(catalog.client, catalog.cast.consumer, type="resource", sort="newest")

    assert [hit["id"] for hit in page["items"]] == [
        catalog.ids[n] for n in ("elec", "tax", "pen", "reg")
    ]


def test_relevance_is_the_default_and_finds_the_same_set(catalog: Catalog) -> None:
    consumer = catalog.cast.consumer
    by_relevance = search(catalog.client, consumer, q="企业", limit=100)
    newest = search(catalog.client, consumer, q="企业", sort="newest", limit=100)

    assert {h["id"] for h in by_relevance["items"]} == {h["id"] for h in newest["items"]}
    assert len(by_relevance["items"]) == len({h["id"] for h in by_relevance["items"]})


def test_a_hit_says_what_it_is(catalog: Catalog) -> None:
    page = search(catalog.client, catalog.cast.consumer, q="纳税信用隐私计算服务")

    [hit] = page["items"]
    assert {k: hit[k] for k in ("doc_type", "kind", "classification", "industry", "price_fen")} == {
        "doc_type": "product",
        "kind": "compute_only",
        "classification": "important",
        "industry": "S92",
        "price_fen": 200,
    }
    assert (hit["provider_id"], hit["title"]) == (
        str(catalog.cast.other_provider.id),
        "纳税信用隐私计算服务",
    )
    assert hit["tags"] == sorted(["税务", "隐私计算", "普惠金融"])
    assert "location" not in hit


# --- who sees what --------------------------------------------------------------------------


def test_consumers_never_see_core_data_or_unlisted_products(catalog: Catalog) -> None:
    c = catalog.cast

    assert found(c.client, c.consumer) == catalog.of(*CONSUMER_SEES)
    for q in ("征管", "草稿", "待审", "明细", "企业用电明细"):
        assert found(c.client, c.consumer, q) == set(), q


def test_oversight_sees_core_data_and_delisted_products(catalog: Catalog) -> None:
    c = catalog.cast
    # and unlisted products: every product is indexed, visible to consumers only when listed
    everything = catalog.of(*CONSUMER_SEES, "core", "p_gone", "p_draft", "p_sub", "p_ret")

    for member in (c.operator, c.regulator):
        assert found(c.client, member) == everything
        assert found(c.client, member, "税务局") == catalog.of("tax", "core", "p_tax")


def test_providers_also_find_their_own_hidden_entries(catalog: Catalog) -> None:
    c = catalog.cast

    assert catalog.ids["core"] in found(c.client, c.other_provider, "征管")
    assert catalog.ids["p_gone"] in found(c.client, catalog.power, "明细")
    assert catalog.ids["core"] not in found(c.client, c.provider, "征管")


def test_oversight_and_owners_find_products_in_every_status(catalog: Catalog) -> None:
    c = catalog.cast
    unlisted = catalog.of("p_draft", "p_sub", "p_ret")

    assert unlisted <= found(c.client, c.operator)
    assert catalog.of("p_draft", "p_sub") <= found(c.client, c.provider, "企业登记")


# --- odd queries ----------------------------------------------------------------------------

SAME_AS = {
    '"企业登记"': "企业登记",
    "企业登记*": "企业登记",
    "-税务": "税务",
    "税务)": "税务",
    "😀税务": "税务",
    "（税务）": "税务",
    "ＯＲ 税务": "税务",
}


@pytest.mark.parametrize(("odd", "plain"), SAME_AS.items(), ids=SAME_AS.keys())
def test_query_syntax_is_just_text(catalog: Catalog, odd: str, plain: str) -> None:
    consumer = catalog.cast.consumer

    assert found(catalog.client, consumer, odd) == found(catalog.client, consumer, plain)


NOTHING = [
    "NEAR(企业 税务)",
    "企业 OR 电力",
    "企业 AND",
    "title:税务",
    "'; DROP TABLE catalog_entries; --",
    "税" * 200,
    "a" * 200,
    "登记" * 100,
]


@pytest.mark.parametrize("q", NOTHING, ids=lambda q: q[:20])
def test_odd_queries_find_only_what_contains_them(catalog: Catalog, q: str) -> None:
    c = catalog.cast

    assert found(c.client, c.consumer, q) == set()
    assert found(c.client, c.consumer) == catalog.of(*CONSUMER_SEES)  # and nothing was dropped


@pytest.mark.parametrize("q", ["*", "-", ":", "'", '"', "😀", "（）", "***"])
def test_a_query_of_only_symbols_does_not_match_everything(catalog: Catalog, q: str) -> None:
    response = catalog.client.get(SEARCH, params={"q": q}, headers=catalog.cast.consumer.headers)

    assert response.status_code == 422 or response.json()["items"] == []


def test_a_ninth_word_still_counts(catalog: Catalog) -> None:
    response = catalog.client.get(
        SEARCH, params={"q": "税务 " * 8 + "电力"}, headers=catalog.cast.consumer.headers
    )

    assert response.status_code == 422 or response.json()["items"] == []


def test_a_nul_character_is_refused(catalog: Catalog) -> None:
    response = catalog.client.get(
        SEARCH, params={"q": "税务\x00"}, headers=catalog.cast.consumer.headers
    )

    assert (response.status_code, response.json()["code"]) == (422, "request.nul_character")


# --- prefix filters -------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{"industry": "%"}, {"region": "_"}])
def test_like_wildcards_in_prefix_filters_are_plain_characters(
    catalog: Catalog, params: dict[str, str]
) -> None:
    assert found(catalog.client, catalog.cast.consumer, **params) == set()
