"""Typed settings, read once from the environment (prefix ``SHUCHANG_``) and passed in.

Every field is documented here; docs/operators.*.md repeat the table for operators.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

ApprovalMode = Literal["auto", "manual"]
ReviewRule = Literal["strict", "standard", "lenient"]
SETTLEMENT_RAILS = ("recording",)  # = settlement.rail.RAILS (tests/settlement keep them equal)


def _default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'shuchang.db'}"


def _convert(name: str, kind: object, raw: str) -> object:
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"SHUCHANG_{name.upper()} must be an integer, not {raw!r}") from None
    if kind == "bool":
        if raw.lower() not in ("1", "true", "yes", "0", "false", "no"):
            raise ValueError(f"SHUCHANG_{name.upper()} must be true or false, not {raw!r}")
        return raw.lower() in ("1", "true", "yes")
    return raw


@dataclass(frozen=True)
class Settings:
    """Platform settings. Each field maps to ``SHUCHANG_<FIELD NAME IN CAPITALS>``."""

    database_url: str = field(default_factory=_default_database_url)
    """SQLAlchemy URL. Default: an SQLite file ``shuchang.db`` in the working directory (WAL).
    Production: ``postgresql+psycopg://user@host/db``."""

    host: str = "127.0.0.1"
    """Address `shuchang serve` binds to."""

    port: int = 8600
    """Port `shuchang serve` binds to."""

    workers: int = 1
    """Server worker processes for `shuchang serve` (use the core count on PostgreSQL)."""

    threads: int = 8
    """Threads per worker that run blocking request handlers (database writes, and reads on
    PostgreSQL; SQLite reads run on the event loop). Before this setting sized Litestar's
    pool, handlers ran on the loop's default of 6 threads. Measured on 2 cores, 32
    connections, catalog lookups through the pool on SQLite: 2 threads 913, 6 threads
    1,065, 40 threads 1,456 µs of server CPU per request (more threads, more GIL hand-offs);
    raise it for PostgreSQL when handlers wait on the network rather than the CPU."""

    secret_key: str = ""
    """Secret for console session cookies (32+ characters). Empty: derived per database file,
    which is fine for a pilot but must be set when several processes serve the console."""

    approval: ApprovalMode = "auto"
    """``auto``: a participant whose verification passes becomes active at once.
    ``manual``: verified participants wait for an operator's approval (运营者审批)."""

    review_rule: ReviewRule = "standard"
    """Automatic decision rule for registrations (see docs/operators.en.md#decision-rule):
    ``strict`` — a trusted credential is required, otherwise rejected;
    ``standard`` — without a credential the registration needs review (人工复核);
    ``lenient`` — valid check digits and no duplicate are enough to verify."""

    console_language: Literal["zh-CN", "en"] = "zh-CN"
    """Default console language; users can switch."""

    listing_reviewers: str = "operator"
    """Roles that may approve or return product listings, comma-separated: ``operator`` and
    optionally ``service_firm`` (a configured third-party reviewer, 第三方审核机构)."""

    connector_participant: str = ""
    """Id of the participant this platform's connector (连接器) speaks for in the Dataspace
    Protocol. Empty: the connector is off and DSP negotiation endpoints answer 503."""

    connector_key_file: str = ""
    """Ed25519 key (base64 seed, `shuchang contracts keygen`) the connector signs with; its
    public key must be registered as a key of the connector participant here and at peers."""

    connector_url: str = ""
    """This connector's public DSP base URL, e.g. ``https://dsp.example.cn/dsp``: sent as
    the callback address, so peers must have it registered as this participant's connector."""

    negotiation_approval: Literal["auto", "manual"] = "auto"
    """``auto``: a request that matches a listed offer is agreed at once; ``manual``: the
    provider approves each request (控制台 or POST /api/v1/contracts/negotiations/{id}/approve)."""

    agreement_days: int = 365
    """How long an agreement runs from its conclusion, in days."""

    transfer_token_seconds: int = 300
    """Lifetime of a pull transfer's access token (数据访问令牌), in seconds; the consumer
    refreshes it while the transfer is STARTED."""

    dataplane_url: str = ""
    """Public base URL of this provider's data-plane gateway, sent as the endpoint of pull
    transfers. Empty: ``/data`` on the connector URL's host (``https://dsp.example.cn/data``)."""

    dataplane_port: int = 8700
    """Port `shuchang dataplane serve` binds to (the gateway runs as its own process)."""

    dataplane_rate: int = 100
    """Data requests per second allowed per agreement by each gateway process (token bucket,
    a burst of one second's worth); over it: 429 ``dataplane.rate_limited``."""

    dataplane_timeout_ms: int = 10000
    """How long the gateway waits for the provider's backend API before 504
    ``dataplane.upstream_timeout``, in milliseconds (connect, send and read together)."""

    dataplane_seal_seconds: int = 10
    """How often the gateway seals new usage records into the evidence log (0: never; run
    `shuchang dataplane seal` instead)."""

    dataplane_seal_records: int = 2000
    """Most usage records per sealed batch; the gateway also seals early once this many wait.
    Marking a batch holds SQLite's write lock, which every data request's admission needs:
    2,000 records take ~15 ms (10,000 took ~80 ms, a stall longer than a request's p99)."""

    dataplane_pathsend: bool = False
    """Send whole, unprojected files with the ASGI ``http.response.pathsend`` extension when the
    server offers it (granian does): the server sends the file itself. Off by default: a send
    that breaks off is then metered as 0 bytes, not the bytes that went out (docs/dataplane)."""

    dataplane_push_seconds: int = 5
    """How often the gateway looks for push transfers to deliver (0: never; run
    `shuchang dataplane push --once` instead)."""

    dataplane_push_attempts: int = 5
    """Attempts to deliver a push transfer (backoff 2, 4, 8 … s, at most 5 min) before the
    provider terminates it with reason ``push_failed``."""

    dataplane_push_lease_seconds: int = 30
    """How long a pusher holds a push job without renewing its lease (it renews with every
    chunk sent); a pusher that died is taken over by another once its lease ran out."""

    data_root: str = ""
    """Directory holding this provider's data files (数据目录); file locations of resources
    resolve inside it as if it were the root (``/mes/reels.parquet`` is
    ``<data root>/mes/reels.parquet``). Empty: ``./shuchang-data``."""

    data_connections: str = ""
    """This provider's SQL data sources by name, ``name=url;name=url`` (SQLAlchemy URLs), used
    by table locations (``{"type": "sql", "connection": "name"}``). ``default``, when not
    named here, is the SQLite file ``warehouse.db`` in the data root."""

    issuer_key_file: str = ""
    """Ed25519 key (base64 seed, `shuchang contracts keygen`) the platform signs data-asset
    and compliance certificates with (签发密钥). Empty: ``<database file>.issuer.key`` (SQLite)
    or ``./shuchang.issuer.key``, created on first use. Publish its public key
    (GET /api/v1/assets/issuer) so holders can verify certificates offline."""

    asset_region: str = ""
    """Six-digit region code (行政区划代码) in data-asset registration numbers. Empty: the
    region of the platform's operator participant, else ``000000``."""

    asset_certificate_years: int = 3
    """Longest validity of a data-asset certificate, in years (1..10); applicants ask for up
    to this many."""

    listing_requires_compliance: bool = False
    """``true``: a product is listed only while it holds a passed compliance review (合规审核)
    of its current sources; reviewers see the status either way. Default off, so a pilot can
    list before it has engaged an assessor; regions in production should turn it on."""

    compliance_certificate_days: int = 365
    """How long a compliance certificate (合规证书) is valid, in days."""

    metrics_token: str = ""
    """Bearer token Prometheus presents at ``/metrics``. Empty: ``/metrics`` answers only
    requests from the loopback address (a scraper on the same host or behind the proxy)."""

    compute_store: str = ""
    """Directory of the compute sandbox's materialised DuckDB files, one per resource version
    and compute profile (隐私计算物化库). Empty: ``.compute`` inside the data root."""

    compute_workers: int = 1
    """Sandbox worker processes per platform process (each runs one query at a time)."""

    compute_wait_seconds: int = 10
    """How long ``POST /api/v1/compute/jobs`` waits for a job by default before answering
    202 with the job still running (a request may ask for 0..60)."""

    log_origin: str = "shuchang.local/evidence"
    """Origin line of the evidence log's checkpoints (C2SP tlog-checkpoint): a name unique to
    this deployment, e.g. ``data.dongou.gov.cn/evidence``. Also the signing key's name."""

    log_key_file: str = ""
    """Signing key of the evidence log, in the Go note format ``PRIVATE+KEY+<origin>+…``.
    Empty: ``<database file>.log.key`` (SQLite) or ``./shuchang.log.key``, created on first
    use. Publish the matching verifier key (GET /tlog/vkey) so anyone can verify receipts."""

    sequencer: bool = True
    """Run the log sequencer inside `serve` (every process may; one sequences at a time)."""

    sequencer_interval_ms: int = 200
    """How often the sequencer turns new evidence into log leaves."""

    checkpoint_interval_s: int = 5
    """How often a new signed checkpoint is published while the log grows."""

    witness_keys: str = ""
    """Verifier keys (``name+hash+base64``) of witnesses whose cosignatures on checkpoints
    the log accepts, separated by commas."""

    settlement_vat_bp: int = 600
    """VAT rate on settlement invoices, in basis points (600 = 6 %, the rate for data and
    information-technology services); each invoice line's tax is rounded half up to the fen."""

    settlement_rail: str = "recording"
    """Payment rail that moves settlement money (资金划付通道). ``recording``: the plain
    default, which records each transfer in the database as executed (a bank integration
    implements the same interface, see docs/settlement.en.md §8)."""

    settlement_key_file: str = ""
    """Ed25519 key (base64 seed) that signs transaction filings and vouchers (交易备案/凭证).
    Empty: ``<database file>.settlement.key`` (SQLite) or ``./shuchang.settlement.key``,
    created on first use. Publish its public key (GET /api/v1/settlement/key)."""

    element_timeout_s: int = 600
    """Longest a data element's transformation may run (数据元件加工), in seconds; the
    locked-down DuckDB query is interrupted then and its process killed."""

    element_memory_mb: int = 1024
    """Memory limit of the DuckDB that runs a data element's transformation, in MB."""

    psi_min_set_size: int = 100
    """Fewest distinct identifiers either party of a PSI session (隐私求交) may bring: a
    small set would let the other side test single identifiers for membership."""

    psi_max_set_size: int = 2_000_000
    """Most identifiers one party may bring to a PSI session (memory and time bound)."""

    psi_sessions_per_day: int = 20
    """PSI sessions one agreement may start per 24 hours at this provider (each also counts
    as a ``compute`` use against the agreement's own count limit)."""

    psi_link_host: str = ""
    """Address this connector's RR22 PSI links listen on and tell peers (an interface the
    peer can reach, e.g. ``10.0.0.5``); each session takes a free port. Empty: only the ECDH
    backend. RR22 also needs the optional ``spu`` package (``pip install shuchang[spu]``)."""

    psi_timeout_s: int = 3600
    """A PSI session that has not completed this many seconds after it started expires."""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read every field from ``SHUCHANG_*`` variables once, converting by field type."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"SHUCHANG_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, f.type, raw)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        """Fail fast on values the platform cannot run with."""
        if self.approval not in ("auto", "manual"):
            raise ValueError(f"SHUCHANG_APPROVAL must be auto or manual, not {self.approval!r}")
        if self.review_rule not in ("strict", "standard", "lenient"):
            raise ValueError(f"SHUCHANG_REVIEW_RULE is not a known rule: {self.review_rule!r}")
        if not set(self.reviewers) <= {"operator", "service_firm"} or not self.reviewers:
            raise ValueError("SHUCHANG_LISTING_REVIEWERS lists operator and/or service_firm")
        if self.negotiation_approval not in ("auto", "manual"):
            raise ValueError("SHUCHANG_NEGOTIATION_APPROVAL must be auto or manual")
        if not 1 <= self.agreement_days <= 3650:  # noqa: PLR2004
            raise ValueError("SHUCHANG_AGREEMENT_DAYS must be 1..3650")
        if not 30 <= self.transfer_token_seconds <= 86400:  # noqa: PLR2004
            raise ValueError("SHUCHANG_TRANSFER_TOKEN_SECONDS must be 30..86400")
        if not 1 <= self.threads <= 256:  # noqa: PLR2004
            raise ValueError("SHUCHANG_THREADS must be 1..256")
        if not 1 <= self.dataplane_rate <= 1_000_000:  # noqa: PLR2004
            raise ValueError("SHUCHANG_DATAPLANE_RATE must be 1..1000000")
        if not 10 <= self.dataplane_timeout_ms <= 600_000:  # noqa: PLR2004
            raise ValueError("SHUCHANG_DATAPLANE_TIMEOUT_MS must be 10..600000")
        if not 1 <= self.dataplane_seal_records <= 1_000_000:  # noqa: PLR2004
            raise ValueError("SHUCHANG_DATAPLANE_SEAL_RECORDS must be 1..1000000")
        self._validate_compute()
        self._validate_push()
        from shuchang.datasources import parse_connections

        parse_connections(self.data_connections)
        self._validate_market()
        self._validate_settlement()
        if self.console_language not in ("zh-CN", "en"):
            raise ValueError("SHUCHANG_CONSOLE_LANGUAGE must be zh-CN or en")

    def _validate_market(self) -> None:
        """The data-market settings: asset registry, certificates."""
        if self.asset_region and not (
            len(self.asset_region) == 6 and self.asset_region.isdigit()  # noqa: PLR2004
        ):
            raise ValueError("SHUCHANG_ASSET_REGION is a six-digit region code")
        if not 1 <= self.asset_certificate_years <= 10:  # noqa: PLR2004
            raise ValueError("SHUCHANG_ASSET_CERTIFICATE_YEARS must be 1..10")
        if not 1 <= self.compliance_certificate_days <= 3650:  # noqa: PLR2004
            raise ValueError("SHUCHANG_COMPLIANCE_CERTIFICATE_DAYS must be 1..3650")

    def _validate_settlement(self) -> None:
        if not 0 <= self.settlement_vat_bp <= 10_000:  # noqa: PLR2004
            raise ValueError("SHUCHANG_SETTLEMENT_VAT_BP must be 0..10000 (basis points)")
        if self.settlement_rail not in SETTLEMENT_RAILS:
            raise ValueError(
                f"SHUCHANG_SETTLEMENT_RAIL is not a known rail: {self.settlement_rail!r}"
            )

    def _validate_compute(self) -> None:
        if not 1 <= self.compute_workers <= 64:  # noqa: PLR2004
            raise ValueError("SHUCHANG_COMPUTE_WORKERS must be 1..64")
        if not 0 <= self.compute_wait_seconds <= 60:  # noqa: PLR2004
            raise ValueError("SHUCHANG_COMPUTE_WAIT_SECONDS must be 0..60")
        if not 1 <= self.element_timeout_s <= 86400:  # noqa: PLR2004
            raise ValueError("SHUCHANG_ELEMENT_TIMEOUT_S must be 1..86400")
        if not 64 <= self.element_memory_mb <= 1_048_576:  # noqa: PLR2004
            raise ValueError("SHUCHANG_ELEMENT_MEMORY_MB must be 64..1048576")
        if not 1 <= self.psi_min_set_size <= self.psi_max_set_size <= 100_000_000:  # noqa: PLR2004
            raise ValueError("SHUCHANG_PSI_MIN_SET_SIZE must be 1..SHUCHANG_PSI_MAX_SET_SIZE")
        if not 1 <= self.psi_sessions_per_day <= 100_000:  # noqa: PLR2004
            raise ValueError("SHUCHANG_PSI_SESSIONS_PER_DAY must be 1..100000")
        if not 10 <= self.psi_timeout_s <= 86400 * 7:  # noqa: PLR2004
            raise ValueError("SHUCHANG_PSI_TIMEOUT_S must be 10..604800")

    def _validate_push(self) -> None:
        if not 2 <= self.dataplane_push_lease_seconds <= 3600:  # noqa: PLR2004
            raise ValueError("SHUCHANG_DATAPLANE_PUSH_LEASE_SECONDS must be 2..3600")
        if not 1 <= self.dataplane_push_attempts <= 100:  # noqa: PLR2004
            raise ValueError("SHUCHANG_DATAPLANE_PUSH_ATTEMPTS must be 1..100")

    @property
    def reviewers(self) -> tuple[str, ...]:
        return tuple(r.strip() for r in self.listing_reviewers.split(",") if r.strip())

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def beside_database(self, suffix: str, fallback: str) -> Path:
        """A file next to the SQLite database (``<db>.<suffix>``), else ``./<fallback>``."""
        if self.is_sqlite and "///" in self.database_url:
            return Path(self.database_url.split("///", 1)[1] + "." + suffix)
        return Path.cwd() / fallback
