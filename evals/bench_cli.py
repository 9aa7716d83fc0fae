"""`gcot bench ...`: performance benchmarks. Attach with `bench_cli.register(app)`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

bench_app = typer.Typer(help="Performance benchmarks.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach the `bench` command group to the `gcot` app."""
    app.add_typer(bench_app, name="bench")


@bench_app.command("ingest")
def bench_ingest(
    corpus: Annotated[Path, typer.Option("--corpus", help="Folder to ingest.")] = Path("corpus"),
    repeat: Annotated[
        Optional[int], typer.Option("--repeat", min=1, help="Copies of the corpus to ingest. Defaults to enough for --min-chunks.")
    ] = None,
    min_chunks: Annotated[int, typer.Option("--min-chunks", min=1, help="Sample size the default --repeat aims for.")] = 1500,
    cli: Annotated[bool, typer.Option("--cli/--no-cli", help="Also time `gcot ingest` re-run in a subprocess.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a summary.")] = False,
) -> None:
    """Full ingest vs raw model.encode on the same chunks, then unchanged re-runs."""
    from evals.bench_ingest import format_report, run_benchmark
    from gcot.cli_support import load_settings

    load_settings()  # logging as in every command; the benchmark uses its own temp data dir
    try:
        result = run_benchmark(corpus, repeat=repeat, min_chunks=min_chunks, cli=cli)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result) if as_json else format_report(result))


@bench_app.command("retrieval")
def bench_retrieval(
    corpus: Annotated[Path, typer.Option("--corpus", help="Folder ingested as the real index.")] = Path("corpus"),
    questions: Annotated[Path, typer.Option("--questions", help="Eval file the questions come from.")] = Path("evals/datasets/gcot.jsonl"),
    n_questions: Annotated[int, typer.Option("--n-questions", min=1, help="Answerable questions timed per index.")] = 50,
    sizes: Annotated[
        Optional[list[int]], typer.Option("--size", min=1, help="Synthetic index size in chunks; repeat for several. Defaults to 10000 and 100000.")
    ] = None,
    threads: Annotated[
        Optional[int], typer.Option("--threads", min=1, help="Embedding threads (GCOT_EMBEDDING_THREADS). Defaults to the setting.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")] = False,
) -> None:
    """Hybrid search and extractive answer latency (p50/p95) at the corpus size, 10k and 100k chunks."""
    from evals.bench_retrieval import DEFAULT_SIZES, format_report, run_benchmark
    from gcot.cli_support import load_settings

    load_settings()  # logging as in every command; the benchmark uses its own temp data dirs
    try:
        result = run_benchmark(
            corpus, questions=questions, n_questions=n_questions, sizes=sizes or DEFAULT_SIZES,
            threads=threads, progress=lambda line: typer.echo(line, err=True),
        )
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result) if as_json else format_report(result))


@bench_app.command("ef-search")
def bench_ef_search(
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Data dir of a built index, e.g. .data/bench/retrieval/synthetic-100000-<version>.")],
    values: Annotated[Optional[list[int]], typer.Option("--ef", min=10, help="HNSW ef_search to try; repeat. Defaults to 100, 200, 400, 800.")] = None,
    n_questions: Annotated[int, typer.Option("--n-questions", min=1, help="Answerable questions embedded as queries.")] = 50,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Interleaved passes over the values.")] = 1,
) -> None:
    """Filtered recall@10 (vs exact search) and dense query p50/p95 of one index at each ef_search. Leaves the last value set."""
    from evals.bench_retrieval import ef_search_sweep
    from gcot.cli_support import load_settings

    load_settings()
    for row in ef_search_sweep(data_dir, values or (100, 200, 400, 800), n_questions=n_questions, rounds=rounds):
        typer.echo(json.dumps(row))


@bench_app.command("reload")
def bench_reload(
    corpus: Annotated[Path, typer.Option("--corpus", help="Folder ingested as the real index.")] = Path("corpus"),
    sizes: Annotated[
        Optional[list[int]], typer.Option("--size", min=1, help="Synthetic index size in chunks; repeat. Defaults to 10000 and 100000.")
    ] = None,
    n_questions: Annotated[int, typer.Option("--n-questions", min=1, help="Questions timed idle and during reloads.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")] = False,
) -> None:
    """Hot reload: ingest end -> answerable, reload time and peak RSS at 10k/100k chunks, answer p95 during a reload vs idle."""
    from evals.bench_reload import DEFAULT_SIZES, format_report, run_benchmark
    from gcot.cli_support import load_settings

    load_settings()  # logging as in every command; the benchmark uses its own data dirs under .data/bench/reload
    try:
        result = run_benchmark(corpus, sizes=tuple(sizes or DEFAULT_SIZES), n_questions=n_questions,
                               progress=lambda line: typer.echo(line, err=True))
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result) if as_json else format_report(result))


@bench_app.command("encoder")
def bench_encoder(
    dataset: Annotated[
        Optional[Path], typer.Option("--dataset", help="A BEIR folder (e.g. SciFact): also hybrid/dense nDCG@10 per encoder.")
    ] = None,
    n_texts: Annotated[int, typer.Option("--n-texts", min=1, help="Documents and queries timed per encoder.")] = 128,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")] = False,
) -> None:
    """Torch fp32 vs each ONNX export: documents per CPU-second, query latency, cosine to torch, nDCG@10."""
    from evals.bench_encoder import format_encoder_report, run_encoder_benchmark
    from gcot.cli_support import load_settings

    settings = load_settings()
    result = run_encoder_benchmark(settings, dataset=dataset, n_texts=n_texts)
    typer.echo(json.dumps(result) if as_json else format_encoder_report(result))


@bench_app.command("cold-start")
def bench_cold_start(
    question: Annotated[str, typer.Option("--question", help="What `gcot ask` is asked.")] = "When did the coalition launch?",
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Fresh processes timed.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Wall time of a cold `gcot ask` against `python -c pass`, on the current index."""
    from evals.bench_encoder import format_cold_start, run_cold_start
    from gcot.cli_support import load_settings

    load_settings()
    result = run_cold_start(question, repeat=repeat)
    typer.echo(json.dumps(result) if as_json else format_cold_start(result))


@bench_app.command("slack")
def bench_slack(
    events: Annotated[int, typer.Option("--events", min=1, help="Events per setup.")] = 100,
    rate: Annotated[float, typer.Option("--rate", help="Events per second (open loop).")] = 1.0,
    setups: Annotated[Optional[list[str]], typer.Option("--setup", help="sqlite-1, postgresql-1 or postgresql-2; repeat. Default: all.")] = None,
    pg_url: Annotated[str, typer.Option("--pg-url", help="PostgreSQL where fresh databases are created.")] = "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")] = False,
) -> None:
    """Slack ack p99 and event-to-first-reply p95: one replica on SQLite vs one and two on PostgreSQL."""
    from evals.bench_slack import SETUPS, format_report, run
    from gcot.cli_support import load_settings

    settings = load_settings()
    unknown = [s for s in setups or [] if s not in SETUPS]
    if unknown:
        typer.echo(f"error: unknown --setup {', '.join(unknown)} (choose from {', '.join(SETUPS)})", err=True)
        raise typer.Exit(2)
    result = run(events, rate, 3917, str(settings.data_dir), setups=setups, pg_url=pg_url)
    typer.echo(json.dumps(result) if as_json else format_report(result))
