"""`gcot ask` and `gcot chat` (and, through bot/slack/cli.py, the Slack commands)."""

from __future__ import annotations


from typing import Annotated

import typer

from gcot.cli_support import load_settings


def register(app: typer.Typer) -> None:
    """Attach this part's commands to the `gcot` app."""
    app.command()(ask)
    app.command()(chat)
    try:
        from bot.slack import cli as slack_cli
    except ImportError:  # the Slack layer is optional at import time only while it is being built
        return
    slack_cli.register(app)


Audience = Annotated[str, typer.Option("--audience", "-a", help="staff, industry or academic.")]
Generator = Annotated[str | None, typer.Option("--generator", help="extractive or llm (default from settings).")]


def _service(generator: str | None):
    from bot.answer.service import AnswerService

    settings = load_settings()
    try:
        return AnswerService.from_settings(settings, generator=generator)
    except FileNotFoundError as exc:
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
            lines.append(f"  [{citation.n}] {citation.title}{date} {citation.source_url}".rstrip())
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


def chat(audience: Audience = "staff", generator: Generator = None) -> None:
    """An interactive session; follow-up questions use the conversation so far. Ctrl-D to leave."""
    from bot.answer import Turn

    service = _service(generator)
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



