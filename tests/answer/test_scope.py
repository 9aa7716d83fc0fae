"""Scope rules decline requests for the weather or sport, not telecoms questions in their words.

"How does rain affect mmWave links?", "the F1 interface" and "who won the spectrum auction?" are
questions for the documents; "will it snow in Ottawa tomorrow?" and "who won the world cup?" are not.
The end-to-end case indexes the corpus plus a small synthetic document that answers such questions.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from answer_helpers import build_service, cited_doc_ids, describe

from bot.answer.scope import out_of_scope

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "telecoms-weather"
FIXTURE_DOC = "test-weather-network-resilience"

TELECOMS_IN_WEATHER_AND_SPORT_WORDS = [
    "What is the F1 interface in O-RAN?",
    "Who won the NOFO 2 awards?",
    "who won the 3.5 GHz spectrum auction in the UK?",
    "How does rain affect mmWave 5G links?",
    "What does the 6G traffic forecast in the strategy assume?",
    "What operating temperature range must radio units meet?",
    "How did the snow storm outage affect Rogers?",
    "How does extreme weather affect network resilience?",
    "Which match between the ECSF and NICE role profiles is closest?",
]

REQUESTS_FOR_WEATHER_OR_SPORT = [
    ("will it snow in ottawa tomorrow?", "weather"),
    ("whats the temperature in tokyo today", "weather"),
    ("is it raining in london", "weather"),
    ("what is the weather like in canberra", "weather"),
    ("what is the forecast for tomorrow", "weather"),
    ("who won the super bowl?", "sport"),
    ("premier league table", "sport"),
    ("who won the f1 grand prix", "sport"),
    ("who won the league title last year", "sport"),
    ("who won the 2022 world series", "sport"),
]


@pytest.mark.parametrize("question", TELECOMS_IN_WEATHER_AND_SPORT_WORDS)
def test_telecoms_questions_in_weather_and_sport_words_are_in_scope(question):
    assert out_of_scope(question) is None


@pytest.mark.parametrize(("question", "category"), REQUESTS_FOR_WEATHER_OR_SPORT)
def test_requests_for_the_weather_or_sport_are_out_of_scope(question, category):
    assert out_of_scope(question) == category


@pytest.fixture(scope="module")
def service(tmp_path_factory, embedder, query_embedder):
    from ingest.pipeline import ingest
    from testkit import CORPUS_DIR, make_settings

    settings = make_settings(tmp_path_factory.mktemp("scope_index") / "data")
    result = ingest([CORPUS_DIR, FIXTURE], settings=settings, embedder=embedder, sentence_embedder=query_embedder)
    assert not result["errors"], result["errors"]
    return build_service(settings, query_embedder)


@pytest.mark.parametrize(("question", "fact"), [
    ("How does rain affect mmWave links?", "rain fade"),
    ("What is the F1 interface?", "central unit (CU)"),
    ("what operating temperature range do outdoor radio units need", "-40 °C to +55 °C"),
])
def test_telecoms_question_in_weather_words_is_answered_from_the_documents(service, question, fact):
    answer = service.ask(question, audience="industry")

    assert answer.status == "answered", describe(answer)
    assert FIXTURE_DOC in cited_doc_ids(answer)
    assert fact in answer.text
