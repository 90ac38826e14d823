"""Rebuild read models from position 0 (重建读模型): `python -m services.ledger.rebuild [NAME ...]`.

For an operator: to repair a read model, or after an upgrade whose notes say a read model's rules changed.
Each read model is emptied and replayed from the ledger in a transaction of its own, on a connection of its
own, over one shared read of the ledger, so its queries wait for its rebuilt tables (they never see half of
them) and the ledger's own projection runner waits on the same locks; the ledger may keep running meanwhile.
"""

from __future__ import annotations

import asyncio
import sys
import time

import asyncpg
import click

from services.ledger.projections import Projection, rebuild_connected
from services.ledger.read_models import all_projections
from shared.collector import tune_collector
from shared.service import writer_dsn
from shared.settings import get_settings


async def _rebuild(dsn: str, projections: list[Projection]) -> int:
    def progress(at: int, tip: int) -> None:
        click.echo(f"\r  {at:,} / {tip:,} positions", nl=False, err=True)

    return await rebuild_connected(dsn, projections, progress if sys.stderr.isatty() else None)


@click.command(help="Rebuild read models from position 0 (重建读模型): every one, or those NAMEd. Each is emptied "
               "and replayed from the ledger in a transaction of its own, so its queries wait for its rebuilt "
               "tables instead of seeing half of them; the ledger may keep running. Exit 0: rebuilt; 2: unknown "
               "name or PostgreSQL unreachable (a read model whose rebuild failed keeps its rows).")
@click.argument("names", nargs=-1)
@click.option("--dsn", default=None, help="PostgreSQL DSN of the ledger's writer role (写入角色), which owns the read "
              "models' tables; default: CADRE_PG_WRITER_DSN, else CADRE_PG_DSN as cadre_writer.")
@click.option("--list", "list_only", is_flag=True, help="List the read models' names and exit (列出读模型).")
def main(names: tuple[str, ...], dsn: str | None, list_only: bool) -> None:
    """Rebuild the named read models, or all."""
    projections = {p.name: p for p in all_projections()}
    if list_only:
        for name in sorted(projections):
            click.echo(name)
        return
    if unknown := sorted(set(names) - set(projections)):
        raise click.UsageError(f"no read model named {', '.join(unknown)} (无此读模型); the read models: "
                               f"{', '.join(sorted(projections))}")
    chosen = [projections[n] for n in dict.fromkeys(names)] or list(projections.values())
    tune_collector()
    began = time.perf_counter()
    try:
        tip = asyncio.run(_rebuild(dsn or writer_dsn(get_settings()), chosen))
    except (OSError, asyncpg.PostgresError) as exc:
        click.echo(f"cannot rebuild (无法重建): {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
    click.echo(f"rebuilt (已重建) {', '.join(p.name for p in chosen)}: positions 1..{tip:,} in "
               f"{time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
