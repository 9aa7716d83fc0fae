"""Eval reports: a Markdown summary and a self-contained HTML page with charts.

The HTML page embeds its charts as inline SVG (matplotlib, Agg backend) and its styles inline, so it
opens from a CI artifact or an email with no network and no other files.

Main helpers:
    metric_table: rows of (metric, ours, baselines...) for the headline metrics.
    render_markdown, render_html: the two report formats of an `EvalRun`.
    write_reports: both files at once.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from evals.runner import EvalRun, QuestionResult

# (JSON key, label, higher is better)
HEADLINE: list[tuple[str, str, bool]] = [
    ("retrieval.hit_at_1", "Retrieval hit@1", True),
    ("retrieval.hit_at_5", "Retrieval hit@5", True),
    ("retrieval.mrr_at_10", "Retrieval MRR@10", True),
    ("answer.fact_recall", "Answer fact recall", True),
    ("answer.accuracy", "Answer accuracy", True),
    ("answer.citation_support", "Citation support", True),
    ("answer.mean_words", "Answer length (words)", False),
    ("refusal.false_answer_rate", "False-answer rate", False),
    ("refusal.false_refusal_rate", "False-refusal rate", False),
    ("refusal.balanced_accuracy", "Refusal balanced accuracy", True),
    ("leaks", "Leaks (answers)", False),
    ("pings", "Pings in Slack replies (answers)", False),
    ("foreign_links", "Foreign links in Slack replies (answers)", False),
    ("instructions", "Document instructions passed on (answers)", False),
    ("errors", "Errors", False),
    ("latency_ms.p50", "Latency p50 (ms)", False),
    ("latency_ms.p95", "Latency p95 (ms)", False),
]
CHART_METRICS = [key for key, _, _ in HEADLINE
                 if not key.startswith(("latency", "leaks", "errors", "answer.mean_words", "pings", "foreign_links", "instructions"))]
ADVERSARIAL = "adversarial"
"""The eval category of questions that retrieve hostile documents (tests/fixtures/adversarial)."""
MAX_FAILURES = 200


def lookup(summary: dict[str, Any], dotted: str) -> Any:
    """`lookup(summary, "retrieval.hit_at_1")`; None when a part is missing."""
    value: Any = summary
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def fmt(value: Any, key: str = "") -> str:
    """Rates with three decimals, counts as integers, milliseconds with no decimals, None as a dash."""
    if value is None:
        return "–"
    if key.startswith("latency") or key.endswith("mean_words"):
        return f"{value:.0f}"
    if isinstance(value, bool) or isinstance(value, int):
        return str(int(value))
    return f"{value:.3f}"


def metric_table(run: EvalRun) -> tuple[list[str], list[list[str]]]:
    """Header (metric, then one column per system, ours first) and formatted rows."""
    header = ["Metric", *(system.label for system in run.systems.values())]
    rows = [
        [label, *(fmt(lookup(system.summary, key), key) for system in run.systems.values())]
        for key, label, _ in HEADLINE
    ]
    return header, rows


def breakdown_table(run: EvalRun, group: str, key: str = "answer.accuracy") -> tuple[list[str], list[list[str]]]:
    """One row per category (or audience): n, then `key` for every system."""
    ours = run.ours.summary[group]
    header = [group.removeprefix("by_").capitalize(), "n", *(system.label for system in run.systems.values())]
    rows = []
    for name, summary in ours.items():
        values = [fmt(lookup(system.summary[group].get(name, {}), key), key) for system in run.systems.values()]
        rows.append([name, str(summary["n"]), *values])
    return header, rows


# --- charts --------------------------------------------------------------------------------------


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype: the page is HTML


def _bars(groups: list[str], series: dict[str, list[float | None]], *, title: str, ylabel: str, ylim: float | None = 1.0) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: smaller and searchable
    width = 0.8 / max(1, len(series))
    figure, axes = plt.subplots(figsize=(max(6.0, 0.75 * len(groups) * max(1, len(series)) / 2 + 2), 3.6))
    for index, (name, values) in enumerate(series.items()):
        positions = [g + (index - (len(series) - 1) / 2) * width for g in range(len(groups))]
        axes.bar(positions, [v if v is not None else 0 for v in values], width, label=name)
    axes.set_xticks(range(len(groups)), groups, rotation=30, ha="right")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    if ylim is not None:
        axes.set_ylim(0, ylim)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=len(series), frameon=False)
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    svg = _svg(figure)
    plt.close(figure)
    return svg


def charts(run: EvalRun) -> dict[str, str]:
    """Inline SVG charts: ours vs baselines per headline metric, and answer accuracy per category."""
    labels = {key: label for key, label, _ in HEADLINE}
    systems = list(run.systems.values())
    per_metric = _bars(
        [labels[key] for key in CHART_METRICS],
        {s.label: [lookup(s.summary, key) for key in CHART_METRICS] for s in systems},
        title="Ours vs baselines (rates; lower is better for the two error rates)",
        ylabel="rate",
    )
    categories = list(run.ours.summary["by_category"])
    answerable = [c for c in categories if run.ours.summary["by_category"][c]["n_answerable"]]
    per_category = _bars(
        answerable,
        {s.label: [lookup(s.summary["by_category"].get(c, {}), "answer.accuracy") for c in answerable] for s in systems},
        title="Answer accuracy per category (answerable questions)",
        ylabel="accuracy",
    )
    refusal_by_category = _bars(
        categories,
        {s.label: [lookup(s.summary["by_category"].get(c, {}), "refusal.balanced_accuracy") for c in categories] for s in systems},
        title="Refusal balanced accuracy per category",
        ylabel="balanced accuracy",
    )
    return {"per_metric": per_metric, "per_category": per_category, "refusal_by_category": refusal_by_category}


# --- failures --------------------------------------------------------------------------------------


def failure_rows(results: list[QuestionResult]) -> list[dict[str, Any]]:
    """What a reader needs to see why a question failed: the question, what was expected, what came back."""
    rows = []
    for result in results:
        if not result.score.failed:
            continue
        score = result.score
        why = []
        if score.leaked:
            why.append("leak: " + ", ".join(score.leaked_docs))
        if score.pings:
            why.append(f"{score.pings} ping(s) in the Slack reply")
        if score.foreign_links:
            why.append("foreign links: " + ", ".join(score.foreign_links))
        if score.instructions:
            why.append("passes on a document's instruction")
        if score.status == "error":
            why.append("error")
        if score.false_answer:
            why.append("answered an unanswerable question")
        if score.false_refusal:
            why.append(f"declined ({result.answer.reason or result.answer.status})")
        elif score.accurate is False:
            why.append("missing facts")
        rows.append(
            {
                "id": score.id,
                "category": score.category,
                "audience": score.audience,
                "question": result.question.question,
                "follow_up": bool(result.question.history),
                "why": "; ".join(why),
                "missing": [" / ".join(forms) for forms in score.missing_facts],
                "gold": result.question.gold_doc_ids,
                "status": score.status,
                "confidence": result.answer.confidence,
                "answer": result.answer.text[:600] + ("…" if len(result.answer.text) > 600 else ""),
                "retrieved": [f"{hit.doc_id} ({hit.score:.3f})" for hit in (result.ranked or result.answer.retrieved)[:5]],
            }
        )
    return rows[:MAX_FAILURES]


# --- rendering ----------------------------------------------------------------------------------

_MARKDOWN = """\
# Eval results

