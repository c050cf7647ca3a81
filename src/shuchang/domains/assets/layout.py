"""What a certificate PDF shows, line by line, as a function of the signed document and its
evidence bundle only. The renderer draws exactly these texts and the verifier expects
exactly these texts, so the visible page can be checked against what was signed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from shuchang.domains.assets.schemas import RIGHT_ZH

CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")
LAYOUT = 1


@dataclass(frozen=True)
class Line:
    style: str  # title, subtitle, number, field, note
    text: str
    label: str = ""


def local(stamp: str) -> str:
    when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return when.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def receipt_head(receipt: str) -> tuple[int, str, int]:
    """``(leaf index, log origin, tree size)`` as a tlog-proof receipt states them (the
    verifier checks them against the verified proof; here they are only shown)."""
    lines = receipt.split("\n")
    index = int(lines[1].removeprefix("index ").strip())
    note = receipt.split("\n\n", 1)[1].split("\n")
    return index, note[0], int(note[1])


def evidence_text(bundle: dict[str, Any] | None) -> str:
    if bundle is None:
        return "存证回执待生成：签发记录尚未纳入已签名的检查点，请稍后重新下载 Receipt pending"
    index, origin, size = receipt_head(str(bundle["receipt"]))
    return f"存证日志 {origin} 第 {index} 号叶子，检查点树大小 {size} Leaf {index} of {origin}"


def lines(document: dict[str, Any], bundle: dict[str, Any] | None) -> list[Line]:
    """Every text of the certificate page, in drawing order."""
    c = document["certificate"]
    holder, issuer, reviewer = c["holder"], c["issuer"], c["reviewedBy"]
    sources = "；".join(f"{s['title']}（v{s['version']}）" for s in c["asset"]["sources"])
    rights = "、".join(RIGHT_ZH.get(r, r) for r in c["rights"])
    return [
        Line("title", "数据资产登记证书"),
        Line("subtitle", "DATA ASSET REGISTRATION CERTIFICATE"),
        Line("number", f"登记编号 No. {c['registrationNumber']}"),
        Line("field", c["asset"]["title"], "资产名称 Asset"),
        Line("field", f"{holder['name']}（{holder['participant']}）", "持有人 Holder"),
        Line("field", c["asset"]["description"], "资产描述 Description"),
        Line("field", rights, "权利类型 Rights"),
        Line("field", sources, "来源资源 Sources"),
        Line("field", c["contentDigest"]["value"], "内容摘要 SHA-256"),
        Line("field", f"{local(c['validFrom'])} 至 {local(c['validUntil'])}", "有效期 Validity"),
        Line("field", f"{issuer['name']}（{issuer['participant']}）", "登记机构 Issuer"),
        Line("field", f"{reviewer['name']}（{reviewer['participant']}）", "审核方 Reviewed by"),
        Line("field", local(c["issuedAt"]), "签发时间 Issued"),
        Line("field", document["signature"]["keyid"], "签发密钥 Issuer key"),
        Line("field", evidence_text(bundle), "存证 Evidence"),
        Line(
            "note",
            "本证书内嵌签名数据 certificate.json 与存证回执 evidence.json，可离线核验："
            "shuchang assets verify 证书.pdf --vkey 日志验证密钥 --trust 签发公钥。"
            "时间为北京时间。",
        ),
    ]


def flat(document: dict[str, Any], bundle: dict[str, Any] | None) -> str:
    """All visible text in order, without line breaks (wrapping is the renderer's choice)."""
    return "".join(line.label + line.text for line in lines(document, bundle))
