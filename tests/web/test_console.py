"""The console (控制台) through HTTP: sign-in, application form, directory, approval, language."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Literal, get_args

import pytest
from web_support import (
    Client,
    csrf_of,
    field_error,
    form_token,
    participant_count,
    post_form,
    sign_in,
)

import factories
from shuchang.domains.participants import schemas, service
from shuchang.domains.participants.schemas import SYSTEM, StatusChange
from shuchang.platform import Platform
from shuchang.web import i18n
from shuchang.web import participants as participant_pages

TEMPLATES = Path(i18n.__file__).parent / "templates"


# --- signing in and out ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/console/", "/console/participants", "/console/participants/" + "0" * 32]
)
def test_pages_redirect_to_login_when_signed_out(client: Client, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=")


def test_login_and_register_pages_are_public(client: Client) -> None:
    assert client.get("/console/login").status_code == 200
    assert client.get("/console/participants/new").status_code == 200


def test_good_key_signs_in_and_shows_the_user(client: Client, platform: Platform) -> None:
    operator = factories.operator(platform)
    response = sign_in(client, operator.api_key)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"
    page = client.get("/console/")
    assert "测试市数据局" in page.text
    assert "运营者" in page.text
    assert "退出登录" in page.text


def test_bad_key_shows_the_form_again_with_the_reason(client: Client) -> None:
    token = form_token(client)
    response = post_form(client, "/console/login", token, api_key="sck_00000000_nonsense")
    assert response.status_code == 401
    assert field_error(response, "api_key") == "API 密钥无效"
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_login_goes_back_to_the_page_asked_for(client: Client, platform: Platform) -> None:
    operator = factories.operator(platform)
    token = form_token(client, "/console/login?next=/console/participants")
    response = post_form(
        client, "/console/login", token, api_key=operator.api_key, next="/console/participants"
    )
    assert response.headers["location"] == "/console/participants"
    token = form_token(client)  # signing in gives the session a new form token
    response = post_form(
        client, "/console/login", token, api_key=operator.api_key, next="https://evil.example/"
    )
    assert response.headers["location"] == "/console/"


def test_a_form_without_its_token_is_refused(client: Client, platform: Platform) -> None:
    operator = factories.operator(platform)
    client.get("/console/login")
    response = client.post("/console/login", data={"api_key": operator.api_key})
    assert response.status_code == 403
    assert response.json()["code"] == "console.csrf"
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_logout_clears_the_session(client: Client, platform: Platform) -> None:
    sign_in(client, factories.operator(platform).api_key)
    token = csrf_of(client.get("/console/"))
    response = post_form(client, "/console/logout", token)
    assert response.status_code == 303
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_a_suspended_participant_is_signed_out_with_the_reason(
    client: Client, platform: Platform
) -> None:
    member = factories.participant(platform)
    sign_in(client, member.api_key)
    with platform.unit() as s:
        service.change_status(s, SYSTEM, member.id, StatusChange(action="suspend"))
    response = client.get("/console/", follow_redirects=False)
    assert response.status_code == 303
    login = client.get(response.headers["location"])
    assert "不是已启用" in login.text


# --- the application form -----------------------------------------------------------------


def _application(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    fields: dict[str, str | list[str]] = {
        "kind": "enterprise",
        "name": "东瓯测试数据科技有限公司",
        "name_en": "Dong'ou Test Data Co., Ltd.",
        "identifier": factories.uscc(),
        "region": "330300",
        "roles": ["provider", "consumer"],
    }
    fields.update(overrides)
    return fields


def test_application_is_verified_and_shows_the_key_once(client: Client, platform: Platform) -> None:
    before = participant_count(platform)
    token = form_token(client, "/console/participants/new")
    page = post_form(client, "/console/participants/new", token, **_application())
    assert page.status_code == 200
    assert participant_count(platform) == before + 1
    decision = re.search(r'id="decision">(.*?)</dd>', page.text, re.S)
    assert decision and "已核验" in decision.group(1)
    assert "已核验待审批" in page.text
    for step in ("证件号码核验", "重复登记检查", "资质凭证核验"):
        assert step in page.text
    assert "统一社会信用代码格式与校验位正确" in page.text
    assert re.search(r'id="api-key">sck_\w{8}_[\w-]+<', page.text)
    assert "只显示这一次" in page.text


def test_identifier_typed_in_groups_or_full_width_is_stored_normalised(
    client: Client, platform: Platform
) -> None:
    token = form_token(client, "/console/participants/new")
    code = factories.uscc()
    grouped = f"{code[:6]} {code[6:12]} {code[12:]}"
    page = post_form(client, "/console/participants/new", token, **_application(identifier=grouped))
    assert f'<dd class="mono">{code}</dd>' in page.text
    full_width = code.translate({cp - 0xFEE0: cp for cp in range(0xFF01, 0xFF5F)})
    again = post_form(
        client, "/console/participants/new", token, **_application(identifier=full_width)
    )
    assert "该证件号码已有在册参与方" in again.text  # the duplicate step saw the same code


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"credential": "{not json"}, "credential", "不是合法的 JSON 对象"),
        ({"credential": "[1, 2]"}, "credential", "不是合法的 JSON 对象"),
        ({"name": ""}, "name", "请填写此项"),
        ({"roles": []}, "roles", "请填写此项"),
        ({"name": "长" * 201}, "name", "文本过长：最多 200 个字符"),
        ({"region": "12345"}, "region", "应为 6 位行政区划代码"),
        ({"contact_email": "nobody"}, "contact_email", "邮箱格式不正确"),
        ({"name": "   "}, "name", "请填写此项"),
        ({"identifier": "9" * 30}, "identifier", None),
        ({"kind": "martian"}, "kind", None),
        ({"roles": ["pirate"]}, "roles", None),
        ({"roles": ["provider"] * 6}, "roles", "列表过长：最多 5 项"),
        ({"credential": "null"}, "credential", "不是合法的 JSON 对象"),
        ({"roles": ["operator"]}, "roles", "只有运营者可以登记运营者或监管方角色"),
    ],
)
def test_bad_application_is_shown_again_and_nothing_is_written(
    client: Client,
    platform: Platform,
    overrides: dict[str, str | list[str]],
    field: str,
    message: str | None,
) -> None:
    before = participant_count(platform)
    token = form_token(client, "/console/participants/new")
    fields = _application(**overrides)
    page = post_form(client, "/console/participants/new", token, **fields)
    assert page.status_code in (403, 422)
    shown = field_error(page, field)
    assert shown is not None
    if message is not None:
        assert shown == message
    assert participant_count(platform) == before
    if str(fields["name"]).strip():
        assert f'value="{fields["name"]}"' in page.text  # what was typed stays in the form


def test_an_empty_post_is_a_problem_not_a_server_error(client: Client) -> None:
    client.get("/console/participants/new")
    response = client.post("/console/participants/new")
    assert response.status_code in (400, 403)
    assert response.headers["content-type"].startswith("application/problem+json")


def test_live_identifier_check_says_why(client: Client) -> None:
    token = form_token(client, "/console/participants/new")
    path = "/console/participants/check-identifier"
    code = factories.uscc()
    good = post_form(client, path, token, kind="enterprise", identifier=code)
    assert 'data-valid="true"' in good.text
    assert "校验位正确" in good.text
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    bad = post_form(client, path, token, kind="enterprise", identifier=typo)
    assert 'data-valid="false"' in bad.text
    wrong_kind = post_form(client, path, token, kind="individual", identifier=code)
    assert 'data-valid="false"' in wrong_kind.text
    empty = post_form(client, path, token, kind="enterprise", identifier="")
    assert "data-valid" not in empty.text
    client.get("/console/login?lang=en")
    english = post_form(client, path, token, kind="enterprise", identifier=code)
    assert "Format and check digits valid" in english.text


# --- directory, detail and the operator's decisions ----------------------------------------


def _awaiting(platform: Platform) -> factories.Member:
    manual = service.OnboardingRules(review_rule="lenient", approval="manual")
    member = factories.participant(platform, roles=("provider",), rules=manual)
    assert member.status == "verified"
    return member


def test_operator_finds_and_approves_a_participant(client: Client, platform: Platform) -> None:
    applicant = _awaiting(platform)
    sign_in(client, factories.operator(platform).api_key)
    listing = client.get("/console/participants", params={"q": applicant.name})
    assert f"/console/participants/{applicant.id}" in listing.text
    assert "已核验待审批" in listing.text

    detail = client.get(f"/console/participants/{applicant.id}")
    assert 'value="approve"' in detail.text
    assert "接入登记" in detail.text  # evidence history
    response = post_form(
        client,
        f"/console/participants/{applicant.id}/status",
        csrf_of(detail),
        action="approve",
        reason="材料齐全",
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/participants/{applicant.id}"
    after = client.get(response.headers["location"])
    status = re.search(r'<span id="status">(.*?)</span></h1>', after.text, re.S)
    assert status and "已启用" in status.group(1)
    assert "批准成功" in after.text
    assert "状态变更" in after.text and "材料齐全" in after.text
    assert 'value="approve"' not in after.text
    assert 'value="suspend"' in after.text


def test_an_impossible_step_shows_the_problem(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    sign_in(client, factories.operator(platform).api_key)
    token = csrf_of(client.get(f"/console/participants/{member.id}"))
    path = f"/console/participants/{member.id}/status"
    response = post_form(client, path, token, action="approve")
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "flash-error" in page.text and "不能批准" in page.text
    response = post_form(client, path, token, action="explode")
    assert "flash-error" in client.get(response.headers["location"]).text


@pytest.mark.parametrize("make_viewer", [factories.participant, factories.regulator])
def test_only_the_operator_may_change_a_status(
    client: Client, platform: Platform, make_viewer: object
) -> None:
    applicant = _awaiting(platform)
    viewer = make_viewer(platform)  # type: ignore[operator]
    sign_in(client, viewer.api_key)
    own = client.get(f"/console/participants/{viewer.id}")
    assert own.status_code == 200
    assert 'name="action"' not in own.text
    response = post_form(
        client, f"/console/participants/{applicant.id}/status", csrf_of(own), action="approve"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "role.forbidden"
    assert client.get(f"/console/participants/{applicant.id}").status_code in (200, 403)


def test_directory_pages_with_a_cursor(
    client: Client, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(participant_pages, "PAGE_SIZE", 2)
    names = {factories.participant(platform).name for _ in range(3)}
    sign_in(client, factories.operator(platform).api_key)
    first = client.get("/console/participants", params={"q": "测试企业"})
    next_link = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_link
    second = client.get(next_link.group(1).replace("&amp;", "&"))
    shown = {n for n in names if n in first.text} | {n for n in names if n in second.text}
    assert shown == names
    assert 'rel="next"' not in second.text


def test_dashboard_counts_for_the_operator_and_own_status_for_others(
    client: Client, platform: Platform
) -> None:
    applicant = _awaiting(platform)
    sign_in(client, factories.operator(platform).api_key)
    page = client.get("/console/")
    assert re.search(r'data-status="verified">1<', page.text)
    assert re.search(r'data-status="active">1<', page.text)
    token = csrf_of(page)
    post_form(client, "/console/logout", token)
    sign_in(client, applicant.api_key)
    own = client.get("/console/")
    assert "等待运营者审批" in own.text
    assert '/console/participants"' not in own.text  # no directory entry while waiting


# --- language ----------------------------------------------------------------------------


def test_language_switch_is_remembered(client: Client, platform: Platform) -> None:
    sign_in(client, factories.operator(platform).api_key)
    assert "概览" in client.get("/console/").text
    english = client.get("/console/?lang=en")
    assert '<html lang="en">' in english.text
    assert "Participants by status" in english.text and "Log out" in english.text
    assert "Participants" in client.get("/console/participants").text
    assert "参与方状态统计" in client.get("/console/?lang=zh-CN").text


def test_every_message_key_in_the_templates_exists_in_both_languages() -> None:
    used: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        found = re.findall(r"""\bt\(\s*["']([\w.]+)["']""", template.read_text())
        used |= {key for key in found if not key.endswith(".")}
    assert used, "no t() calls found"
    # Keys built from a domain code ("status." ~ p.status): every code the domain defines.
    families = {
        "status": schemas.Status,
        "kind": schemas.Kind,
        "role": schemas.Role,
        "action": schemas.Action,
        "decision": schemas.Decision,
        "result": Literal["pass", "fail", "review", "skip"],
        "step": Literal["identifier", "duplicate", "credential"],
    }
    used |= {f"{family}.{code}" for family, kind in families.items() for code in get_args(kind)}
    for language in i18n.LANGUAGES:
        missing = used - set(i18n.MESSAGES[language])
        assert not missing, f"{language} lacks {sorted(missing)}"
    assert set(i18n.MESSAGES["zh-CN"]) == set(i18n.MESSAGES["en"])


def test_evidence_payload_is_readable_json(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    sign_in(client, factories.operator(platform).api_key)
    page = client.get(f"/console/participants/{member.id}")
    payload = re.search(r'<code class="payload">(.*?)</code>', page.text, re.S)
    assert payload
    assert json.loads(html.unescape(payload.group(1)))["status"] == "active"
