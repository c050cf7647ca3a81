"""Relevance (the default order with a query): title hits first, then the most recent."""

from __future__ import annotations

from catalog_factories import resource_body
from catalog_support import Client, register, search

from factories import Member


def test_entries_naming_the_words_in_their_title_come_first(
    client: Client, provider: Member, consumer: Member
) -> None:
    def add(title: str, description: str) -> str:
        body = resource_body(title=title, description=description, tags=["排序"])
        rid: str = register(client, provider, body)["id"]
        return rid

    old_title = add("港口吞吐量月报", "东瓯港各港区的月度货物吞吐量。")
    only_text = add("港航运行统计", "含港口吞吐量、集装箱量与船舶靠泊次数。")
    new_title = add("港口吞吐量日报", "每日货物吞吐量。")
    both_words = add("港口吞吐量与集装箱量", "港区统计。")

    page = search(client, consumer, q="港口吞吐量 集装箱", tag="排序")
    one_word = search(client, consumer, q="港口吞吐量", tag="排序")

    assert [h["id"] for h in page["items"]] == [both_words, only_text]
    assert [h["id"] for h in one_word["items"]] == [both_words, new_title, old_title, only_text]
