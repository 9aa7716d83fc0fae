"""`gcot db upgrade`: bring the Slack state store's schema to the newest revision.

The app does this itself at start-up; run it from a deploy step to migrate before replicas roll.
"""

from __future__ import annotations

from typing import Annotated

import typer

db_app = typer.Typer(help="The Slack app's state database (GCOT_DATABASE_URL, or SQLite in the data dir).",
                     no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach the `db` command group to the `gcot` app."""
    app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say which revision it went from and to.")] = False,
) -> None:
    """Run pending schema migrations (safe while other replicas start or run)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.slack.state.engine import database_url, make_engine
    from bot.slack.state.migrate import upgrade as run_upgrade
    from gcot.cli_support import load_settings

    settings = load_settings()
    try:
        engine = make_engine(database_url(settings), pool_size=1)
        result = run_upgrade(engine)
    except (ValueError, SQLAlchemyError) as exc:
        typer.echo(f"error: cannot migrate the state database: {type(exc).__name__}: {str(exc).splitlines()[0]}",
                   err=True)
        raise typer.Exit(2) from None
    engine.dispose()
    if verbose or result.applied:
        typer.echo(f"state database at revision {result.after}" +
                   (f" (was {result.before or 'empty'})" if result.applied else " (up to date)"), err=True)
