"""`cadre-ledger`: run the dev stack, read histories and the access trail, manage the event catalogue's schemas."""

from __future__ import annotations

import json
import signal
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import click

from shared.cli_args import Day
from shared.cli_args import cadre_id as cadre_id_arg
from shared.cli_args import county as county_arg
from shared.cli_io import CannotRun, get_json, ledger_answer, ledger_base, ledger_url_option, write_bytes
from shared.settings import get_settings
from shared.urls import redacted

SCHEMA_DIR = Path("schemas") / "events"


@click.group(help="cadre-ledger: a verifiable ledger of cadres' careers (干部任用监督可验证台账).")
def main() -> None:
    """The command group."""


@main.command(help="Start NATS, PostgreSQL and every service locally; Ctrl-C stops all (启动本地环境).")
@click.option("--demo/--no-demo", default=False, help="Load a demo county after start (加载演示数据).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Where the embedded servers keep data (default: CADRE_DATA_DIR or ./var).")
def run(demo: bool, data_dir: Path | None) -> None:
    """Run the whole system in the foreground."""
    # A shell script's background job starts with SIGINT ignored, which Python then leaves so: `kill -INT` (what
    # Ctrl-C sends) would not stop it. Asked to stop, it stops.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from shared.devstack import DevStack, DevStackError
    from shared.processes import SERVICES, PortInUse, ServiceProcess, port_in_use

    settings = get_settings()
    for spec in SERVICES:  # before anything starts: a taken port would answer /readyz for the service
        if port_in_use(port := getattr(settings, f"{spec.name}_port")):
            raise click.ClickException(str(PortInUse(spec, port)))
    data = (data_dir or settings.data_dir).resolve()
    try:
        stack = DevStack(data, nats_url=settings.nats_url, pg_dsn=settings.pg_dsn).start()
    except DevStackError as exc:
        raise CannotRun(str(exc)) from exc
    assert stack.nats_url and stack.pg_dsn
    procs: list[ServiceProcess] = []
    try:
        for spec in SERVICES:
            port = getattr(settings, f"{spec.name}_port")
            proc = ServiceProcess(spec, port, stack.service_env(spec.name), data / "logs")
            procs.append(proc)
            proc.wait_ready()
        tokens = _write_dev_tokens(stack, data / "tokens")
        if demo:
            from shared.demo import load_demo

            count = load_demo({p.spec.name: p.url for p in procs}, tokens["recorder"])
            click.echo(f"demo county 431021 loaded: {count} events (演示数据已加载)" if count else
                       "demo county 431021 already in the ledger, nothing to add (演示数据已存在)")
        click.echo("cadre-ledger is running (已启动):")
        click.echo(f"  NATS        {stack.nats_url.split('@')[-1]}  (users and passwords: "
                   f"{data / 'nats' / 'users.json'})")
        click.echo(f"  PostgreSQL  {redacted(stack.pg_dsn)}")  # without the password CADRE_PG_DSN may hold
        for p in procs:
            click.echo(f"  {p.spec.name:<11} {p.url}  (docs: {p.url}/docs)")
        click.echo("  tokens (令牌), one per role, valid 30 days:")
        for role in tokens:
            click.echo(f"    {role:<9} {data / 'tokens' / f'{role}.token'}")
        click.echo(f"  try: curl -H \"Authorization: Bearer $(cat {data / 'tokens' / 'auditor.token'})\" "
                   f"'{procs[0].url}/v1/events?limit=5'")
        ledger = next(p.url for p in procs if p.spec.name == "ledger")
        click.echo(f"  auditor page (审阅页面) {ledger}/  (paste the auditor token; save the log key "
                   f"{stack.checkpoint_key_file().with_suffix('.vkey')} under 可信公钥 to check signatures)")
        click.echo(f"  logs in {data / 'logs'}; Ctrl-C to stop (按 Ctrl-C 停止)")
        _wait_for_interrupt(procs)
    finally:
        for p in reversed(procs):
            p.stop()
        stack.stop()


