"""CLI commands for auditors and witnesses: verify, keygen, export, witness cosign (registered in shared.cli)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
import orjson

from shared.cli_args import cadre_id as cadre_id_arg
from shared.cli_io import (
    CannotRun,
    Failed,
    cannot_write,
    get_json,
    ledger_answer,
    ledger_base,
    ledger_url_option,
    make_directory,
    write_bytes,
)
from shared.settings import get_settings
from shared.signednote import Verifier

KEY_HELP = "The ledger's public key (账本公钥): a vkey string or a file holding one; repeat for several."
TOKEN_HELP = "Bearer token with the auditor role (审计员令牌); default: CADRE_TOKEN."


EXPORT_TIMEOUT_S = 60.0
"""A bundle carries a proof per event: a long history takes the ledger longer than a page of it."""


def _verifiers(keys: tuple[str, ...]) -> list[Verifier]:
    """The keys, each once: a key given twice (a file and its string, or a repeated option) means it once, and two
    verifiers of one name and key ID would make every note check refuse to run."""
    from shared.keys import KeyFileError, load_verifier

    try:
        loaded = [load_verifier(key) for key in keys]
    except (KeyFileError, OSError) as exc:
        raise CannotRun(f"bad public key (公钥无效): {exc}") from exc
    return list({(v.name, v.key_id): v for v in loaded}.values())


def _ledger_and_witnesses(keys: tuple[str, ...], witness_keys: tuple[str, ...]) -> tuple[list[Verifier],
                                                                                        list[Verifier]]:
    """The ledger's keys and the witnesses', refusing one key given as both: a witness vouches that the log's key
    holder showed everyone one log, which the key holder cannot vouch for itself (the ledger refuses its own key in
    CADRE_WITNESS_KEYS likewise)."""
    verifiers, witnesses = _verifiers(keys), _verifiers(witness_keys)
    ledger_ids = {(v.name, v.key_id) for v in verifiers}
    for witness in witnesses:
        if (witness.name, witness.key_id) in ledger_ids:
            raise click.BadParameter(f"the key {witness.name!r} is given both as --key and as --witness-key: a "
                                     "ledger's key cannot be its own witness (见证方不能是账本自身)",
                                     param_hint="--witness-key")
    return verifiers, witnesses


@click.group(name="verify", invoke_without_command=True,
             help="Verify the whole ledger (全账本验证) against PostgreSQL, read-only: re-hash every row, check "
             "every cadre's hash chain (哈希链), rebuild the Merkle tree (默克尔树) and compare it with every signed "
             "checkpoint (签名检查点) and the stored nodes. Exit 0: verified; 1: a problem, the first bad position "
             "(首个异常位置) is named; 2: could not run. `verify bundle FILE` checks a bundle offline.")
@click.option("--dsn", default=None, help="PostgreSQL DSN (数据库连接); default: CADRE_PG_DSN. A read-only role "
              "(cadre_reader) suffices.")
@click.option("--key", "keys", multiple=True, help=KEY_HELP)
@click.option("--witness-key", "witness_keys", multiple=True,
              help="A witness's public key (见证方公钥): its cosignatures (联署) must verify, a cosignature/v1 one "
              "with its timestamp (时间戳), which must not lie ahead of this machine's clock; repeatable.")
@click.option("--checkpoint", "checkpoints", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A checkpoint note kept outside the database (外部检查点), or a witness state file; the rows "
              "must match it too. Catches a truncation that also deleted the stored checkpoints.")
@click.option("--max-problems", default=50, show_default=True, type=click.IntRange(min=1),
              help="Stop after this many problems (问题上限), at least 1.")
@click.pass_context
def verify(ctx: click.Context, dsn: str | None, keys: tuple[str, ...], witness_keys: tuple[str, ...],
           checkpoints: tuple[Path, ...], max_problems: int) -> None:
    """Full-ledger verification with a progress bar; see the help text."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from shared.cosignature import format_time
    from shared.verify import external_checkpoint, verify_ledger

    if not keys:
        raise click.UsageError("--key is required: the ledger's public key (需要账本公钥)")
    dsn = dsn or get_settings().pg_dsn
    if not dsn:
        raise click.UsageError("no database: pass --dsn or set CADRE_PG_DSN (需要数据库连接)")
    verifiers, witnesses = _ledger_and_witnesses(keys, witness_keys)
    try:
        external = [external_checkpoint(path) for path in checkpoints]
    except (OSError, ValueError) as exc:
        raise CannotRun(f"unreadable checkpoint file (外部检查点无法读取): {exc}") from exc
    with Progress(TextColumn("verifying (验证中)"), BarColumn(), MofNCompleteColumn(), TextColumn("events"),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("verify", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, done))

        try:
            report = asyncio.run(verify_ledger(dsn, verifiers, witnesses=witnesses,
                                               external=external, progress=advance, max_problems=max_problems))
        except (OSError, TimeoutError) as exc:
            raise CannotRun(f"cannot reach PostgreSQL (无法连接数据库): {exc}") from exc
        except Exception as exc:
            if type(exc).__module__.startswith("asyncpg"):
                raise CannotRun(f"database error (数据库错误): {exc}") from exc
            raise
    click.echo(f"{report.count} events in {report.seconds:.2f} s ({report.events_per_s:,.0f} events/s); "
               f"{report.checkpoints} signed checkpoints up to size {report.covered_size}"
               f"{' signed by ' + ', '.join(report.signed_by) if report.signed_by else ''}; "
               f"the Merkle tree over {report.nodes_checked} leaves compared with merkle_nodes; "
               f"{report.cosignatures} witness cosignatures verified")
    for name in dict.fromkeys(w.name for w in witnesses):
        size, at = report.witnessed.get(name, (0, None))
        when = "" if at is None else f", the latest as of {format_time(at)}"
        click.echo(f"witness {name} (见证方): cosigned checkpoints up to size {size} of {report.covered_size}{when}"
                   if size else f"witness {name} (见证方): no cosignature found (未见联署)")
    if report.uncovered:
        click.echo(f"{report.uncovered} events after position {report.covered_size} are not yet covered by a "
                   "checkpoint (尚未被检查点覆盖): checked, but no signature vouches for them yet")
    if not report.ok:
        for finding in report.problems[:20]:
            click.echo(f"  - {finding.reason}")
        more = " (stopped early, 已提前停止)" if report.stopped_early else ""
        raise Failed(f"verification FAILED (验证失败){more}: {report.reason}")
    click.echo("verified (验证通过): every row, chain, checkpoint and Merkle node is consistent")


