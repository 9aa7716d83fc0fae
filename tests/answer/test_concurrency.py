"""One AnswerService answers on several threads at once (the Slack app runs `slack_workers` of them).

Every answer must be the one the same question gets alone: no state of one question (its acronym
expansions, the sentence-vector cache) may leak into another asked at the same moment. The questions
mix acronyms the glossary expands (their answers depend on those expansions) with plain ones.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bot.answer.service import AnswerService

QUESTIONS = [
    "What fines can be imposed under the TSA?",
    "what is the TSA?",
    "What is SFIA?",
    "what is the ECSF?",
    "When was the O-RAN Alliance formed?",
    "How often does the GCOT steering group meet?",
    "How do UK and US approaches to high-risk vendors differ?",
    "NICE vs ECSF",
    "How big is the Public Wireless Supply Chain Innovation Fund?",
    "What sectors did the SOCI Act 2018 originally cover?",
]


def _outcome(service: AnswerService, question: str) -> tuple[str, str, float]:
    answer = service.ask(question, audience="staff")
    return answer.status, answer.text, answer.confidence


def test_answers_on_concurrent_threads_match_answers_alone(service):
    alone = {question: _outcome(service, question) for question in QUESTIONS}
    # Several rounds, each question asked on four threads at once in a different order.
    asked = [QUESTIONS[(i * 7 + r) % len(QUESTIONS)] for r in range(4) for i in range(len(QUESTIONS))]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda question: (question, _outcome(service, question)), asked))
    differing = [question for question, outcome in together if outcome != alone[question]]
    assert not differing, f"answered differently when asked beside other questions: {sorted(set(differing))}"