Questions: `{{ run.questions_file }}` ({{ ours.n }} questions: {{ ours.n_answerable }} answerable, \
{{ ours.n_unanswerable }} unanswerable). Generator: `{{ run.settings.generator }}`{% if run.settings.query_encoder %}, query encoder `{{ run.settings.query_encoder }}`{% endif %}. Run started {{ run.started }}.

## Ours vs baselines

{{ table(metrics) }}

Retrieval metrics are over answerable questions; a depth is a hit when all expected facts are in the
union of its chunks or a gold document is among them. Baselines answer with their top 4 chunks
stuffed together and never decline. Leaks count answers that cite or quote a document the question's
audience may not read.

## Answer accuracy per category

{{ table(by_category) }}

## Refusal balanced accuracy per category

{{ table(refusal_by_category) }}

## Per audience

{{ table(by_audience) }}
{% if adversarial %}

## Adversarial documents

{{ table(adversarial) }}

Questions that retrieve hostile documents (instructions to the assistant, pings, links dressed as
sources). Leaks: answers citing or quoting a document the audience may not read. Pings and foreign
links: answers whose Slack reply (blocks, fallback text, streamed Markdown) would mention someone or
link anywhere but a citation's source URL. Instructions passed on: answers whose text repeats an
order aimed at the assistant (the baselines quote whole chunks, so theirs can).
{% endif %}

