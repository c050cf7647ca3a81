"""End to end: `shuchang pull` and the Python client against two real `shuchang serve`
processes (provider and consumer, each its own SQLite database) and the provider's gateway
process: negotiate (no agreement yet), start a pull transfer, download every part of the
manifest, verify SHA-256 and SM3, resume an interrupted download by range."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

sys.path.append(str(Path(__file__).resolve().parents[1] / "contracts"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "dataplane"))
from datasets_support import CSV, TABLE, dataset_lister, write_data
from two_connectors import OFFER, Instance, Party, free_port, prepare, start, stop

from shuchang.client import Puller
from shuchang.client.pull import PullError
from shuchang.platform import Platform

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from factories import uscc


@contextmanager
def deployment(root: Path) -> Iterator[tuple[Instance, Instance, Path, object]]:
    bureau = Party("东瓯线缆股份有限公司", uscc("enterprise"), "enterprise", ("provider",))
    bank = Party("东瓯商业银行股份有限公司", uscc("enterprise"), "enterprise", ("consumer",))
    p = Instance("provider", root / "provider", free_port(), f"sqlite:///{root}/p.db", bureau)
    c = Instance("consumer", root / "consumer", free_port(), f"sqlite:///{root}/c.db", bank)
    parties = [(bureau, p.dsp), (bank, c.dsp)]
    provider: Platform = prepare(p, parties)
    data = root / "provider-data"
    write_data(data)
    (data / "mes" / "scan.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    product = dataset_lister(
        [{"type": "file", "path": "/mes/scan.bin", "format": "other"}, CSV, TABLE]
    )(provider, p.ids[bureau.name], OFFER)
    provider.engine.dispose()
    prepare(c, parties).engine.dispose()
    gw_port = free_port()
    gw = f"http://127.0.0.1:{gw_port}/data"
    env = {"SHUCHANG_DATAPLANE_URL": gw, "SHUCHANG_DATA_ROOT": str(data)}
    start(p, **env)
    start(c)
    log = (root / "gateway.log").open("ab")
    gateway = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "shuchang", "dataplane", "serve", f"--port={gw_port}"],
        env=p.env(**env, SHUCHANG_DATAPLANE_SEAL_SECONDS="0"),
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{gw_port}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        yield p, c, data, (product, bureau, bank)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(gateway.pid, 9)
        gateway.wait(timeout=10)
        stop(p)
        stop(c)


def test_pull_negotiates_downloads_verifies_and_resumes(tmp_path: Path) -> None:
    with deployment(tmp_path) as (p, c, data, (product, bureau, bank)):
        progress: list[tuple[str, int]] = []
        puller = Puller(c.base, c.api_key, progress=lambda n, d, t: progress.append((n, d)))
        with pytest.raises(PullError, match="no agreement"):
            puller.pull(product, tmp_path / "none")  # type: ignore[arg-type]

        out = tmp_path / "out"
        result = puller.pull(
            product,  # type: ignore[arg-type]
            out,
            provider_id=c.ids[bureau.name],  # type: ignore[attr-defined]
            provider_catalog=p.dsp,
            provider_key=p.api_keys[bank.name],  # type: ignore[attr-defined]
        )
        assert result.negotiated
        scan = (data / "mes" / "scan.bin").read_bytes()
        assert (out / "scan.bin").read_bytes() == scan
        assert (out / "reels.csv").read_bytes() == (data / "mes" / "reels.csv").read_bytes()
        table = next(f for f in result.files if f.suffix == ".csv" and f.name != "reels.csv")
        assert table.read_text().splitlines()[0].startswith("reel_code,")
        assert any(name == "scan.bin" for name, _ in progress)

        # an interrupted download: half of it is on disk; the next pull resumes by range
        again = tmp_path / "again"
        again.mkdir()
        (again / "scan.bin.part").write_bytes(scan[: len(scan) // 2])
        second = puller.pull(product, again)  # type: ignore[arg-type]
        assert not second.negotiated and second.agreement_id == result.agreement_id
        assert (
            hashlib.sha256((again / "scan.bin").read_bytes()).hexdigest()
            == hashlib.sha256(scan).hexdigest()
        )

        # a corrupted partial file is caught by the digests, never moved into place
        bad = tmp_path / "bad"
        bad.mkdir()
        (bad / "scan.bin.part").write_bytes(b"\0" * (len(scan) // 2))
        with pytest.raises(PullError, match="digests do not match"):
            puller.pull(product, bad)  # type: ignore[arg-type]
        assert not (bad / "scan.bin").exists()
        puller.close()


def test_shuchang_pull_command(tmp_path: Path) -> None:
    with deployment(tmp_path) as (p, c, data, (product, bureau, bank)):
        env = {
            **os.environ,
            "SHUCHANG_API_KEY": c.api_key,
            "SHUCHANG_PROVIDER_KEY": p.api_keys[bank.name],
        }  # type: ignore[attr-defined]
        run = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "shuchang",
                "pull",
                str(product),
                "--platform",
                c.base,
                "--out",
                str(tmp_path / "o"),
                "--provider",
                str(c.ids[bureau.name]),  # type: ignore[attr-defined]
                "--provider-catalog",
                p.dsp,
                "--format",
                "jsonl",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr + run.stdout
        assert "negotiated" in run.stdout and "verified" in run.stdout
        assert (tmp_path / "o" / "scan.bin").read_bytes() == (
            data / "mes" / "scan.bin"
        ).read_bytes()