@verify.command(name="bundle", help="Verify a cadre's history bundle (履历包) offline: no database, no network. "
                "Checks the checkpoint's signature, every event's bytes, hash chain and inclusion proof "
                "(包含性证明), and with --witness-key that the witness cosigned the checkpoint (见证方联署). Exit 0: "
                "verified (验证通过); 1: the bundle fails (验证失败); 2: a bad key, or no such bundle file "
                "(公钥无效或文件不存在).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "keys", multiple=True, required=True, help=KEY_HELP)
@click.option("--witness-key", "witness_keys", multiple=True,
              help="A witness's public key (见证方公钥): the bundle's checkpoint must carry its cosignature, so it "
              "cannot come from a view of the log that witness never saw; repeatable.")
def verify_bundle_command(file: Path, keys: tuple[str, ...], witness_keys: tuple[str, ...]) -> None:
    """Offline bundle verification."""
    from shared.bundle import BundleError
    from shared.bundle_file import verify_bundle_file
    from shared.cosignature import format_time

    verifiers, witnesses = _ledger_and_witnesses(keys, witness_keys)
    try:
        report = verify_bundle_file(file, verifiers, witnesses)
    except BundleError as exc:
        raise Failed(f"bundle does NOT verify (履历包验证失败): {exc}") from exc
    witnessed = "".join(f"; cosigned by witness {name}" + ("" if at is None else f" as of {format_time(at)}")
                        for name, at in report.witnessed_by)
    click.echo(f"verified (验证通过): cadre {report.cadre_id}, {report.events} events, included in log "
               f"{report.origin} at tree size {report.tree_size} (root {report.root_hex}), signed by "
               f"{', '.join(report.signed_by)}{witnessed}")


@click.command(help="Generate an Ed25519 signing key pair (生成签名密钥对) as signed-note keys: NAME.skey (private, "
               "私钥, mode 0600; keep it out of the database) and NAME.vkey (public, 公钥, give it to auditors). "
               "Without --cosignature: the ledger's checkpoint signing key (type 0x01). With --cosignature: a "
               "witness key (见证方密钥) for `cadre-ledger witness cosign`.")
@click.argument("name")
@click.option("--out", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Directory for the key files (密钥目录); created if its parent exists.")
@click.option("--cosignature", is_flag=True,
              help="Make a witness key for timestamped C2SP tlog-cosignature cosignatures (联署, cosignature/v1, "
              "type 0x04): each cosignature states when (时间戳 timestamp) the witness saw the checkpoint. Give "
              "NAME.vkey to the ledger operator (CADRE_WITNESS_KEYS) and to auditors (verify --witness-key).")
def keygen(name: str, directory: Path, cosignature: bool) -> None:
    """Write a new key pair; never overwrite an existing one."""
    from shared.signednote import COSIGNATURE_V1_TYPE, ED25519_TYPE, NoteError, generate_key

    try:
        skey, vkey = generate_key(name, COSIGNATURE_V1_TYPE if cosignature else ED25519_TYPE)
    except NoteError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from exc
    if "/" in name or name in (".", ".."):  # a key name may hold "/", but NAME.skey must be a file in --out
        raise click.BadParameter(f"{name!r} names the files NAME.skey and NAME.vkey: no '/' (密钥名称不能含 /)",
                                 param_hint="NAME")
    make_directory(directory)
    skey_path, vkey_path = directory / f"{name}.skey", directory / f"{name}.vkey"
    for path in (skey_path, vkey_path):
        try:
            exists = path.exists()
        except OSError as exc:  # a name too long for the file system fails here first
            raise cannot_write(path, exc) from exc
        if exists:
            raise CannotRun(f"{path} exists; not overwriting a key (密钥已存在)")
    write_bytes(skey_path, (skey + "\n").encode(), mode=0o600, exclusive=True)
    try:
        write_bytes(vkey_path, (vkey + "\n").encode(), exclusive=True)
    except CannotRun:
        skey_path.unlink()  # half a pair is no key: a second run would refuse to overwrite it
        raise
    click.echo(f"private key (私钥): {skey_path}")
    click.echo(f"public key (公钥):  {vkey_path}")
    click.echo(vkey)


@click.command(help="Download a cadre's verifiable history bundle (导出履历包) from the ledger over HTTP and write "
               "it to a file; check it offline with `cadre-ledger verify bundle FILE --key PUB`.")
@click.argument("cadre_id", callback=cadre_id_arg)
@click.option("--url", default=None, callback=ledger_url_option,
              help="Ledger base URL (账本地址); default: CADRE_LEDGER_URL.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Bundle file to write (输出文件).")
@click.option("--token", envvar="CADRE_TOKEN", required=True, help=TOKEN_HELP)
@click.option("--witnessed", is_flag=True, help="Lead the proofs to the newest checkpoint every witness cosigned "
              "(经见证的检查点), for `verify bundle --witness-key`; fails while none covering the cadre is cosigned.")
def export(cadre_id: str, url: str | None, out: Path, token: str, witnessed: bool) -> None:
    """Fetch the bundle and write it as compact JSON (every byte matters to the offline check)."""
    target = f"{ledger_base(url)}/v1/cadres/{cadre_id}/bundle" + ("?witnessed=true" if witnessed else "")
    bundle = ledger_answer(get_json(target, token, timeout=EXPORT_TIMEOUT_S), target, "events")
    write_bytes(out, orjson.dumps(bundle))
    click.echo(f"wrote {out}: cadre {cadre_id}, {len(bundle.get('events', []))} events (已导出履历包)")


@click.group(help="Witness commands (见证方): cosign the ledger's checkpoints after checking consistency.")
def witness() -> None:
    """The witness command group."""


@witness.command(help="Cosign the ledger's latest checkpoint (联署检查点) as a witness, e.g. the audit office: "
                 "check the ledger's signature, check an RFC 9162 consistency proof (一致性证明) from the last "
                 "checkpoint this witness cosigned (kept in --state), add the witness's signature and post it. "
                 "Exit 0: cosigned; 1: refused (a fork 分叉, a rollback, another log, or the ledger refusing the "
                 "cosignature by a rule, 账本拒绝); 2: could not run.")
@click.option("--key", "skey", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The witness's private key file (见证方私钥, NAME.skey from `cadre-ledger keygen --cosignature "
              "NAME`): its cosignatures are C2SP cosignature/v1 with a timestamp (时间戳). An older key made "
              "without --cosignature still works and adds a plain signature without a time.")
@click.option("--ledger-key", "ledger_keys", multiple=True, required=True, help=KEY_HELP)
@click.option("--url", default=None, callback=ledger_url_option,
              help="Ledger base URL (账本地址); default: CADRE_LEDGER_URL.")
@click.option("--state", "state", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The witness's state file (见证状态): the last checkpoint it cosigned; created on first use.")
@click.option("--token", envvar="CADRE_TOKEN", required=True, help=TOKEN_HELP)
def cosign(skey: Path, ledger_keys: tuple[str, ...], url: str | None, state: Path, token: str) -> None:
    """Run one witness round."""
    from shared.cosignature import format_time
    from shared.keys import KeyFileError, load_signer
    from shared.signednote import COSIGNATURE_V1_TYPE, ED25519_TYPE
    from shared.witness import WitnessError, WitnessRefusal, cosign_latest

    try:
        signer = load_signer(skey, key_types=(ED25519_TYPE, COSIGNATURE_V1_TYPE))
    except KeyFileError as exc:
        raise CannotRun(str(exc)) from exc
    if signer.key_type != COSIGNATURE_V1_TYPE:
        # Kept working so configured witnesses and their stored cosignatures stay valid; nudged to move on.
        click.echo(f"note (提示): {skey} is a plain signed-note key (type 0x01): its cosignatures carry no time "
                   "(无时间戳). Make a cosignature/v1 key with `cadre-ledger keygen --cosignature NAME` and have the "
                   "ledger operator add its .vkey to CADRE_WITNESS_KEYS.", err=True)
    verifiers = _verifiers(ledger_keys)
    try:
        result = asyncio.run(cosign_latest(ledger_base(url), signer, verifiers, state, token))
    except WitnessRefusal as exc:
        raise Failed(str(exc)) from exc
    except WitnessError as exc:
        raise CannotRun(str(exc)) from exc
    since = "first checkpoint seen, trusted on first use (首次信任)" if result.previous_size is None else \
        f"consistent with size {result.previous_size} (与已联署检查点一致)"
    when = "" if result.timestamp is None else \
        f"; cosignature/v1 timestamp (时间戳) {result.timestamp} ({format_time(result.timestamp)})"
    if result.latest_timestamp is not None:
        when += f", renewed (续签) as of {result.latest_timestamp} ({format_time(result.latest_timestamp)})"
    click.echo(f"cosigned (已联署) checkpoint #{result.checkpoint_id}: size {result.size}, root {result.root_hex}; "
               f"{since}{when}")


COMMANDS = (verify, keygen, export, witness)
"""Registered on the `cadre-ledger` group by shared.cli."""