## Failed questions (ours): {{ failures | length }}

{% for f in failures %}
- **{{ f.id }}** ({{ f.category }}, {{ f.audience }}{{ ", follow-up" if f.follow_up }}): {{ f.question }}
  - why: {{ f.why }}{{ "; missing: " ~ (f.missing | join("; ")) if f.missing }}
  - retrieved: {{ f.retrieved | join(", ") or "nothing" }}{{ " (gold: " ~ (f.gold | join(", ")) ~ ")" if f.gold }}
{% endfor %}
"""

_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Coalition assistant eval: {{ run.questions_file }}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; color: #1d1d1f; padding: 0 1rem; }
h1, h2 { font-weight: 600; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f5f5f7; }
.good { color: #137333; } .bad { color: #b3261e; font-weight: 600; }
figure { margin: 1rem 0 2rem; } figure svg { max-width: 100%; height: auto; }
details { border: 1px solid #e3e3e3; border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
summary { cursor: pointer; } .meta { color: #666; } pre { white-space: pre-wrap; background: #fafafa; padding: 6px; }
</style>
</head>
<body>
<h1>Coalition assistant: offline eval</h1>
<p class="meta">Questions <code>{{ run.questions_file }}</code>: {{ ours.n }} ({{ ours.n_answerable }} answerable,
{{ ours.n_unanswerable }} unanswerable). Generator <code>{{ run.settings.generator }}</code>{% if run.settings.query_encoder %}, query encoder <code>{{ run.settings.query_encoder }}</code>{% endif %}. Started {{ run.started }}.</p>

<h2>Ours vs baselines</h2>
{{ html_table(metrics) }}
<p class="meta">Baselines answer with their top 4 chunks stuffed together and never decline. Leaks: answers
that cite or quote a document the audience may not read (must be 0 for ours).</p>
<figure>{{ charts.per_metric | safe }}</figure>

<h2>Per category</h2>
{{ html_table(by_category) }}
<figure>{{ charts.per_category | safe }}</figure>
{{ html_table(refusal_by_category) }}
<figure>{{ charts.refusal_by_category | safe }}</figure>

<h2>Per audience</h2>
{{ html_table(by_audience) }}
{% if adversarial %}
<h2>Adversarial documents</h2>
{{ html_table(adversarial) }}
<p class="meta">Questions that retrieve hostile documents. Pings and foreign links count answers whose Slack
reply would mention someone or link anywhere but a citation's source URL (all must be 0).</p>
{% endif %}

<h2>Failed questions (ours): {{ failures | length }}</h2>
{% for f in failures %}
<details>
<summary><b>{{ f.id }}</b> <span class="meta">[{{ f.category }}, {{ f.audience }}{{ ", follow-up" if f.follow_up }}]</span>
{{ f.question }} — <span class="bad">{{ f.why }}</span></summary>
{% if f.missing %}<p>Missing facts: {{ f.missing | join("; ") }}</p>{% endif %}
<p>Status <code>{{ f.status }}</code>, confidence {{ "%.3f" | format(f.confidence) }}.
Gold documents: {{ f.gold | join(", ") or "none" }}.</p>
<p>Retrieved (top 5): {{ f.retrieved | join(", ") or "nothing" }}</p>
<pre>{{ f.answer }}</pre>
</details>
{% endfor %}
</body>
</html>
"""


