"""`gcot slack` (run the bot) and `gcot feedback export` (unhelpful answers -> eval cases)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from gcot.cli_support import fail, load_settings

feedback_app = typer.Typer(help="Feedback collected by the Slack bot.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(slack)
    app.add_typer(feedback_app, name="feedback")


def slack(
    http: Annotated[bool, typer.Option("--http", help="Serve the HTTP Events API instead of Socket Mode.")] = False,
    port: Annotated[Optional[int], typer.Option("--port", help="HTTP port. Defaults to SLACK_HTTP_PORT (3000).")] = None,
    host: Annotated[Optional[str], typer.Option("--host", help="HTTP interface. Defaults to SLACK_HTTP_HOST.")] = None,
    ingest: Annotated[Optional[list[Path]], typer.Option(
        "--ingest", help="Ingest this folder inside the bot (repeatable): at start-up, then every --every.")] = None,
    every: Annotated[Optional[str], typer.Option("--every", help="With --ingest: time between runs (30m, 1h, 1d). Default 1h.")] = None,
) -> None:
    """Run the Slack bot: Socket Mode (SLACK_APP_TOKEN) or, with --http, the Events API on /slack/events."""
    settings = load_settings()
    from bot.slack.startup import StartupError, check_settings, check_slack

    try:  # before the slow index load: each missing setting, then whether Slack answers and takes the tokens
        use_http = check_settings(settings, http=http) == "http"
        check_slack(settings, "http" if use_http else "socket")
    except StartupError as exc:
        raise fail(str(exc)) from None
    from gcot.serve import ServeError, serving_service

    try:
        service = serving_service(settings, ingest=ingest, every=every)  # reloads new index versions by itself
    except ServeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    service.ask("What is the Global Coalition on Telecommunications?", audience="industry")  # first call is slow
    try:
        if use_http:
            from bot.slack.http_app import serve_http

            serve_http(settings, service, host=host or settings.slack_http_host, port=port or settings.slack_http_port)
        else:
            from bot.slack.socket_mode import serve_socket_mode

            serve_socket_mode(settings, service)
    except ValueError as exc:  # e.g. an empty token
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@feedback_app.command("export")
def feedback_export(
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="JSONL file to write. Defaults to stdout.")] = None,
) -> None:
    """Write answers voted "not helpful" as eval cases (eval suite JSONL, `needs_review: true`)."""
    from bot.slack.feedback import FeedbackStore
    from bot.slack.store import SlackStore

    settings = load_settings()
    store = SlackStore.from_settings(settings)  # GCOT_DATABASE_URL, or slack.sqlite3 in the data dir
    try:
        if out is None:
            count = FeedbackStore(store).export_not_helpful(sys.stdout)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("w", encoding="utf-8") as handle:
                count = FeedbackStore(store).export_not_helpful(handle)
    finally:
        store.close()
    typer.echo(f"Exported {count} not-helpful answers" + (f" to {out}" if out else ""), err=True)
