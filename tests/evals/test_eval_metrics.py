"""Metric arithmetic on small hand-made cases: surface forms, hits, per-question scores, aggregates."""

from __future__ import annotations

import pytest

from evals.metrics import (
    LeakDetector,
    aggregate,
    balanced_accuracy,
    breakdown,
    fact_present,
    facts_found,
    flatten,
    normalise,
    percentile,
    retrieval_hits,
    score_question,
)

# --- surface forms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "text"),
    [
        ("£70 million", "The UK committed £70 MILLION to the fund."),  # case
        ("Future Telecoms", "the future   telecoms\nprogramme"),  # runs of spaces and newlines
        ("2–3 May 2019", "held on 2-3 May 2019 in Prague"),  # en dash in the form, hyphen in the text
        ("2-3 May 2019", "held on 2\u20143 May 2019"),  # em dash in the text
        ("end-2027", "by end\u20112027"),  # non-breaking hyphen
        ("the \"Govern\" function", "the \u201cGovern\u201d function"),  # curly double quotes
        ("Japan's strategy", "Japan\u2019s strategy"),  # curly apostrophe
        ("£70m", "an initial £70m\u00a0for TMF"),  # no-break space around the form
        ("ＮＴＩＡ", "NTIA leads"),  # full-width letters (NFKC)
    ],
)
def test_fact_present_normalises_case_whitespace_quotes_and_dashes(form: str, text: str) -> None:
    assert fact_present([form], text)


@pytest.mark.parametrize(
    ("forms", "text"),
    [
        (["£70 million"], "£7 million"),
        (["17 November 2021"], "17 Nov 2021"),
        (["two-year"], "two year"),  # a hyphen is not a space
        (["Future Telecoms"], "Future\u00adTelecoms"),  # a soft hyphen does not make a space
    ],
)
def test_fact_absent_when_no_form_appears(forms: list[str], text: str) -> None:
    assert not fact_present(forms, text)


def test_any_form_of_a_fact_counts() -> None:
    assert fact_present(["£70 million", "£70m"], "about £70m in total")
    assert not fact_present([], "anything")


def test_normalise_is_idempotent_and_collapses_space() -> None:
    text = "  A\u2014B \u201cC\u201d\t\tD\u2019s  "
    assert normalise(text) == 'a-b "c" d\'s'
    assert normalise(normalise(text)) == normalise(text)


def test_facts_found_flags_each_fact() -> None:
    expect = [["£70 million", "£70m"], ["Future Telecoms"], ["6G leadership"]]
    assert facts_found(expect, "The £70m Future Telecoms programme") == [True, True, False]


# --- retrieval --------------------------------------------------------------------------------------


def test_hit_needs_all_facts_in_the_union_of_top_k_chunks() -> None:
    texts = ["nothing here", "the fund is £70m", "it is for Future Telecoms", "filler"]
    doc_ids = ["a", "b", "c", "d"]
    hits = retrieval_hits(texts, doc_ids, [["£70m"], ["Future Telecoms"]])
    assert not hits.hit_at_1
    assert hits.hit_at_5
    assert hits.rr_at_10 == pytest.approx(1 / 3)  # both facts first together at depth 3


def test_gold_document_in_top_k_is_a_hit_even_without_the_facts() -> None:
    hits = retrieval_hits(["x", "y"], ["other", "uk-tmf"], [["£70m"]], ["uk-tmf"])
    assert not hits.hit_at_1
    assert hits.hit_at_5
    assert hits.rr_at_10 == pytest.approx(0.5)


def test_rank_beyond_ten_scores_zero() -> None:
    texts = ["x"] * 10 + ["£70m"]
    hits = retrieval_hits(texts, [str(i) for i in range(11)], [["£70m"]])
    assert (hits.hit_at_1, hits.hit_at_5, hits.rr_at_10) == (False, False, 0.0)


def test_empty_ranking_is_a_miss() -> None:
    hits = retrieval_hits([], [], [["£70m"]], ["uk-tmf"])
    assert (hits.hit_at_1, hits.hit_at_5, hits.rr_at_10) == (False, False, 0.0)


# --- per question -----------------------------------------------------------------------------------


def _score(**overrides):
    values = dict(
        id="q1", category="coalition", audience="industry", answerable=True,
        expect=[["£70 million", "£70m"], ["Future Telecoms"]], gold_doc_ids=["uk-tmf"],
        status="answered", text="The UK put £70m into it [1].", cited_texts=["£70m for the Future Telecoms TMF", "unrelated"],
        retrieved_texts=["£70m for the Future Telecoms TMF"], retrieved_doc_ids=["uk-tmf"], latency_ms=12.0,
    )
    values.update(overrides)
    return score_question(**values)


def test_partial_answer_scores_recall_not_accuracy() -> None:
    score = _score()
    assert score.fact_recall == pytest.approx(0.5)
    assert score.accurate is False
    assert score.missing_facts == [["Future Telecoms"]]
    assert score.citation_support == pytest.approx(0.5)  # one of two cited chunks holds a fact
    assert score.false_refusal is False
    assert score.failed


def test_complete_answer_is_accurate() -> None:
    score = _score(text="£70 million for Future Telecoms [1]", cited_texts=["Future Telecoms"])
    assert score.fact_recall == 1.0 and score.accurate is True and score.citation_support == 1.0
    assert not score.failed


