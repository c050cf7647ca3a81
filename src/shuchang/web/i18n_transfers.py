"""The transfer pages' messages (传输过程), zh-CN first, English second; merged into
:data:`shuchang.web.i18n.MESSAGES` (kept apart so the catalogue's modules stay readable)."""

from __future__ import annotations

from typing import Final

TRANSFER_PAIRS: Final[dict[str, tuple[str, str]]] = {
    "nav.transfers": ("数据传输", "Transfers"),
    "transfer.list_title": ("数据传输", "Transfers"),
    "transfer.lead": (
        "数据空间协议（DSP）下的传输过程：合约生效后使用方发起传输，提供方开始传输并（拉取方式）"
        "签发访问地址和短期令牌；任一方可暂停、完成或终止。",
        "Transfer processes under the Dataspace Protocol (DSP): under an agreement in force "
        "the consumer asks for a transfer, the provider starts it and (pull) issues an "
        "endpoint and a short-lived token; either side may suspend, complete or terminate it.",
    ),
    "transfer.find_agreements": ("从合约发起传输", "Start one from an agreement"),
    "transfer.none": ("暂无传输过程", "No transfer yet"),
    "transfer.title": ("传输过程", "Transfer"),
    "transfer.state": ("状态", "State"),
    "transfer.type": ("传输方式", "Type"),
    "transfer.basics": ("传输要素", "Key facts"),
    "transfer.created_at": ("发起时间", "Started"),
    "transfer.data_address": ("访问地址", "Data address"),
    "transfer.endpoint": ("数据端点", "Endpoint"),
    "transfer.no_address": ("暂无访问地址", "No data address"),
    "transfer.masked_hint": (
        "令牌不在页面上完整显示",
        "The token is never shown in full on a page",
    ),
    "transfer.token_hint": (
        "完整令牌不在控制台显示。请用本单位的 API 密钥通过 GET /api/v1/transfers/{id} "
        "或以下命令获取：",
        "The full token is never shown in the console. Get it with your API key from "
        "GET /api/v1/transfers/{id}, or with:",
    ),
    "transfer.suspended_by": ("已由{side}暂停", "Suspended by the {side}"),
    "transfer.error": ("暂停或终止原因", "Why it stopped"),
    "transfer.connector_needed": (
        "传输的每一步都由本平台的连接器签名并通知对方；连接器须代表您单位，配置好之前无法操作。",
        "Every step of a transfer is signed by this platform's connector and sent to the other "
        "party; it must speak for your organisation, and nothing can be done until it does.",
    ),
    "transfer.of_agreement": ("本合约下的数据传输", "Transfers under this agreement"),
    "transfer.start_pull": ("发起拉取传输", "Start a pull transfer"),
    "transfer.start_hint": (
        "通过本单位的连接器请求提供方开始传输；提供方开始后，您将获得数据端点和短期访问令牌。",
        "Your connector asks the provider to start a transfer; once it starts you get the "
        "endpoint and a short-lived access token.",
    ),
    "transfer_do.suspend": ("暂停", "Suspend"),
    "transfer_do.resume": ("恢复", "Resume"),
    "transfer_do.complete": ("完成", "Complete"),
    "transfer_do.terminate": ("终止", "Terminate"),
    "transfer_reason.suspend": ("暂停理由", "Reason for suspending"),
    "transfer_reason.terminate": ("终止理由", "Reason for terminating"),
    "transfer.started_ok": (
        "已向提供方发起传输请求",
        "Asked the provider: the transfer is requested",
    ),
    "transfer.suspend_ok": ("已暂停传输，令牌即刻失效", "Suspended: its tokens stop working now"),
    "transfer.resume_ok": ("已恢复传输并签发新令牌", "Resumed: a new token is on its way"),
    "transfer.resume_requested_ok": (
        "已请求提供方恢复传输",
        "Asked the provider to resume the transfer",
    ),
    "transfer.complete_ok": ("传输已完成", "The transfer is completed"),
    "transfer.terminate_ok": ("传输已终止", "The transfer is terminated"),
    "transfer.start_push": ("发起推送传输", "Start a push transfer"),
    "transfer.push_hint": (
        "提供方的连接器把数据集的每个部分以 PUT 请求推送到您登记的接收端，最后推送清单（含 "
        "SHA-256 与 SM3 摘要）；全部被接收后传输自动完成。",
        "The provider's connector PUTs each part of the dataset to the endpoint you register, "
        "then the manifest (with SHA-256 and SM3 digests); once all are accepted the transfer "
        "completes by itself.",
    ),
    "transfer.push_endpoint": ("接收端地址", "Receiving endpoint"),
    "transfer.push_authorization": ("接收端鉴权头（Authorization）", "Authorization header"),
    "transfer.requests": ("请求 / 推送次数", "Requests / pushes"),
    "transfer.usage_line": (
        "本平台已计量 {n} 次（其中拒绝 {denied} 次）",
        "Metered here: {n} (denied: {denied})",
    ),
    "transfer.refresh_hint": (
        "令牌过期前可随时向提供方申请新令牌（签名请求）；旧令牌到期失效。",
        "Ask the provider for a new token at any time (a signed request); the old one runs out "
        "at its expiry.",
    ),
    "transfer_do.refresh": ("刷新令牌", "Refresh the token"),
    "transfer.refresh_ok": ("已从提供方获得新令牌", "A new token arrived from the provider"),
    "push.title": ("推送任务", "Push job"),
    "push.epoch": ("第几次开始", "Start (epoch)"),
    "push.attempts": ("尝试次数", "Attempts"),
    "push.units_done": ("已被接收的部分", "Parts accepted"),
    "push.bytes_done": ("已推送字节", "Bytes pushed"),
    "push.in_flight": ("正在发送", "being sent"),
    "push.next_at": ("下次重试", "Next retry"),
    "push.last_error": ("最近一次错误", "Last error"),
    "push.hint": (
        "失败后按 2、4、8…秒退避重试，次数用尽则提供方终止传输并说明原因；"
        "暂停、完成或终止后推送在下一个数据块停止。",
        "A failed attempt is retried after 2, 4, 8 … s; when the attempts are used up the "
        "provider terminates the transfer with the reason. Suspending, completing or "
        "terminating stops the push at the next chunk.",
    ),
    "push.waiting": (
        "推送任务即将由数据面网关开始",
        "The data-plane gateway will start the push shortly",
    ),
    "push_state.pending": ("等待中", "Waiting"),
    "push_state.running": ("推送中", "Pushing"),
    "push_state.done": ("已完成", "Done"),
    "push_state.failed": ("已失败", "Failed"),
    "push_state.stopped": ("已停止", "Stopped"),
    "manifest.title": ("数据清单与摘要", "Manifest and digests"),
    "manifest.hint": (
        "文件按原样交付时附带 SHA-256 与 SM3 摘要（首次计算时已存证）；使用方可用 sha256sum、"
        "gmssl sm3 或 shuchang pull 校验。",
        "Files delivered as they are carry SHA-256 and SM3 digests (recorded as evidence when "
        "first computed); check them with sha256sum, gmssl sm3 or shuchang pull.",
    ),
    "manifest.part": ("部分", "Part"),
    "manifest.kind": ("类型", "Kind"),
    "manifest.size": ("大小", "Size"),
    "manifest.no_digest": ("数据表按页导出，摘要见推送清单", "Tables are exported page by page"),
    "manifest_kind.file": ("文件", "File"),
    "manifest_kind.table": ("数据表", "Table"),
    "manifest_kind.api": ("接口", "API"),
    "usage.title": ("用量（实时）", "Usage (live)"),
    "usage.lead": (
        "按合约计量的每次请求或推送：允许与拒绝次数、字节数；每几秒自动刷新。",
        "Every metered request or push under this agreement: permitted and denied, bytes; "
        "refreshed every few seconds.",
    ),
    "usage.requests": ("请求次数", "Requests"),
    "usage.permitted": ("允许", "Permitted"),
    "usage.denied": ("拒绝", "Denied"),
    "usage.denied_n": ("拒绝 {n}", "{n} denied"),
    "usage.bytes": ("字节数", "Bytes"),
    "usage.view": ("统计粒度", "Granularity"),
    "usage.by_hour": ("近 48 小时（按小时）", "Last 48 hours"),
    "usage.by_day": ("按天", "By day"),
    "usage.empty": ("暂无用量", "No usage yet"),
    "tstate.INITIAL": ("初始", "Initial"),
    "tstate.REQUESTED": ("已请求", "Requested"),
    "tstate.STARTED": ("传输中", "Started"),
    "tstate.SUSPENDED": ("已暂停", "Suspended"),
    "tstate.COMPLETED": ("已完成", "Completed"),
    "tstate.TERMINATED": ("已终止", "Terminated"),
    "ttype.HttpData-PULL": ("拉取（HTTP）", "Pull (HTTP)"),
    "ttype.HttpData-PUSH": ("推送（HTTP）", "Push (HTTP)"),
    "dspmsg.TransferRequestMessage": ("传输请求", "Transfer request"),
    "dspmsg.TransferStartMessage": ("开始传输", "Transfer start"),
    "dspmsg.TransferSuspensionMessage": ("暂停传输", "Transfer suspension"),
    "dspmsg.TransferCompletionMessage": ("完成传输", "Transfer completion"),
    "dspmsg.TransferTerminationMessage": ("终止传输", "Transfer termination"),
    "evidence.transfer.requested": ("传输请求", "Transfer requested"),
    "evidence.transfer.started": ("传输开始", "Transfer started"),
    "evidence.transfer.suspended": ("传输暂停", "Transfer suspended"),
    "evidence.transfer.completed": ("传输完成", "Transfer completed"),
    "evidence.transfer.terminated": ("传输终止", "Transfer terminated"),
    "evidence.transfer.resume_requested": ("请求恢复传输", "Resume requested"),
    "evidence.transfer.token_refreshed": ("刷新访问令牌", "Token refreshed"),
    "evidence.transfer.delivery_failed": ("消息送达失败", "Message delivery failed"),
}