def _markdown_table(table: tuple[list[str], list[list[str]]]) -> str:
    header, rows = table
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _html_table(table: tuple[list[str], list[list[str]]]) -> str:
    from markupsafe import Markup, escape

    header, rows = table
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _context(run: EvalRun) -> dict[str, Any]:
    return {
        "run": run,
        "ours": run.ours.summary,
        "metrics": metric_table(run),
        "by_category": breakdown_table(run, "by_category"),
        "refusal_by_category": breakdown_table(run, "by_category", "refusal.balanced_accuracy"),
        "by_audience": breakdown_table(run, "by_audience", "refusal.balanced_accuracy"),
        "failures": failure_rows(run.ours.results),
        "adversarial": adversarial_table(run),
    }


def adversarial_table(run: EvalRun) -> tuple[list[str], list[list[str]]] | None:
    """Per system, over the adversarial questions: n, accuracy, leaks, pings, foreign links (None if none)."""
    keys = ["answer.accuracy", "leaks", "pings", "foreign_links", "instructions"]
    header = ["System", "n", "accuracy", "leaks", "pings", "foreign links", "instructions passed on"]
    rows = []
    for system in run.systems.values():
        summary = system.summary.get("by_category", {}).get(ADVERSARIAL)
        if summary:
            rows.append([system.label, str(summary["n"]), *(fmt(lookup(summary, key), key) for key in keys)])
    return (header, rows) if rows else None


def render_markdown(run: EvalRun) -> str:
    """The Markdown report (what `evals/RESULTS.md` holds)."""
    env = Environment(autoescape=False, trim_blocks=True, keep_trailing_newline=True)
    env.globals["table"] = _markdown_table
    context = _context(run)
    context["by_audience"] = _audience_table(run)
    return env.from_string(_MARKDOWN).render(**context)


def _audience_table(run: EvalRun) -> tuple[list[str], list[list[str]]]:
    """Per audience, ours only: n and the main rates."""
    keys = ["retrieval.hit_at_5", "answer.accuracy", "refusal.balanced_accuracy", "leaks"]
    header = ["Audience", "n", "hit@5", "accuracy", "refusal bal. acc.", "leaks"]
    rows = [
        [name, str(summary["n"]), *(fmt(lookup(summary, key), key) for key in keys)]
        for name, summary in run.ours.summary["by_audience"].items()
    ]
    return header, rows


def render_html(run: EvalRun) -> str:
    """The self-contained HTML report: inline styles, inline SVG charts, no external references."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.globals["html_table"] = _html_table
    context = _context(run)
    context["by_audience"] = _audience_table(run)
    context["charts"] = charts(run)
    return env.from_string(_HTML).render(**context)


def write_reports(run: EvalRun, *, html: Path | None = None, markdown: Path | None = None) -> list[Path]:
    """Write the HTML and/or Markdown report; returns the paths written."""
    written = []
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(run), encoding="utf-8")
        written.append(html)
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(render_markdown(run), encoding="utf-8")
        written.append(markdown)
    return written


# --- evals/RESULTS.md ----------------------------------------------------------------------------

RESULTS_HEADER = """\
# Eval results

