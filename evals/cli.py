"""`gcot eval ...`: the offline eval suite's commands.

    gcot eval run        in-domain questions: the assistant vs BM25-only and naive LangChain baselines
    gcot eval validate   check an eval file (format, ids, coverage of the corpus)
    gcot eval beir       nDCG@10 / R@100 on a BEIR dataset (SciFact), bm25 | dense | hybrid; --grid tunes fusion
    gcot eval refusal    answer-vs-decline balanced accuracy on ClapNQ (calibrate on one half, test on the other)

Heavy modules are imported inside the commands, so `gcot --help` stays instant.
"""

from __future__ import annotations

import json
import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from gcot.cli_support import load_settings

DEFAULT_QUESTIONS = Path("evals/datasets/gcot.jsonl")
DEFAULT_THRESHOLDS = Path("evals/thresholds.toml")
RESULTS_FILE = Path("evals/RESULTS.md")

eval_app = typer.Typer(help="Offline evals: in-domain questions, public benchmarks, CI gate.", no_args_is_help=True)


class GeneratorChoice(str, Enum):
    extractive = "extractive"
    llm = "llm"


class RetrieverChoice(str, Enum):
    bm25 = "bm25"
    dense = "dense"
    hybrid = "hybrid"
    all = "all"


class FusionChoice(str, Enum):
    convex = "convex"
    rrf = "rrf"


def register(app: typer.Typer) -> None:
    """Attach `gcot eval ...` to the `gcot` app."""
    app.add_typer(eval_app, name="eval")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        # First column left-aligned (names), the rest right-aligned (numbers).
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    typer.echo(line(header))
    typer.echo("  ".join("-" * w for w in widths))
    for row in rows:
        typer.echo(line(row))


def _write_json(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


# --- gcot eval run -------------------------------------------------------------------------------


@eval_app.command("run")
def run_command(
    questions: Annotated[Path, typer.Option("--questions", "-q", help="Eval file (JSON Lines, see evals/README.md).")] = DEFAULT_QUESTIONS,
    split: Annotated[Optional[str], typer.Option("--split", help="Only this split of the file: dev (tuned on) or test (reported). Defaults to all.")] = None,
    audience_override: Annotated[Optional[str], typer.Option("--audience-override", help="Ask every question as this audience.")] = None,
    generator: Annotated[Optional[GeneratorChoice], typer.Option("--generator", help="Answer generator. Defaults to GCOT_GENERATOR.")] = None,
    corpus: Annotated[Optional[list[Path]], typer.Option("--corpus", help="Build a temporary index of this folder (repeatable) instead of using the current one.")] = None,
    systems: Annotated[Optional[str], typer.Option("--systems", help="Comma-separated: ours, bm25, naive_langchain, naive_bm25, naive_dense, naive_rrf. Defaults to the first three, plus the naive-recipe three with --corpus.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write all metrics, breakdowns and answers as JSON.")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="Write the HTML report here (and the Markdown beside it, .md).")] = None,
    markdown: Annotated[Optional[Path], typer.Option("--markdown", help="Write the Markdown report here.")] = None,
    update_results: Annotated[bool, typer.Option("--update-results", help=f"Rewrite {RESULTS_FILE} with this run's figures.")] = False,
    gate: Annotated[bool, typer.Option("--gate", help="Exit 1 if ours misses evals/thresholds.toml or leaks.")] = False,
    thresholds: Annotated[Path, typer.Option("--thresholds", help="Thresholds for --gate.")] = DEFAULT_THRESHOLDS,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bars on stderr.")] = sys.stderr.isatty(),
) -> None:
    """Run the assistant and the baselines over an eval file and print every metric."""
    from evals.dataset import DatasetError, load_questions

    settings = load_settings()
    try:
        items = load_questions(questions, split=split)
    except (DatasetError, FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if systems is None:
        # With --corpus the naive recipe (pypdf, 1,000-character chunks) is built from the same files.
        systems = "ours,bm25,naive_langchain" + (",naive_bm25,naive_dense,naive_rrf" if corpus else "")
    names = [name.strip() for name in systems.split(",") if name.strip()]
    if generator is not None:
        settings = settings.model_copy(update={"generator": generator.value})

    with tempfile.TemporaryDirectory(prefix="gcot-eval-") as tmp:
        if corpus:
            settings = _temporary_index(settings, corpus, Path(tmp), progress=progress)
        run = _evaluate(items, settings, names, audience_override, str(questions), progress, corpus or [])

    _print_run(run, per_category_retrieval=bool(corpus))
    if json_out:
        _write_json(json_out, run.to_json())
        typer.echo(f"\nJSON written to {json_out}")
    _write_reports(run, report, markdown, update_results)
    if gate:
        _apply_gate(run.ours.summary if "ours" in run.systems else {}, thresholds)


def _temporary_index(settings, corpus: list[Path], tmp: Path, *, progress: bool):
    from evals.corpus_index import index_corpus

    try:
        settings, result = index_corpus(corpus, settings, tmp / "data", progress=progress)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"Indexed {result['documents_seen']} documents ({result['chunks_total']} chunks) into a temporary index.", err=True)
    return settings


