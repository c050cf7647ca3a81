"""The console's message catalogue (界面文案): zh-CN first, English second.

Every visible string of the console is a key here, in both languages; templates call
``t("key")``. Codes the domains store (statuses, kinds, step names, evidence kinds) are looked
up as ``status.<code>`` and so on, and fall back to the code itself when no entry exists, so a
new domain's code shows as-is instead of breaking a page.
"""

from __future__ import annotations

from typing import Final, Literal

Language = Literal["zh-CN", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("zh-CN", "en")

_PAIRS: Final[dict[str, tuple[str, str]]] = {
    # frame
    "app.name": ("数场", "Shuchang"),
    "app.tagline": ("可信数据空间", "Trusted data space"),
    "app.console": ("控制台", "Console"),
    "lang.switch": ("English", "中文"),
    "nav.dashboard": ("概览", "Overview"),
    "nav.participants": ("参与方", "Participants"),
    "nav.catalog": ("资源目录", "Catalogue"),
    "nav.contracts": ("合约", "Contracts"),
    "nav.evidence": ("存证", "Evidence"),
    "user.signed_in_as": ("当前用户", "Signed in as"),
    "user.logout": ("退出登录", "Log out"),
    "common.save": ("保存", "Save"),
    "common.search": ("搜索", "Search"),
    "common.all": ("全部", "All"),
    "common.none": ("无", "None"),
    "common.back": ("返回", "Back"),
    "common.next_page": ("下一页", "Next page"),
    "common.first_page": ("第一页", "First page"),
    "common.optional": ("选填", "optional"),
    "filter.any_kind": ("全部主体类型", "Any kind"),
    "filter.any_status": ("全部状态", "Any status"),
    "common.required": ("必填", "required"),
    "common.time": ("时间", "Time"),
    "common.empty": ("暂无记录", "Nothing here yet"),
    "flash.status_changed": (
        "{action}成功，当前状态：{status}",
        "Status changed ({action}): now {status}",
    ),
    # login
    "login.title": ("登录控制台", "Sign in to the console"),
    "login.lead": (
        "请粘贴您的 API 密钥（以 sck_ 开头）。密钥仅保存在本浏览器的加密会话中。",
        "Paste your API key (it starts with sck_). It is kept only in this browser's "
        "encrypted session.",
    ),
    "login.api_key": ("API 密钥", "API key"),
    "login.submit": ("登录", "Sign in"),
    "login.no_key": ("还没有密钥？", "No key yet?"),
    "login.register": ("申请接入", "Apply to join"),
    "login.with_this_key": ("使用此密钥登录", "Sign in with this key"),
    # dashboard
    "dashboard.title": ("概览", "Overview"),
    "dashboard.by_status": ("参与方状态统计", "Participants by status"),
    "dashboard.total": ("合计", "Total"),
    "dashboard.own_status": ("本单位接入状态", "Your onboarding status"),
    "dashboard.waiting": (
        "您的接入申请已通过自动核验，正在等待运营者审批。",
        "Your application passed automatic verification and is waiting for the "
        "operator's approval.",
    ),
    "dashboard.pending": (
        "您的接入申请需要人工复核，请等待运营者处理。",
        "Your application needs a manual review by the operator.",
    ),
    "dashboard.active": ("您已接入数据空间。", "You are a member of the data space."),
    "dashboard.view_detail": ("查看详情", "View details"),
    # participants list
    "participants.title": ("参与方", "Participants"),
    "participants.search_placeholder": ("名称或证件号码", "Name or identifier"),
    "participants.new": ("申请接入", "Apply to join"),
    "participants.none_found": ("没有符合条件的参与方", "No participant matches"),
    # fields
    "field.kind": ("主体类型", "Kind"),
    "field.name": ("名称", "Name"),
    "field.name_en": ("英文名称", "English name"),
    "field.identifier": ("证件号码", "Identifier"),
    "field.identifier_hint": (
        "机构填统一社会信用代码（18 位），个人填居民身份证号码",
        "Organisations: Unified Social Credit Code (18 characters); individuals: "
        "resident ID number",
    ),
    "field.region": ("行政区划代码", "Region code"),
    "field.region_hint": ("6 位数字，如 330300", "6 digits, e.g. 330300"),
    "field.roles": ("角色", "Roles"),
    "field.role": ("角色", "Role"),
    "field.contact_email": ("联系邮箱", "Contact e-mail"),
    "field.credential": ("资质凭证（JSON）", "Credential (JSON)"),
    "field.credential_hint": (
        "可信签发方签发的电子营业执照等凭证；没有可留空",
        "A credential signed by a trusted issuer, e.g. an electronic business licence; "
        "leave empty if you have none",
    ),
    "field.status": ("状态", "Status"),
    "field.decision": ("核验结论", "Decision"),
    "field.decision_reason": ("结论依据", "Reason"),
    "field.created_at": ("登记时间", "Registered"),
    "field.updated_at": ("更新时间", "Updated"),
    "field.reason": ("说明", "Reason"),
    # register
    "register.title": ("申请接入数据空间", "Apply to join the data space"),
    "register.lead": (
        "填写主体信息后系统将自动核验证件号码、重复登记和资质凭证。",
        "The platform verifies the identifier, duplicates and credential automatically.",
    ),
    "register.submit": ("提交申请", "Submit application"),
    "register.form_error": ("请修改标出的字段后重新提交", "Please correct the marked fields"),
    "register.result_title": ("接入申请结果", "Application result"),
    "register.api_key": ("您的 API 密钥", "Your API key"),
    "register.api_key_warning": (
        "密钥只显示这一次，平台不保存明文。请立即复制并妥善保管。",
        "This key is shown only once and the platform does not keep it. Copy it now and "
        "keep it safe.",
    ),
    "register.no_key": (
        "申请未通过，因此没有签发 API 密钥。",
        "The application was rejected, so no API key was issued.",
    ),
    "register.next_manual": (
        "已核验，等待运营者审批后启用。",
        "Verified; the account becomes active once the operator approves it.",
    ),
    "register.again": ("重新填写", "Start again"),
    "check.title": ("证件号码实时校验", "Live identifier check"),
    "check.valid": ("格式与校验位正确", "Format and check digits valid"),
    "check.missing": ("请填写此项", "This field is required"),
    "check.json": ("不是合法的 JSON 对象", "Not a valid JSON object"),
    "check.email": ("邮箱格式不正确", "Not a valid e-mail address"),
    "check.region": ("应为 6 位行政区划代码", "Must be a 6-digit region code"),
    "check.too_long": ("文本过长：最多 {n} 个字符", "Too long: at most {n} characters"),
    # detail
    "detail.fields": ("基本信息", "Details"),
    "detail.verification": ("核验记录", "Verification history"),
    "detail.run": ("第 {n} 次核验", "Run {n}"),
    "detail.step": ("核验项", "Check"),
    "detail.result": ("结果", "Result"),
    "detail.evidence": ("存证记录", "Evidence history"),
    "detail.evidence_kind": ("事件", "Event"),
    "detail.actor": ("操作方", "Actor"),
    "detail.payload": ("内容", "Content"),
    "detail.keys": ("签名公钥", "Signing keys"),
    "detail.api_keys": ("API 密钥", "API keys"),
    "detail.connectors": ("连接器", "Connectors"),
    "detail.fingerprint": ("指纹", "Fingerprint"),
    "detail.algorithm": ("算法", "Algorithm"),
    "detail.prefix": ("前缀", "Prefix"),
    "detail.label": ("标签", "Label"),
    "detail.revoked": ("已吊销", "Revoked"),
    "detail.valid": ("有效", "Valid"),
    "detail.actions": ("运营者操作", "Operator actions"),
    "detail.reason_placeholder": ("操作理由（将写入存证）", "Reason (recorded as evidence)"),
    "detail.no_actions": ("当前状态没有可执行的操作", "No action is possible in this status"),
    # actions
    "action.approve": ("批准", "Approve"),
    "action.reject": ("拒绝", "Reject"),
    "action.suspend": ("暂停", "Suspend"),
    "action.reinstate": ("恢复", "Reinstate"),
    "action.revoke": ("注销", "Revoke"),
    "keystatus.active": ("有效", "Active"),
    "keystatus.rotated": ("已轮换", "Rotated"),
    "keystatus.revoked": ("已吊销", "Revoked"),
    # statuses, decisions, kinds, roles
    "status.pending": ("待复核", "Pending review"),
    "status.verified": ("已核验待审批", "Verified, awaiting approval"),
    "status.active": ("已启用", "Active"),
    "status.rejected": ("已拒绝", "Rejected"),
    "status.suspended": ("已暂停", "Suspended"),
    "status.revoked": ("已注销", "Revoked"),
    "decision.verified": ("已核验", "Verified"),
    "decision.needs_review": ("需人工复核", "Needs review"),
    "decision.rejected": ("未通过", "Rejected"),
    "kind.enterprise": ("企业", "Enterprise"),
    "kind.public_institution": ("事业单位", "Public institution"),
    "kind.government": ("政府部门", "Government body"),
    "kind.social_organisation": ("社会组织", "Social organisation"),
    "kind.individual": ("个人", "Individual"),
    "role.operator": ("运营者", "Operator"),
    "role.provider": ("提供方", "Provider"),
    "role.consumer": ("使用方", "Consumer"),
    "role.service_firm": ("服务方", "Service firm"),
    "role.regulator": ("监管方", "Regulator"),
    "step.identifier": ("证件号码核验", "Identifier check"),
    "step.duplicate": ("重复登记检查", "Duplicate check"),
    "step.credential": ("资质凭证核验", "Credential check"),
    "result.pass": ("通过", "Passed"),
    "result.fail": ("未通过", "Failed"),
    "result.review": ("需复核", "Needs review"),
    "result.skip": ("未提供", "Skipped"),
    "evidence.participant.registered": ("接入登记", "Registered"),
    "evidence.participant.status_changed": ("状态变更", "Status changed"),
    "evidence.participant.reverified": ("重新核验", "Verified again"),
    "evidence.api_key.issued": ("签发 API 密钥", "API key issued"),
    "evidence.api_key.revoked": ("吊销 API 密钥", "API key revoked"),
    "evidence.connector.registered": ("登记连接器", "Connector registered"),
    "evidence.key.added": ("登记公钥", "Key added"),
    "evidence.key.rotated": ("轮换公钥", "Key rotated"),
    "evidence.key.revoked": ("吊销公钥", "Key revoked"),
}

MESSAGES: Final[dict[Language, dict[str, str]]] = {
    "zh-CN": {key: zh for key, (zh, _) in _PAIRS.items()},
    "en": {key: en for key, (_, en) in _PAIRS.items()},
}


def translate(language: str, key: str, **values: object) -> str:
    """The message ``key`` in ``language`` (zh-CN when unknown), with ``{name}`` filled in."""
    catalogue = MESSAGES["en"] if language == "en" else MESSAGES["zh-CN"]
    text = catalogue.get(key)
    if text is None:
        return key.split(".", 1)[-1] if "." in key else key
    return text.format(**values) if values else text


def pick(language: str, zh: str, en: str) -> str:
    """Choose between a domain's two messages (``message_zh`` / ``message_en``)."""
    return en if language == "en" else zh


def normalise_language(value: str | None) -> Language | None:
    """``zh``/``zh-CN``/``en`` as typed in a query string, or None when not a language."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered.startswith("zh"):
        return "zh-CN"
    if lowered.startswith("en"):
        return "en"
    return None
