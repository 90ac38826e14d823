"""`cadre-ledger token`: make the token keys and issue bearer tokens (令牌)."""

from __future__ import annotations

from pathlib import Path

import click

from shared.auth import ROLES, Role, TokenError, ensure_token_keys, issue_token, load_private_key
from shared.cli_io import CannotRun, cannot_write, make_directory


@click.group(help="Bearer tokens for the HTTP APIs (访问令牌).")
def token() -> None:
    """The token command group."""


@token.command(help="Create the issuer key pair (token-issuer.pem, token-verify.pem) in DIR (生成密钥); DIR is "
               "created if its parent exists. An existing pair is never overwritten (exit 2).")
@click.argument("directory", type=click.Path(path_type=Path))
def keygen(directory: Path) -> None:
    """Generate the key pair; never overwrite one (tokens issued with it would stop verifying)."""
    make_directory(directory)
    private_path, public_path = directory / "token-issuer.pem", directory / "token-verify.pem"
    for path in (private_path, public_path):
        if path.exists():
            raise CannotRun(f"{path} exists; not overwriting a key (密钥已存在)")
    try:
        ensure_token_keys(directory)
    except OSError as exc:
        raise cannot_write(Path(exc.filename or directory), exc) from exc
    click.echo(f"issuer key (keep secret): {private_path}")
    click.echo(f"verify key (CADRE_AUTH_PUBLIC_KEY_FILE): {public_path}")


@token.command(help="Issue a token: roles recorder (记录员), auditor (审计员), operator (运维员).")
@click.option("--key", "key_path", type=click.Path(exists=True, path_type=Path), required=True,
              help="The issuer's private key (token-issuer.pem).")
@click.option("--subject", required=True, help="Who the token is for, e.g. a county system's name: the access "
              "trail (查阅记录) names it for every read; 1-128 printable characters.")
@click.option("--role", "roles", type=click.Choice(ROLES), multiple=True, required=True, help="Repeatable.")
@click.option("--county", "counties", multiple=True, required=True,
              help="6-digit county code the token covers, repeatable; '*' for all (县域范围).")
@click.option("--ttl", "ttl_s", type=click.IntRange(60, 366 * 86400), default=86400, show_default=True,
              help="Seconds the token stays valid.")
def issue(key_path: Path, subject: str, roles: tuple[str, ...], counties: tuple[str, ...], ttl_s: int) -> None:
    """Print a signed token."""
    for county in counties:
        if county != "*" and not (len(county) == 6 and county.isdigit()):
            raise click.BadParameter(f"{county!r} is not a 6-digit county code or '*' (县级代码)",
                                     param_hint="--county")
    try:
        key = load_private_key(key_path)
    except TokenError as exc:
        raise click.BadParameter(str(exc), param_hint="--key") from exc
    role_list: list[Role] = [r for r in ROLES if r in roles]
    try:
        click.echo(issue_token(key, subject, role_list, list(counties), ttl_s))
    except ValueError as exc:  # the subject: issue_token says what it must be
        raise click.BadParameter(str(exc), param_hint="--subject") from exc
