"""`gcot ingest`: the ingest job's command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from gcot.cli_support import load_settings


def register(app: typer.Typer) -> None:
    from store import cli as store_cli

    app.command()(ingest)
    store_cli.register(app)  # `gcot index check`, which ingest runs at its end


def ingest(
    sources: Annotated[Optional[list[Path]], typer.Argument(help="Folders or files to ingest. Defaults to corpus/.")] = None,
    no_prune: Annotated[bool, typer.Option("--no-prune", help="Keep documents whose file is gone.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail (exit 1), writing nothing, if any file is bad.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a summary.")] = False,
) -> None:
    """Load, chunk, embed and index documents; re-runs only touch what changed."""
    from ingest.pipeline import StrictModeError
    from ingest.pipeline import ingest as run_ingest
    from store import StoreLockedError

    settings = load_settings()
    try:
        result = run_ingest(sources or [Path("corpus")], settings=settings, prune=not no_prune, strict=strict,
                            progress=sys.stderr.isatty() and not as_json)
    except StrictModeError as exc:
        payload = {"failed": len(exc.errors), "errors": exc.errors, "written": False}
        typer.echo(json.dumps(payload) if as_json else _format_errors(exc.errors) + f"\n{exc}", err=not as_json)
        raise typer.Exit(1) from None
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except StoreLockedError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(
        f"Ingested {result['documents_seen']} files into {result['collection']}: "
        f"{result['added']} added, {result['updated']} updated, {result['unchanged']} unchanged, "
        f"{result['deleted']} deleted, {result['failed']} failed.\n"
        f"Chunks: {result['chunks_embedded']} embedded, {result['chunks_total']} in the index, "
        f"{result['chunks_truncated']} over the model window. Took {result['seconds']:.1f} s."
    )
    if result["defaulted"]:
        typer.echo(f"{len(result['defaulted'])} document(s) state no visibility and took a default:")
        typer.echo("\n".join(f"  {d['path']}: {d['visibility']} (from {d['source']})" for d in result["defaulted"]))
    if result["errors"]:
        typer.echo(_format_errors(result["errors"]))
    if not result["check"]["clean"]:
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(result["check"]["counts"].items()))
        typer.echo(f"warning: index check found drift ({counts}); run `gcot index check` for details", err=True)


def _format_errors(errors: list[dict]) -> str:
    return "\n".join(f"  skipped {error['path']}: {error['error']}" for error in errors)
