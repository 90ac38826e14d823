"""The configuration reference (docs/configuration.md), generated from `shared.settings.Settings`."""

from __future__ import annotations

import types
import typing
from datetime import date
from pathlib import Path
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from shared.settings import Settings

_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean (true/false)", Path: "file path",
          date: "date (YYYY-MM-DD)"}

_HEADER = """# Configuration reference (配置参考)

<!-- Generated from shared/settings.py by `cadre-ledger config-doc --write`; a test fails when it drifts. -->

Every setting is an environment variable named `CADRE_<NAME>`, read once when a service starts
(pydantic-settings). Unset variables take the default. Lists are JSON (`["a", "b"]`). A value outside its type or
bounds stops the service at start with exit code 2 and one line per variable: its name, its value and what it must
be. The CLI reads the settings only when a command needs one it was not given as an option (`run`; `history`,
`state`, `export` and `witness cosign` without `--url`; `verify` without `--dsn`), and then stops the same way on
any value that does not fit; a command given what it needs does not read them, so a variable meant for a service
cannot stop it.

每个设置都是名为 `CADRE_<名称>` 的环境变量，服务启动时读取一次；未设置时取默认值；列表用 JSON 书写。
取值不符合类型或范围时，服务启动即退出（退出码 2），逐行列出变量名、取值和要求（配置无效）。命令行只在命令需要某项设置
而未以选项给出时才读取设置（`run`；未给 `--url` 的 `history`、`state`、`export`、`witness cosign`；未给 `--dsn` 的
`verify`），此时任一取值不符同样退出；已给出所需选项的命令不读取设置。
Which service reads which setting: the dev stack and the CLI read the `data_dir` and URL settings;
the ledger reads the checkpoint, batch and writer settings; every service reads the NATS,
PostgreSQL, HTTP, authentication and log settings. Production deployments set them through
deploy/compose.yaml or the ConfigMap in deploy/k8s/configmap.yaml (secrets through files).

| variable (变量) | type (类型) | default (默认值) | bounds (范围) | meaning (含义) |
|---|---|---|---|---|
"""


def _type_name(annotation: Any) -> str:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:  # a constrained type (a county code): its base type
        return _type_name(args[0])
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        names = [_type_name(a) for a in args if a is not type(None)]
        optional = type(None) in args
        return " or ".join(names) + (", optional" if optional else "")
    if typing.get_origin(annotation) is list:
        return f"JSON list of {_type_name(args[0])}s"
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    return _TYPES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined or field.default is None:
        return "unset"
    else:
        value = field.default
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`{value!r}`".replace("'", '"')
    return f"`{value}`"


def _bounds(field: FieldInfo) -> str:
    parts = []
    for item in field.metadata:
        if isinstance(item, Ge):
            parts.append(f"≥ {item.ge}")
        elif isinstance(item, Gt):
            parts.append(f"> {item.gt}")
        elif isinstance(item, Le):
            parts.append(f"≤ {item.le}")
        elif isinstance(item, Lt):
            parts.append(f"< {item.lt}")
    return ", ".join(parts)


_FOOTER = """
Besides the settings, three variables are read where they are used, not by the services' settings:
`CADRE_CALENDAR_FILE`, an operator's working-day calendar file, read wherever working days are counted
(the command services, the ledger's read models, `python -m shared.workdays`; [calendar.md](calendar.md),
"Operator file"); `CADRE_TOKEN`, the bearer token of the CLI's `history`, `state`, `quarantine`,
`access`, `export` and `witness cosign` when `--token` is not given; and `CADRE_CHROMIUM`, the Chromium that
`make test`'s browser tests drive (default `/usr/bin/chromium`).

设置之外另有三个变量，由使用处直接读取：`CADRE_CALENDAR_FILE`（运维覆盖的工作日历文件，
凡计算工作日处均读取：命令服务、台账读模型、`python -m shared.workdays`，见 [calendar.md](calendar.md)）、
`CADRE_TOKEN`（命令行 `history`、`state`、`quarantine`、`access`、`export`、`witness cosign` 未给 `--token`
时使用的令牌）、
`CADRE_CHROMIUM`（`make test` 浏览器测试使用的 Chromium，默认 `/usr/bin/chromium`）。
"""


def render_config_doc() -> str:
    """The Markdown reference of every setting, in declaration order."""
    rows = []
    for name, field in Settings.model_fields.items():
        meaning = " ".join((field.description or "").split()).replace("|", "\\|")
        rows.append(f"| `CADRE_{name.upper()}` | {_type_name(field.annotation)} | {_default(field)} | "
                    f"{_bounds(field)} | {meaning} |")
    return _HEADER + "\n".join(rows) + "\n" + _FOOTER
