"""Command-line arguments several commands share, checked before anything is sent."""

from __future__ import annotations

import re

import click


def cadre_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A cadre id as the ledger writes it; anything else is a usage error naming the form, never a traceback (an id
    with a space or a slash would otherwise make a URL that cannot be sent, or one that names another route)."""
    from shared.envelope import CADRE_ID_PATTERN  # here, not above: `--help` need not load the event catalogue

    if not re.fullmatch(CADRE_ID_PATTERN, value):
        raise click.BadParameter(f"{value!r}: a cadre id is 1-64 letters, digits, '_' or '-' (干部编号格式不符)")
    return value