def test_refusal_of_answerable_question_counts_no_facts_even_if_text_mentions_them() -> None:
    score = _score(status="no_answer", text="I can't say whether £70m went to Future Telecoms.", cited_texts=[])
    assert score.fact_recall == 0.0
    assert score.false_refusal is True
    assert score.citation_support is None


def test_unanswerable_question_only_gets_false_answer_flag() -> None:
    declined = _score(answerable=False, expect=[], gold_doc_ids=[], status="no_answer")
    answered = _score(answerable=False, expect=[], gold_doc_ids=[], status="answered")
    errored = _score(answerable=False, expect=[], gold_doc_ids=[], status="error")
    assert declined.false_answer is False and declined.fact_recall is None and declined.hit_at_1 is None
    assert answered.false_answer is True and answered.failed
    assert errored.false_answer is False and errored.failed


# --- aggregates -------------------------------------------------------------------------------------


def test_aggregate_hand_computed() -> None:
    scores = [
        _score(id="a", text="£70m and Future Telecoms", cited_texts=["£70m"], latency_ms=10),  # accurate
        _score(id="b", latency_ms=20),  # half the facts, support 0.5
        _score(id="c", status="no_answer", text="", cited_texts=[], retrieved_texts=["x"], retrieved_doc_ids=["x"], latency_ms=30),
        _score(id="d", answerable=False, expect=[], gold_doc_ids=[], status="no_answer", latency_ms=40, category="off-topic"),
        _score(id="e", answerable=False, expect=[], gold_doc_ids=[], status="answered", latency_ms=50, category="off-topic",
               leaked_docs=["internal-doc"]),
    ]
    summary = aggregate(scores)
    assert summary["n"] == 5 and summary["n_answerable"] == 3 and summary["n_unanswerable"] == 2
    assert summary["retrieval"]["hit_at_1"] == pytest.approx(2 / 3)
    assert summary["retrieval"]["mrr_at_10"] == pytest.approx(2 / 3)
    assert summary["answer"]["fact_recall"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert summary["answer"]["accuracy"] == pytest.approx(1 / 3)
    assert summary["answer"]["citation_support"] == pytest.approx((1 + 0.5) / 2)  # the refusal cites nothing
    assert summary["refusal"]["false_answer_rate"] == pytest.approx(0.5)
    assert summary["refusal"]["false_refusal_rate"] == pytest.approx(1 / 3)
    assert summary["refusal"]["balanced_accuracy"] == pytest.approx(((1 - 0.5) + (1 - 1 / 3)) / 2)
    assert summary["leaks"] == 1
    assert summary["latency_ms"] == {"p50": 30, "p95": pytest.approx(48.0)}

    by_category = breakdown(scores, lambda s: s.category)
    assert list(by_category) == ["coalition", "off-topic"]
    assert by_category["off-topic"]["answer"]["accuracy"] is None
    assert by_category["off-topic"]["refusal"]["balanced_accuracy"] == pytest.approx(0.5)

    flat = flatten(summary)
    assert flat["retrieval.hit_at_5"] == pytest.approx(2 / 3) and flat["leaks"] == 1


def test_percentile_and_balanced_accuracy_edges() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert balanced_accuracy(None, None) is None
    assert balanced_accuracy(0.2, None) == pytest.approx(0.8)
    assert balanced_accuracy(0.0, 1.0) == pytest.approx(0.5)


# --- leaks ------------------------------------------------------------------------------------------


@pytest.fixture
def detector() -> LeakDetector:
    return LeakDetector(
        [
            ("pub", "public", "The coalition launched on 5 October 2023 with five partner departments."),
            ("int", "internal", "The synthetic internal workstream on subsea cable resilience uses the codename BLUE-LANTERN-7."),
            ("int", "internal", "The coalition launched on 5 October 2023 with five partner departments."),  # shared with public
            ("par", "partners", "The partners-only pilot on open RAN test-lab pairing is called the CORAL-BRIDGE-42 pilot."),
        ]
    )


def test_citing_a_restricted_document_is_a_leak(detector: LeakDetector) -> None:
    assert detector.leaked_docs(text="Nothing quoted.", cited_doc_ids=["int"], allowed=["public"]) == ["int"]
    assert detector.leaked_docs(text="Nothing quoted.", cited_doc_ids=["int"], allowed=["public", "partners", "internal"]) == []


def test_quoting_a_restricted_document_is_a_leak(detector: LeakDetector) -> None:
    text = "Sure: the workstream on subsea cable resilience uses the codename BLUE-LANTERN-7."
    assert detector.leaked_docs(text=text, cited_doc_ids=[], allowed=["public"]) == ["int"]
    assert detector.leaked_docs(text=text, cited_doc_ids=[], allowed=["public", "partners", "internal"]) == []


def test_text_shared_with_a_readable_document_is_not_a_leak(detector: LeakDetector) -> None:
    text = "The coalition launched on 5 October 2023 with five partner departments [1]."
    assert detector.leaked_docs(text=text, cited_doc_ids=["pub"], allowed=["public"]) == []


def test_words_the_user_typed_are_not_a_leak(detector: LeakDetector) -> None:
    question = "what is the pilot on open RAN test-lab pairing called?"
    text = "I have nothing about the pilot on open RAN test-lab pairing called that."
    assert detector.leaked_docs(text=text, cited_doc_ids=[], allowed=["public"], typed=question) == []
    assert detector.leaked_docs(text=text, cited_doc_ids=[], allowed=["public"]) == ["par"]
