"""`gcot index check`: compare Chroma, the per-document records and the lexical index; exit 1 on drift."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from gcot.cli_support import load_settings

index_app = typer.Typer(help="Inspect the index.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")


@index_app.command("check")
def check(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False) -> None:
    """Exit 1 if a chunk has no current document, a document misses chunks, or BM25 differs from Chroma."""
    from store.check import check_index

    try:
        result = check_index(load_settings())
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result))
    elif result["clean"]:
        typer.echo(f"Index {result['version']} is consistent: {result['documents']} documents, {result['chunks']} chunks.")
    else:
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(result["counts"].items()))
        typer.echo(f"Index drift: {counts}.")
        for problem in result["problems"]:
            typer.echo("  " + " ".join(f"{k}={v}" for k, v in problem.items()))
    if not result["clean"]:
        raise typer.Exit(1)
