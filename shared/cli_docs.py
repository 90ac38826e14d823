"""`cadre-ledger asyncapi`, `config-doc` and `nats-config`: generated files, written or checked for drift."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

ASYNCAPI_FILE = Path("docs") / "asyncapi.json"
CONFIG_DOC_FILE = Path("docs") / "configuration.md"
NATS_CONFIG_FILE = Path("deploy") / "nats" / "nats.conf"


def write_or_check(path: Path, rendered: str, mode: str, what: str, command: str) -> None:
    """Write `rendered` to `path`, or fail (exit 1) when the committed file differs from it."""
    if mode == "write":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered)
        click.echo(f"wrote {what} to {path}")
        return
    if not path.exists() or path.read_text() != rendered:
        raise click.ClickException(f"{path} drifted from the {what}; run `cadre-ledger {command} --write`")
    click.echo(f"{path} matches the {what}")


def _generated(name: str, default: Path, what: str, render: Callable[[], str],
               help_text: str) -> click.Command:
    @click.command(name=name, help=help_text)
    @click.option("--write", "mode", flag_value="write", help=f"Regenerate {default}.")
    @click.option("--check", "mode", flag_value="check", default=True, help="Fail when the file drifts (default).")
    @click.option("--file", "path", type=click.Path(path_type=Path), default=default, show_default=True)
    def command(mode: str, path: Path) -> None:
        write_or_check(path, render(), mode, what, name)

    return command


def _render_asyncapi() -> str:
    from shared.asyncapi import render_asyncapi

    return render_asyncapi()


def _render_config_doc() -> str:
    from shared.config_doc import render_config_doc

    return render_config_doc()


def _render_nats_config() -> str:
    from shared.nats_config import deploy_config

    return deploy_config()


COMMANDS = [
    _generated("nats-config", NATS_CONFIG_FILE, "NATS permissions", _render_nats_config,
               "Write or check deploy/nats/nats.conf, one NATS user per service (消息总线权限配置)."),
    _generated("asyncapi", ASYNCAPI_FILE, "event catalogue", _render_asyncapi,
               "Write or check the AsyncAPI 3.0 document of the NATS side (消息接口文档)."),
    _generated("config-doc", CONFIG_DOC_FILE, "settings", _render_config_doc,
               "Write or check the configuration reference generated from the settings (配置参考)."),
]