def _evaluate(items, settings, names, audience_override, questions_file, progress, corpus):
    from evals.runner import evaluate

    try:
        return evaluate(
            items, settings, systems=names, audience_override=audience_override, questions_file=questions_file,
            progress=progress, corpus=corpus,
        )
    except FileNotFoundError as exc:
        raise _fail(f"{exc} (or pass --corpus DIR to build a temporary index)") from None
    except ValueError as exc:
        raise _fail(str(exc)) from None


def _print_run(run, *, per_category_retrieval: bool = False) -> None:
    from evals.report import breakdown_table, metric_table

    encoder = f", query encoder {run.settings['query_encoder']}" if run.settings.get("query_encoder") else ""
    typer.echo(f"{run.questions_file}: {next(iter(run.systems.values())).summary['n']} questions, generator {run.settings['generator']}{encoder}\n")
    _print_table(*metric_table(run))
    if "ours" in run.systems and per_category_retrieval:
        for key, label in (("retrieval.hit_at_1", "hit@1"), ("retrieval.hit_at_5", "hit@5"), ("retrieval.mrr_at_10", "MRR@10")):
            typer.echo(f"\nRetrieval {label} per category (document)")
            _print_table(*breakdown_table(run, "by_category", key))
    if "ours" in run.systems:
        typer.echo("\nAnswer accuracy per category")
        _print_table(*breakdown_table(run, "by_category"))
        typer.echo("\nRefusal balanced accuracy per audience")
        _print_table(*breakdown_table(run, "by_audience", "refusal.balanced_accuracy"))
        failed = run.ours.failures
        typer.echo(f"\nFailed questions (ours): {len(failed)}" + (": " + ", ".join(r.score.id for r in failed) if failed else ""))


def _write_reports(run, report: Path | None, markdown: Path | None, update_results: bool) -> None:
    if not (report or markdown or update_results):
        return
    if "ours" not in run.systems:
        typer.echo("reports need the 'ours' system; skipped", err=True)
        return
    from evals.report import write_reports

    if report and markdown is None:
        markdown = report.with_suffix(".md")
    written = write_reports(run, html=report, markdown=markdown)
    if update_results:
        from evals.report import results_section_for_run, update_results_section

        update_results_section(RESULTS_FILE, "in-domain", results_section_for_run(run))
        written.append(RESULTS_FILE)
    for path in written:
        typer.echo(f"Report written to {path}")


def _apply_gate(summary: dict, thresholds: Path) -> None:
    from evals.gate import check, load_thresholds

    failures = check(summary, load_thresholds(thresholds))
    if failures:
        typer.echo("\nGate FAILED:\n  " + "\n  ".join(failures), err=True)
        raise typer.Exit(1)
    typer.echo(f"\nGate passed ({thresholds}).")


# --- gcot eval validate --------------------------------------------------------------------------


@eval_app.command("validate")
def validate_command(
    questions: Annotated[Path, typer.Argument(help="Eval file to check.")] = DEFAULT_QUESTIONS,
    corpus: Annotated[Optional[list[Path]], typer.Option("--corpus", help="Corpus folders to check gold ids and expected forms against (repeatable).")] = None,
) -> None:
    """Check an eval file: the format, unique ids, and (with --corpus) gold ids and forms against the documents."""
    from evals.dataset import DatasetError, coverage, load_corpus_texts, load_questions

    try:
        items = load_questions(questions)
    except (DatasetError, FileNotFoundError) as exc:
        raise _fail(str(exc), 1) from None
    texts = load_corpus_texts(corpus) if corpus else None
    stats = coverage(items, texts)
    typer.echo(json.dumps(stats["counts"], indent=2))
    for problem in stats["problems"]:
        typer.echo(f"  {problem}")
    if stats["problems"]:
        raise typer.Exit(1)
    typer.echo(f"{questions}: {len(items)} questions, OK")


# --- gcot eval beir ------------------------------------------------------------------------------