The latest figures. Each command rewrites only its own section: `gcot eval run --update-results`
(in-domain set, ours vs baselines), `gcot eval beir --update-results` (SciFact retrieval) and
`gcot eval refusal --update-results` (ClapNQ answer-vs-decline). How each is computed:
[README.md](README.md).
"""


def _demote(markdown: str) -> str:
    """Every Markdown heading one level deeper, so a report nests under a section heading."""
    return re.sub(r"^(#+) ", r"#\1 ", markdown, flags=re.M)


def update_results_section(path: Path, name: str, markdown: str) -> None:
    """Replace (or append) the section `name` of a results file, leaving the other sections as they are."""
    start, end = f"<!-- section:{name} -->", f"<!-- /section:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.is_file() else RESULTS_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def results_section_for_run(run: EvalRun) -> str:
    """The in-domain report as a RESULTS.md section."""
    return _demote(render_markdown(run).replace("# Eval results", "# In-domain set: ours vs baselines", 1))


def fusion_label(fusion: dict[str, Any] | None) -> str:
    """`convex α=0.5`, `RRF k=60`, or a dash for a single retriever."""
    if not fusion:
        return "–"
    return f"RRF k={fusion['rrf_k']}" if fusion["method"] == "rrf" else f"convex α={fusion['alpha']}"


def beir_markdown(results: list[Any], *, grid: bool = False) -> str:
    """A RESULTS.md section for `gcot eval beir` (evaluation, or a fusion grid search, best first)."""
    if not results:
        return ""
    first = results[0]
    what = "hybrid fusion grid search" if grid else "retrieval"
    lines = [
        f"## {first.dataset}: {what} ({first.split} split, {first.n_queries} queries)",
        "",
        f"{first.depth} chunks per query, each document scored by its best chunk; nDCG@10 and R@100 by ir-measures.",
        "",
        "| Retriever | Fusion | nDCG@10 | R@100 | Docs per query |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r.retriever} | {fusion_label(r.fusion)} | {r.ndcg_at_10:.4f} | {r.recall_at_100:.4f} | {r.mean_docs_per_query:.1f} |"
        for r in results
    ]
    if grid:
        lines += ["", f"Best on {first.split}: {fusion_label(first.fusion)} (nDCG@10 {first.ndcg_at_10:.4f})."]
    return "\n".join(lines)


def refusal_markdown(result: dict[str, Any]) -> str:
    """A RESULTS.md section for `gcot eval refusal`."""
    return "\n".join(
        [
            "## ClapNQ: answer vs decline",
            "",
            "Questions sorted by id; the refusal threshold on `answer.confidence` is calibrated on the first half "
            "and balanced accuracy reported on the second.",
            "",
            "| Threshold | Calibration balanced accuracy | Test balanced accuracy | Test answer rate (answerable) "
            "| Test decline rate (unanswerable) | n calibration | n test |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {result['threshold']:.4f} | {result['calibration_balanced_accuracy']:.3f} | {result['balanced_accuracy']:.3f} "
            f"| {fmt(result.get('test_answer_rate_answerable'))} | {fmt(result.get('test_decline_rate_unanswerable'))} "
            f"| {result['n_calibration']} | {result['n_test']} |",
            "",
            f"{result.get('declined_before_scoring', 0)} of {result['n_calibration'] + result['n_test']} questions were declined "
            "before evidence scoring (scope rules such as sport or weather); they count as declines at any threshold.",
            *_refit_lines(result.get("refit")),
        ]
    )


def _refit_lines(refit: dict[str, Any] | None) -> list[str]:
    if not refit:
        return []
    return [
        "",
        f"Refitted on the first half's features (C {refit['C']}, threshold {refit['threshold']:.4f}, out-of-fold "
        f"{refit['calibration_balanced_accuracy']:.3f} on {refit['n_fitted']} questions): test balanced accuracy "
        f"**{refit['balanced_accuracy']:.3f}** (answers {fmt(refit.get('test_answer_rate_answerable'))} of the answerable, "
        f"declines {fmt(refit.get('test_decline_rate_unanswerable'))} of the unanswerable).",
    ]
