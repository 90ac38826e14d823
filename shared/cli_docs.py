"""`cadre-ledger asyncapi`, `config-doc` and `nats-config`: generated files, written or checked for drift."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from shared.cli_io import CannotRun, cannot_write, read_text

ASYNCAPI_FILE = Path("docs") / "asyncapi.json"
CONFIG_DOC_FILE = Path("docs") / "configuration.md"
NATS_CONFIG_FILE = Path("deploy") / "nats" / "nats.conf"


def write_or_check(path: Path, rendered: str, mode: str, what: str, command: str) -> None:
    """Write `rendered` to `path`, or fail (exit 1) when the committed file differs from it.

    A file that is missing or cannot be read was not checked (exit 2): "drifted, run --write" would have the user
    write a file where none belongs, when the command most likely ran outside the project's directory.
    """
    if mode == "write":
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(rendered)
        except OSError as exc:
            raise cannot_write(path, exc) from exc
        click.echo(f"wrote {what} to {path}")
        return
    if not path.exists():
        raise CannotRun(f"{path} is missing (文件不存在): run it in the project's directory, pass --file, or "
                        f"create it with `cadre-ledger {command} --write`")
    if read_text(path) != rendered:
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


def _partition_names(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    from shared.nats_config import PARTITION_NAME

    for name in value:
        if not PARTITION_NAME.match(name):
            raise click.BadParameter(f"{name!r}: a partition's name is a lower-case letter, then up to 15 lower-case "
                                     "letters or digits (分区名: 小写字母开头, 至多16个小写字母或数字)")
    if len(set(value)) < len(value):
        raise click.BadParameter("a partition is named more than once (分区重复)")
    return value


@click.command(name="nats-config", help="Write or check deploy/nats/nats.conf, one NATS user per service "
               "(消息总线权限配置). With --partition: one NATS account per partition (分区) of a larger ledger, "
               "on one shared nats-server; write it to a file of your own with --file.")
@click.option("--write", "mode", flag_value="write", help=f"Regenerate the file (default {NATS_CONFIG_FILE}).")
@click.option("--check", "mode", flag_value="check", default=True, help="Fail when the file drifts (default).")
@click.option("--file", "path", type=click.Path(path_type=Path), default=NATS_CONFIG_FILE, show_default=True)
@click.option("--partition", "partitions", multiple=True, callback=_partition_names,
              help="A partition's name (e.g. a province: hn); repeat for each. Each gets an account of its own "
              "with the users <partition>-admin, -ledger, -assessment, -audit and -rotation, their passwords from "
              "CADRE_NATS_<PARTITION>_<USER>_PASSWORD.")
def nats_config(mode: str, path: Path, partitions: tuple[str, ...]) -> None:
    """Write or check a nats-server configuration rendered from shared/nats_config.py."""
    from shared.nats_config import deploy_config, partition_options

    command = f"nats-config{partition_options(partitions)} --file {path}" if partitions else "nats-config"
    write_or_check(path, deploy_config(partitions), mode, "NATS permissions", command)


COMMANDS = [
    nats_config,
    _generated("asyncapi", ASYNCAPI_FILE, "event catalogue", _render_asyncapi,
               "Write or check the AsyncAPI 3.0 document of the NATS side (消息接口文档)."),
    _generated("config-doc", CONFIG_DOC_FILE, "settings", _render_config_doc,
               "Write or check the configuration reference generated from the settings (配置参考)."),
]
