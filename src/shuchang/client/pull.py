"""Pulling a product: agreement → transfer → manifest → verified files (see the package doc)."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from shuchang.domains.dataplane.digests import new_sm3

POLL_SECONDS = 0.2
WAIT_SECONDS = 60.0
RETRIES = 5
BLOCK = 1024 * 1024
UNAUTHORIZED = 401
EXPIRED = "transfer.token_expired"
Progress = Callable[[str, int, int | None], None]  # (name, bytes so far, total)


class PullError(RuntimeError):
    """A pull that cannot go on: the message says why (with the server's problem code)."""


@dataclass
class PullResult:
    agreement_id: uuid.UUID
    transfer_id: uuid.UUID
    files: list[Path] = field(default_factory=list)
    negotiated: bool = False


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    return f"HTTP {response.status_code} {body.get('code', '')}: {body.get('message_en', body)}"


def _check(response: httpx.Response) -> Any:
    if response.status_code >= 300:  # noqa: PLR2004
        raise PullError(f"{response.request.method} {response.request.url}: {_problem(response)}")
    return response.json()


class Puller:
    """One consumer's client: its platform (management API + key) and an HTTP client."""

    def __init__(
        self,
        platform_url: str,
        api_key: str,
        *,
        progress: Progress | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.api = httpx.Client(
            base_url=platform_url.rstrip("/"),
            headers={"X-Api-Key": api_key},
            timeout=timeout,
            transport=transport,
        )
        self.http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)
        self.progress = progress

    def close(self) -> None:
        self.api.close()
        self.http.close()

    # ---- agreement and transfer ----------------------------------------------------------

    def agreement_for(self, product_id: uuid.UUID) -> uuid.UUID | None:
        wanted = {str(product_id), f"urn:uuid:{product_id}"}
        for a in _check(self.api.get("/api/v1/contracts/agreements")):
            if a["dataset_id"] in wanted and a["status"] == "active":
                return uuid.UUID(a["id"])
        return None

    def negotiate(
        self, product_id: uuid.UUID, provider_id: uuid.UUID, catalog_url: str, provider_key: str
    ) -> uuid.UUID:
        """Request the provider's listed offer (from its DSP catalog) and wait for the
        agreement."""
        dataset_id = f"urn:uuid:{product_id}"
        dataset = _check(
            self.http.get(
                f"{catalog_url.rstrip('/')}/catalog/datasets/{dataset_id}",
                headers={"Authorization": f"Bearer {provider_key}"},
            )
        )
        offer = dataset["hasPolicy"][0]
        started = _check(
            self.api.post(
                "/api/v1/contracts/negotiations",
                json={"provider_id": str(provider_id), "dataset_id": dataset_id, "offer": offer},
            )
        )
        view = self._wait(
            f"/api/v1/contracts/negotiations/{started['id']}",
            lambda v: v.get("agreement_id") is not None or v["state"] == "TERMINATED",
        )
        if view.get("agreement_id") is None:
            raise PullError(f"the negotiation ended without an agreement: {view.get('error')}")
        return uuid.UUID(view["agreement_id"])

    def start_transfer(self, agreement_id: uuid.UUID) -> dict[str, Any]:
        started = _check(
            self.api.post(
                "/api/v1/transfers",
                json={"agreement_id": str(agreement_id), "transfer_type": "HttpData-PULL"},
            )
        )
        return self._wait(
            f"/api/v1/transfers/{started['id']}",
            lambda v: v["state"] in ("STARTED", "TERMINATED", "COMPLETED"),
        )

    def refresh(self, transfer_id: str) -> dict[str, Any]:
        _check(self.api.post(f"/api/v1/transfers/{transfer_id}/refresh"))
        view: dict[str, Any] = _check(self.api.get(f"/api/v1/transfers/{transfer_id}"))
        return view

    def _wait(self, path: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            view: dict[str, Any] = _check(self.api.get(path))
            if done(view):
                return view
            if time.monotonic() > deadline:
                raise PullError(f"{path} did not finish in {WAIT_SECONDS:.0f} s ({view['state']})")
            time.sleep(POLL_SECONDS)

    # ---- the whole pull ------------------------------------------------------------------

    def pull(
        self,
        product_id: uuid.UUID,
        out_dir: Path,
        *,
        provider_id: uuid.UUID | None = None,
        provider_catalog: str | None = None,
        provider_key: str | None = None,
        table_format: str = "csv",
    ) -> PullResult:
        """Everything: agreement (negotiated when missing), transfer, every part of the
        manifest into ``out_dir``."""
        agreement = self.agreement_for(product_id)
        negotiated = agreement is None
        if agreement is None:
            if not (provider_id and provider_catalog and provider_key):
                raise PullError(
                    "no agreement in force on this product: give the provider, its DSP "
                    "catalog URL and your API key there to negotiate one"
                )
            agreement = self.negotiate(product_id, provider_id, provider_catalog, provider_key)
        view = self.start_transfer(agreement)
        if view["state"] != "STARTED":
            raise PullError(f"the transfer is {view['state']}: {view.get('error')}")
        session = GatewaySession(self, view)
        result = PullResult(agreement, uuid.UUID(view["id"]), negotiated=negotiated)
        out_dir.mkdir(parents=True, exist_ok=True)
        for part in session.manifest()["parts"]:
            if part["kind"] == "file":
                result.files.append(session.download(part, out_dir / Path(part["name"]).name))
            elif part["kind"] == "table":
                name = f"{part['resource_id']}.{table_format}"
                result.files.append(session.table(part, out_dir / name, table_format))
        return result


class GatewaySession:
    """Requests to the provider's gateway with the transfer's token, refreshed on expiry."""

    def __init__(self, puller: Puller, view: dict[str, Any]) -> None:
        self.puller, self.transfer_id = puller, str(view["id"])
        self._address(view)

    def _address(self, view: dict[str, Any]) -> None:
        address = view["data_address"] or {}
        props = {p["name"]: p["value"] for p in address.get("endpointProperties", [])}
        self.endpoint, self.token = (
            str(address["endpoint"]).rstrip("/"),
            str(props["authorization"]),
        )

    def get(self, path: str, **kw: Any) -> httpx.Response:
        for _ in range(2):
            headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
            response = self.puller.http.get(f"{self.endpoint}{path}", headers=headers, **kw)
            kw["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
            if response.status_code == UNAUTHORIZED and _code(response) == EXPIRED:
                self._address(self.puller.refresh(self.transfer_id))
                continue
            return response
        return response

    def stream(self, path: str, headers: dict[str, str]) -> Any:
        return self.puller.http.stream(
            "GET",
            f"{self.endpoint}{path}",
            headers={"Authorization": f"Bearer {self.token}", **headers},
        )

    def manifest(self) -> dict[str, Any]:
        out: dict[str, Any] = _check(self.get("/manifest"))
        return out

    def download(self, part: dict[str, Any], target: Path) -> Path:
        """A file part into ``target``: resumed from ``target.part`` by range, verified."""
        partial = target.with_name(target.name + ".part")
        size, etag = int(part["size"]), str(part["etag"])
        for _ in range(RETRIES):
            have = partial.stat().st_size if partial.exists() else 0
            if have >= size:
                break
            try:
                self._fetch(part, partial, have, etag)
            except httpx.TransportError:
                continue  # broken off: resume from what arrived
        _verify(partial, part)
        os.replace(partial, target)
        return target

    def _fetch(self, part: dict[str, Any], partial: Path, have: int, etag: str) -> None:
        headers = {"Range": f"bytes={have}-", "If-Range": etag} if have else {}
        for _ in range(2):
            with self.stream(part["href"].removeprefix("/data"), headers) as response:
                if response.status_code == UNAUTHORIZED and _code_stream(response) == EXPIRED:
                    self._address(self.puller.refresh(self.transfer_id))
                    continue
                if response.status_code not in (200, 206):
                    response.read()
                    raise PullError(f"{part['href']}: {_problem(response)}")
                mode = "ab" if response.status_code == 206 else "wb"  # noqa: PLR2004
                done = have if mode == "ab" else 0
                with partial.open(mode) as f:
                    for chunk in response.iter_bytes(BLOCK):
                        f.write(chunk)
                        done += len(chunk)
                        self._tick(part["name"], done, int(part["size"]))
                return

    def _tick(self, name: str, done: int, total: int | None) -> None:
        if self.puller.progress is not None:
            self.puller.progress(name, done, total)

    def table(self, part: dict[str, Any], target: Path, fmt: str) -> Path:
        """A table part, page after page, into ``target`` (CSV and JSON Lines pages are
        joined; Parquet pages become ``target``, ``target.2`` …)."""
        partial = target.with_name(target.name + ".part")
        after, page, done = None, 1, 0
        files: list[Path] = []
        with partial.open("wb") as f:
            while True:
                params = {"format": fmt, **({"after": after} if after else {})}
                response = self.get(part["href"].removeprefix("/data"), params=params)
                if response.status_code != 200:  # noqa: PLR2004
                    raise PullError(f"{part['href']}: {_problem(response)}")
                body = response.content
                if fmt == "csv" and page > 1:
                    body = body.split(b"\n", 1)[1] if b"\n" in body else b""
                if fmt == "parquet" and page > 1:
                    extra = target.with_name(f"{target.name}.{page}")
                    extra.write_bytes(body)
                    files.append(extra)
                else:
                    f.write(body)
                done += len(response.content)
                self._tick(target.name, done, None)
                after = response.headers.get("x-shuchang-next-after")
                if after is None:
                    break
                page += 1
        os.replace(partial, target)
        return target


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code", ""))
    except ValueError:
        return ""


def _code_stream(response: httpx.Response) -> str:
    response.read()
    return _code(response)


def _verify(path: Path, part: dict[str, Any]) -> None:
    sha, sm3 = hashlib.sha256(), new_sm3()
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            sha.update(block)
            sm3.update(block)
    if sha.hexdigest() != part["sha256"] or sm3.hexdigest() != part["sm3"]:
        path.unlink(missing_ok=True)
        raise PullError(
            f"{part['name']}: the digests do not match the manifest (SHA-256/SM3); "
            "the partial file was removed"
        )
