"""`gcot ask` and `gcot chat` (and, through bot/slack/cli.py, the Slack commands)."""

from __future__ import annotations


from pathlib import Path
from typing import Annotated, Optional

import typer

from gcot.cli_support import load_settings


def register(app: typer.Typer) -> None:
    """Attach this part's commands to the `gcot` app."""
    app.command()(ask)
    app.command()(chat)
    from bot.slack import cli as slack_cli

    slack_cli.register(app)


def _known_audience(value: str) -> str:
    """Reject an audience the settings do not define (it would silently read public documents only)."""
    known = sorted(load_settings().audience_visibility)
    if value not in known:
        raise typer.BadParameter(f"unknown audience {value!r}; choose from {', '.join(known)}")
    return value


Audience = Annotated[str, typer.Option("--audience", "-a", help="staff, industry or academic.", callback=_known_audience)]
Generator = Annotated[str | None, typer.Option("--generator", help="extractive or llm (default from settings).")]
IngestDirs = Annotated[Optional[list[Path]], typer.Option(
    "--ingest", help="Ingest this folder inside this process (repeatable), first at start-up, then --every.")]
Every = Annotated[Optional[str], typer.Option("--every", help="With --ingest: time between ingest runs (30m, 1h, 1d). Default 1h.")]


def _service(generator: str | None, *, serving: bool = False, ingest: list[Path] | None = None, every: str | None = None):
    """The AnswerService; a serving one polls for new index versions and may run the ingest itself."""
    from gcot.serve import ServeError, serving_service

    settings = load_settings()
    try:
        if serving:
            return serving_service(settings, ingest=ingest, every=every, generator=generator)
        from bot.answer.service import AnswerService

        return AnswerService.from_settings(settings, generator=generator)
    except (FileNotFoundError, ServeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def format_answer(answer) -> str:
    """The answer for a terminal: text, then numbered sources."""
    lines = [answer.text]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for citation in answer.citations:
            date = f" ({citation.published})" if citation.published else ""
            # A top-level section's heading path is just the title: don't print it twice.
            where = f", {citation.location}" if citation.location and citation.location != citation.title else ""
            lines.append(f"  [{citation.n}] {citation.title}{date}{where} {citation.link}".rstrip())
    return "\n".join(lines)


def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    audience: Audience = "staff",
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer object as JSON.")] = False,
    generator: Generator = None,
) -> None:
    """Answer one question from the indexed documents."""
    answer = _service(generator).ask(question, audience=audience)
    typer.echo(answer.model_dump_json(indent=2) if as_json else format_answer(answer))
    if answer.status == "error":
        raise typer.Exit(1)


def chat(audience: Audience = "staff", generator: Generator = None, ingest: IngestDirs = None, every: Every = None) -> None:
    """An interactive session; follow-up questions use the conversation so far. Ctrl-D to leave.

    The index reloads by itself when an ingest publishes a new version (every GCOT_INDEX_REFRESH_S).
    """
    from bot.answer import Turn

    service = _service(generator, serving=True, ingest=ingest, every=every)
    history: list[Turn] = []
    typer.echo(f"Ask about the coalition's documents (audience: {audience}). Ctrl-D or 'exit' to leave.")
    while True:
        try:
            question = input("\nyou> ").strip()
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            return
        if question.lower() in {"exit", "quit"}:
            return
        if not question:
            continue
        answer = service.ask(question, audience=audience, history=history)
        typer.echo("\n" + format_answer(answer))
        history += [Turn(role="user", content=question), Turn(role="assistant", content=answer.text)]
        history = history[-8:]