def _write_dev_tokens(stack: Any, directory: Path) -> dict[str, str]:
    """One dev token per role (all counties), written to `directory/<role>.token`, readable by its owner only:
    each opens every county's records for 30 days."""
    directory.mkdir(parents=True, exist_ok=True)
    tokens = {role: stack.dev_token([role]) for role in ("recorder", "auditor", "operator")}
    for role, token in tokens.items():
        path = directory / f"{role}.token"
        # made anew: a file of an earlier run keeps its mode, and whoever holds it open would read the new token
        path.unlink(missing_ok=True)
        write_bytes(path, (token + "\n").encode(), mode=0o600)
    return tokens


def _wait_for_interrupt(procs: list[Any]) -> None:
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while True:
            for p in procs:
                if p.proc.poll() is not None:
                    click.echo(f"{p.spec.name} exited ({p.proc.returncode}); see {p.log_path}", err=True)
                    return
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("stopping (正在停止)…")


@main.command(help="Print a cadre's history from the ledger (干部履历).")
@click.argument("cadre_id", callback=cadre_id_arg)
@click.option("--url", default=None, callback=ledger_url_option, help="Ledger base URL (default: CADRE_LEDGER_URL).")
@click.option("--token", envvar="CADRE_TOKEN", required=True, help="Auditor token (or CADRE_TOKEN).")
def history(cadre_id: str, url: str | None, token: str) -> None:
    """Fetch every page of a cadre's history and print it as JSON lines."""
    _print_pages(f"{ledger_base(url)}/v1/cadres/{cadre_id}/history?limit=1000&after_version=", 0, token,
                 "events", "next_after_version")


def _print_pages(url: str, after: int, token: str, items: str, cursor: str) -> None:
    """Print each item of every page from `after` on, one JSON line each; `url` ends where the cursor goes."""
    while True:
        target = f"{url}{after}"
        page = ledger_answer(get_json(target, token), target, items, cursor)
        for item in page[items]:
            click.echo(json.dumps(item, ensure_ascii=False))
        if page[cursor] is None:
            return
        after = page[cursor]


@main.command(help="Print the messages the ledger quarantined (隔离消息) with their reasons, one JSON line each: "
                   "stream sequence, subject, reason and what it means, detail, headers, raw bytes.")
@click.option("--after", type=click.IntRange(min=0), default=0, help="Only entries after this quarantine id.")
@click.option("--county", default=None, callback=county_arg,
              help="Only messages published on this county's subjects (县); a county-scoped token must name one.")
@click.option("--url", default=None, callback=ledger_url_option, help="Ledger base URL (default: CADRE_LEDGER_URL).")
@click.option("--token", envvar="CADRE_TOKEN", required=True, help="Operator token (or CADRE_TOKEN).")
def quarantine(after: int, county: str | None, url: str | None, token: str) -> None:
    """Fetch every page of the quarantine after `after` and print it as JSON lines."""
    only = f"county={county}&" if county else ""
    _print_pages(f"{ledger_base(url)}/v1/quarantine?{only}limit=1000&after=", after, token, "entries", "next_after")


@main.command(help="Print the access trail (查阅记录), one JSON line each: who read which cadre's dossier, when and "
                   "why, and who read the event feed or a list (批量读取: route, county, filters, rows and cadres "
                   "answered, the feed's positions).")
@click.option("--after", type=click.IntRange(min=0), default=0, help="Only entries after this stream sequence.")
@click.option("--county", default=None, callback=county_arg,
              help="Reads of this county's cadres, and bulk reads filtered by it (县); a county-scoped token must "
                   "name one.")
@click.option("--cadre-id", "cadre_id", default=None, help="Reads of this cadre's dossier.")
@click.option("--principal", default=None, help="Reads by this token subject (查阅人).")
@click.option("--kind", type=click.Choice(["cadre", "bulk"]), default=None,
              help="cadre: dossier reads (逐人查阅); bulk: reads of the event feed and of lists (批量读取).")