@eval_app.command("beir")
def beir_command(
    dataset: Annotated[Path, typer.Option("--dataset", help="A BEIR folder, e.g. ../shared/datasets/scifact.")],
    split: Annotated[str, typer.Option("--split", help="qrels split to score: test or train.")] = "test",
    retriever: Annotated[RetrieverChoice, typer.Option("--retriever", help="bm25, dense, hybrid, or all three.")] = RetrieverChoice.hybrid,
    fusion: Annotated[Optional[FusionChoice], typer.Option("--fusion", help="Hybrid fusion method. Defaults to the retriever's.")] = None,
    alpha: Annotated[Optional[float], typer.Option("--alpha", help="Dense weight for convex fusion.")] = None,
    rrf_k: Annotated[Optional[int], typer.Option("--rrf-k", help="k for reciprocal-rank fusion.")] = None,
    depth: Annotated[int, typer.Option("--depth", help="Chunks retrieved per query.")] = 100,
    grid: Annotated[bool, typer.Option("--grid", help="Grid-search fusion settings on --split (use train) and print the best.")] = False,
    data_root: Annotated[Path, typer.Option("--data-root", help="Where benchmark indexes are cached.")] = Path(".data/bench"),
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the results as JSON.")] = None,
    update_results: Annotated[bool, typer.Option("--update-results", help=f"Rewrite this benchmark's section of {RESULTS_FILE}.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bars on stderr.")] = sys.stderr.isatty(),
) -> None:
    """nDCG@10 and R@100 of the project's retrieval on a BEIR dataset (index built and cached on first use)."""
    from dataclasses import asdict

    from evals import beir

    load_settings()
    if not dataset.is_dir():
        raise _fail(f"dataset folder not found: {dataset}")
    settings = beir.bench_settings(dataset, root=data_root)
    fusion_config = _fusion_config(fusion, alpha, rrf_k)
    try:
        if grid:
            results = beir.grid_search(dataset, split=split, settings=settings, depth=depth, progress=progress)
        else:
            modes = ("bm25", "dense", "hybrid") if retriever is RetrieverChoice.all else (retriever.value,)
            results = beir.evaluate(dataset, split=split, modes=modes, fusion=fusion_config, settings=settings, depth=depth, progress=progress)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    from evals.report import beir_markdown, fusion_label, update_results_section

    rows = [
        [r.retriever, fusion_label(r.fusion), f"{r.ndcg_at_10:.4f}", f"{r.recall_at_100:.4f}", str(r.n_queries), f"{r.mean_docs_per_query:.1f}"]
        for r in results
    ]
    typer.echo(f"{dataset.resolve().name} ({split} split)\n")
    _print_table(["retriever", "fusion", "nDCG@10", "R@100", "queries", "docs/query"], rows)
    if grid and results:
        typer.echo(f"\nBest on {split}: {fusion_label(results[0].fusion)} (nDCG@10 {results[0].ndcg_at_10:.4f})")
    if json_out:
        _write_json(json_out, [asdict(r) for r in results])
        typer.echo(f"\nJSON written to {json_out}")
    if update_results and results:
        section = f"{results[0].dataset}-{split}" + ("-grid" if grid else "")
        update_results_section(RESULTS_FILE, section, beir_markdown(results, grid=grid))
        typer.echo(f"{RESULTS_FILE} updated")


def _fusion_config(method: FusionChoice | None, alpha: float | None, rrf_k: int | None):
    if method is None and alpha is None and rrf_k is None:
        return None
    from dataclasses import replace

    from bot.retrieve.hybrid import FusionConfig

    config = FusionConfig()
    changes = {k: v for k, v in {"method": method.value if method else None, "alpha": alpha, "rrf_k": rrf_k}.items() if v is not None}
    return replace(config, **changes)


# --- gcot eval refusal ---------------------------------------------------------------------------


@eval_app.command("refusal")
def refusal_command(
    dataset: Annotated[Path, typer.Option("--dataset", help="The ClapNQ folder, e.g. ../shared/datasets/clapnq.")],
    limit: Annotated[Optional[int], typer.Option("--limit", help="Ask only this many questions (half from each file).")] = None,
    data_root: Annotated[Path, typer.Option("--data-root", help="Where benchmark indexes are cached.")] = Path(".data/bench"),
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the result (and every outcome) as JSON.")] = None,
    update_results: Annotated[bool, typer.Option("--update-results", help=f"Rewrite the ClapNQ section of {RESULTS_FILE}.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bars on stderr.")] = sys.stderr.isatty(),
) -> None:
    """Answer-vs-decline balanced accuracy on ClapNQ: calibrate on the first half by id, report on the second."""
    from evals import beir
    from evals.refusal import run_refusal

    load_settings()
    if not (dataset / "dev").is_dir():
        raise _fail(f"not a ClapNQ folder (no dev/): {dataset}")
    try:
        result = run_refusal(dataset, settings=beir.bench_settings(dataset, root=data_root), limit=limit, progress=progress)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    summary = {k: v for k, v in result.items() if k != "outcomes"}
    typer.echo(json.dumps(summary, indent=2))
    if json_out:
        _write_json(json_out, result)
        typer.echo(f"JSON written to {json_out}")
    if update_results:
        from evals.report import refusal_markdown, update_results_section

        update_results_section(RESULTS_FILE, "clapnq-refusal", refusal_markdown(result))
        typer.echo(f"{RESULTS_FILE} updated")
