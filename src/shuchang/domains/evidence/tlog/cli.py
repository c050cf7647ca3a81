"""``tlog`` command group: offline key generation, log building and receipt verification.

Every failure exits with status 1 and one ``Error: <reason>`` line on stderr;
malformed input never produces a traceback. (Click's own usage errors, such as
a missing option, keep click's status 2.)
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from . import sm2
from .note import Verifier, generate_key, parse_signer_key, parse_verifier_key
from .offline import build_log, verify_receipt

__all__ = ["tlog"]

_FILE = click.Path(dir_okay=False, path_type=Path)
_RECEIPT_SUFFIX = ".tlog-proof"


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {what} {path}: {exc.strerror}") from None


def _read_text(path: Path, what: str) -> str:
    try:
        return _read(path, what).decode("utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{what} {path} is not UTF-8 text") from None


def _load_verifiers(specs: tuple[str, ...]) -> list[Verifier]:
    """Each spec is a verifier key, or a file holding one key per line."""
    verifiers: list[Verifier] = []
    for spec in specs:
        path = Path(spec)
        lines = _read_text(path, "verifier key file").splitlines() if path.is_file() else [spec]
        for line in filter(None, (line.strip() for line in lines)):
            try:
                verifiers.append(parse_verifier_key(line))
            except ValueError as exc:
                raise click.ClickException(f"bad verifier key {spec!r}: {exc}") from None
    if not verifiers:
        raise click.ClickException("no verifier key given")
    return verifiers


def _write_new(path: Path, text: str, mode: int) -> None:
    # O_EXCL: never clobber an existing key; the mode applies at creation, so a
    # private key is never briefly world-readable.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise click.ClickException(f"refusing to overwrite {path}") from None
    except OSError as exc:
        raise click.ClickException(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


@click.group(name="tlog")
def tlog() -> None:
    """Offline transparency-log tools (C2SP signed notes, checkpoints, tlog-proof receipts)."""


@tlog.command()
@click.option("--name", required=True, help="Key name; for a log, its checkpoint origin.")
@click.option(
    "--out",
    type=_FILE,
    help="Write the signer key to OUT (mode 0600) and the verifier key to OUT.pub.",
)
@click.option(
    "--algorithm",
    type=click.Choice(["ed25519", "sm2"]),
    default="ed25519",
    show_default=True,
    help="sm2 needs the optional gmssl package; logs should use ed25519.",
)
def keygen(name: str, out: Path | None, algorithm: str) -> None:
    """Generate a signed-note key pair; print the verifier key (and, without --out, the signer
    key)."""
    try:
        skey, vkey = sm2.generate_key(name) if algorithm == "sm2" else generate_key(name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if out is None:
        click.echo(skey)
    else:
        _write_new(out, skey + "\n", 0o600)
        _write_new(out.with_name(out.name + ".pub"), vkey + "\n", 0o644)
    click.echo(vkey)


@tlog.command()
@click.option("--origin", required=True, help="Checkpoint origin line (the log's identity).")
@click.option("--key", "key_file", required=True, type=_FILE, help="Signer key file.")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write receipts (default: next to each leaf).",
)
@click.argument("leaf_files", nargs=-1, required=True, type=_FILE)
def build(origin: str, key_file: Path, out_dir: Path | None, leaf_files: tuple[Path, ...]) -> None:
    """Build a log from LEAF_FILES in order; print its signed checkpoint, write LEAF.tlog-proof
    receipts."""
    try:
        signer = parse_signer_key(_read_text(key_file, "signer key file"))
    except ValueError as exc:
        raise click.ClickException(f"bad signer key {key_file}: {exc}") from None
    targets = [(out_dir or p.parent) / (p.name + _RECEIPT_SUFFIX) for p in leaf_files]
    if len(set(targets)) != len(targets):
        raise click.ClickException("two leaf files would write the same receipt file")
    leaves = [_read(p, "leaf file") for p in leaf_files]
    try:
        built = build_log(origin, signer, leaves)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if signer.name != origin:
        click.echo(f"warning: key name {signer.name!r} differs from origin {origin!r}", err=True)
    try:
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
        for target, receipt in zip(targets, built.receipts, strict=True):
            target.write_bytes(receipt)
    except OSError as exc:
        raise click.ClickException(f"cannot write receipts: {exc}") from None
    click.echo(built.signed_checkpoint.decode("utf-8"), nl=False)


@tlog.command()
@click.option(
    "--vkey",
    "vkeys",
    required=True,
    multiple=True,
    help="Trusted verifier key, or a file with one per line. Repeatable.",
)
@click.option("--receipt", required=True, type=_FILE, help="tlog-proof@v1 receipt file.")
@click.option("--origin", help="Also require the checkpoint to be for this log.")
@click.argument("leaf_file", type=_FILE)
def verify(vkeys: tuple[str, ...], receipt: Path, origin: str | None, leaf_file: Path) -> None:
    """Verify that LEAF_FILE is in the log, per RECEIPT and a trusted key. Exit 0 only if so."""
    verifiers = _load_verifiers(vkeys)
    receipt_bytes = _read(receipt, "receipt")
    leaf = _read(leaf_file, "leaf file")
    try:
        checkpoint, index = verify_receipt(receipt_bytes, leaf, verifiers, origin)
    except ValueError as exc:
        raise click.ClickException(f"not verified: {exc}") from None
    click.echo(f"OK: leaf {index} is in {checkpoint.origin} at tree size {checkpoint.size}")