@click.option("--route", default=None, help="Bulk reads of this route, e.g. /v1/events (接口).")
@click.option("--url", default=None, callback=ledger_url_option, help="Ledger base URL (default: CADRE_LEDGER_URL).")
@click.option("--token", envvar="CADRE_TOKEN", required=True, help="Operator token (or CADRE_TOKEN).")
def access(after: int, county: str | None, cadre_id: str | None, principal: str | None, kind: str | None,
           route: str | None, url: str | None, token: str) -> None:
    """Fetch every page of the access trail after `after` and print it as JSON lines."""
    given = {"county": county, "cadre_id": cadre_id, "principal": principal, "kind": kind, "route": route}
    only = "".join(f"{urlencode({k: v})}&" for k, v in given.items() if v is not None)
    _print_pages(f"{ledger_base(url)}/v1/access?{only}limit=1000&after=", after, token, "entries", "next_after")


@main.command(help="Print a cadre's state on a day from the ledger (某日状态): posts, assessment, audits, supervision, "
                   "as the ledger's events up to that day make them.")
@click.argument("cadre_id", callback=cadre_id_arg)
@click.option("--as-of", "as_of", type=Day(), default=None,
              help="The day, YYYY-MM-DD (截至日期); default: every event recorded.")
@click.option("--url", default=None, callback=ledger_url_option, help="Ledger base URL (default: CADRE_LEDGER_URL).")
@click.option("--token", envvar="CADRE_TOKEN", required=True, help="Auditor token (or CADRE_TOKEN).")
def state(cadre_id: str, as_of: date | None, url: str | None, token: str) -> None:
    """Fetch the cadre's dossier folded up to `as_of` and print it as JSON."""
    base = ledger_base(url)
    query = f"?as_of={as_of.isoformat()}" if as_of else ""
    click.echo(json.dumps(get_json(f"{base}/v1/cadres/{cadre_id}/state{query}", token), ensure_ascii=False, indent=2))


@main.command(help="Write or check the committed JSON Schemas of the event catalogue (事件目录).")
@click.option("--write", "mode", flag_value="write", help="Regenerate schemas/events/*.json.")
@click.option("--check", "mode", flag_value="check", default=True, help="Fail when the files drift (default).")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=SCHEMA_DIR)
def schemas(mode: str, directory: Path) -> None:
    """Generate every event type's JSON Schema and write or compare them."""
    from shared.schemas import render_schemas

    rendered = render_schemas()
    if mode == "write":
        directory.mkdir(parents=True, exist_ok=True)
        for stale in set(p.name for p in directory.glob("*.json")) - set(rendered):
            (directory / stale).unlink()
        for name, text in rendered.items():
            (directory / name).write_text(text)
        click.echo(f"wrote {len(rendered)} schemas to {directory}")
        return
    if not directory.is_dir():
        raise CannotRun(f"no schemas directory {directory} (未找到事件模式目录): run it in the project's "
                        "directory, or pass --dir")
    drift = [name for name, text in rendered.items()
             if not (directory / name).exists() or (directory / name).read_text() != text]
    drift += [p.name for p in directory.glob("*.json") if p.name not in rendered]
    if drift:
        raise click.ClickException(f"schemas drifted from the catalogue: {', '.join(sorted(drift))}; "
                                   "run `make schemas`")
    click.echo(f"{len(rendered)} schemas match the catalogue")


def _register_subcommands() -> None:
    from shared.cli_docs import COMMANDS as DOC_COMMANDS
    from shared.cli_proofs import COMMANDS as PROOF_COMMANDS
    from shared.cli_token import token

    main.add_command(token)
    for command in DOC_COMMANDS:
        main.add_command(command)
    for command in PROOF_COMMANDS:
        main.add_command(command)


_register_subcommands()

if __name__ == "__main__":  # after every command is registered: `python -m shared.cli asyncapi` must find it
    sys.exit(main())
