"""AnswerService on the real corpus index: known questions, refusals, Slack markup, follow-ups.

Everything runs on the session's real embedding model and a real Chroma + BM25 index of `corpus/`
(plus the synthetic restricted fixtures, which these public-audience questions must never need).
The extractive generator is deterministic, so exact expectations are stable.
"""

from __future__ import annotations

import pytest
from answer_helpers import cited_doc_ids, describe, quoted_by_doc

from bot.answer.scope import out_of_scope
from bot.types import Turn

AUDIENCES = ("industry", "academic", "staff")

# (question, doc that must be cited, fact that must be quoted from that doc)
KNOWN = [
    ("When was the GCOT joint statement of intent published?", "gcot-joint-statement", "5 October 2023"),
    ("How often does the GCOT steering group meet?", "gcot-steering-group", "twice a year"),
    ("When did the UK Telecommunications (Security) Act 2021 receive Royal Assent?", "uk-telecoms-security-act", "17 November 2021"),
    ("How many applications did the FCC receive for the rip and replace programme?", "us-rip-and-replace-program", "181 applications"),
    ("When must Canadian operators remove Huawei and ZTE 5G equipment?", "ca-huawei-zte-prohibition", "28 June 2024"),
    ("What are the seven SFIA levels of responsibility?", "skills-sfia", "Set strategy/inspire/mobilise"),
    ("What are the six usage scenarios in the IMT-2030 framework?", "itu-imt-2030", "Integrated sensing and communication"),
    ("When was the Joint Statement Endorsing Principles for 6G released?", "6g-principles-2024", "26 February 2024"),
    ("Who chaired the Telecoms Diversification Taskforce?", "uk-5g-diversification-strategy", "Lord Ian Livingston"),
    ("How big is the Public Wireless Supply Chain Innovation Fund?", "us-wireless-innovation-fund", "$1.5bn"),
    ("When was the O-RAN Alliance formed?", "o-ran-alliance", "February 2018"),
    ("What sectors did the SOCI Act 2018 originally cover?", "au-soci-act", "electricity, gas, water and ports"),
    ("When was the permanent NICT Beyond 5G fund established?", "japan-nict-beyond-5g-fund", "March 2023"),
    ("Which departments signed the GCOT joint statement of intent?", "gcot-joint-statement", "DSIT (UK), DITRDCA (Australia), ISED (Canada), MIC (Japan) and NTIA (US)"),
]

# Once known gaps (strict xfails until issue 9): an ordinary word ("imposed", "big") counted as unknown,
# and an acronym the evidence sentences spell out in full. Now answered; kept as regular cases.
KNOWN_GAPS = [
    pytest.param("What fines can be imposed under the TSA?", "uk-telecoms-security-act", "10% of turnover", id="tsa-fines-acronym"),
    pytest.param("How big is the Wireless Innovation Fund?", "us-wireless-innovation-fund", "$1.5bn", id="wireless-fund-big"),
]

OUT_OF_SCOPE = [
    ("What's the weather forecast for Tokyo this weekend?", "weather"),
    ("Will it be sunny in Ottawa tomorrow?", "weather"),
    ("Who won the Premier League last season?", "sport"),
    ("<@U123> who won the world cup?", "sport"),
    ("Write a Python script that scrapes the GOV.UK site", "code"),
    ("Can you write me a regex that matches 5G band names?", "code"),
    ("Can you give me the phone number of the NTIA Assistant Secretary?", "personal_contact"),
    ("What is the personal email of the DSIT minister?", "personal_contact"),
    ("what's the email address of the UK GCOT lead?", "personal_contact"),
    ("What are the contact details for the NTIA press office?", "personal_contact"),
    ("can I have the minister's email", "personal_contact"),
]

# Questions about phones and e-mail as a policy subject, not requests for someone's details.
IN_SCOPE_LOOKALIKES = [
    "What types of mobile phones are permitted for conducting business?",
    "What is the policy on sharing information on mobile devices for work?",
    "What is the recommended email address format for official communication?",
]

# Close to the corpus, but the documents do not hold the answer. The refusal classifier of issue 9
# (trained on 25 dev look-alikes) answered six of these, which the earlier score threshold declined;
# with the number-coverage feature it declines two again. The rest stay strict xfails (issue 9).
# The type-coverage feature (the answer must give the kind of thing asked for) moved Nokia over the line;
# the country-coverage feature (the answer is about the country asked about) brought Germany and France back.
_CLASSIFIER_REGRESSION = pytest.mark.xfail(strict=True, reason="issue 9: the refusal classifier answers this look-alike")
UNANSWERABLE = [
    "What was the outcome of the GCOT steering group meeting in 2025?",
    # Declined while these tests embedded questions with torch; serving embeds them with the ONNX int8
    # export, and there it was answered under every model since (the shipped 0.37 one included): the
    # "¥44 trillion of added value" target quoted gives the kind asked (money in yen), though not the
    # fund's size, and the answer carries the caveat that the documents do not give that size.
    pytest.param("How much money is in the NICT Beyond 5G fund in yen?", marks=pytest.mark.xfail(strict=True, reason=(
        "issue 9: answered with the strategy's ¥44 trillion target (P 0.63, threshold 0.49), caveat carried"))),
    pytest.param("Which companies are current members of the O-RAN Alliance?", marks=_CLASSIFIER_REGRESSION),
    "Has Germany joined GCOT?",  # declined since country_coverage: nothing quoted names Germany
    # The boundary case of every model so far (within 0.02-0.07 of the threshold). "Nokia" is a word no
    # document holds (unknown_share 0.33 weighs for declining), but the Huawei and ZTE 4G deadline
    # quoted gives the date "when" asks for, and with type_coverage that now weighs for answering.
    pytest.param("When will Canada remove Nokia equipment from its 4G networks?", marks=pytest.mark.xfail(strict=True, reason=(
        "issue 9: answered with the Huawei/ZTE 4G deadline (P 0.67, threshold 0.37): the date quoted is the kind asked for"))),
    "What did the UK Telecommunications Security Act fine BT in 2024?",
    "Who is the GCOT workstream lead for subsea cables?",
    # Another country's answer to the question (country_coverage; all three were answered before it).
    "What share of Canadian mobile traffic runs over open RAN?",
    "When did Japan ban Huawei from its 5G networks?",
    "What is the maximum fine under Japan's telecoms security law?",
    "What is the capital of France?",  # declined since country_coverage
]

CANADA_5G = "When must Huawei and ZTE 5G equipment be removed from Canadian networks?"


@pytest.fixture(scope="module")
def canada_history(service) -> list[dict]:
    """A thread about the Canadian 5G deadline, with the assistant's real reply."""
    first = service.ask(CANADA_5G, audience="industry")
    assert first.status == "answered", describe(first)
    return [{"role": "user", "content": CANADA_5G}, {"role": "assistant", "content": first.text}]


# --- known questions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "doc_id", "fact"), [*(pytest.param(*known, id=known[1]) for known in KNOWN), *KNOWN_GAPS]
)
def test_known_question_is_answered_with_a_citation_to_its_document(service, question, doc_id, fact):
    # Public documents: every audience must get them, so the audience rotates through the three.
    audience = AUDIENCES[sum(map(ord, question)) % len(AUDIENCES)]
    answer = service.ask(question, audience=audience)

    assert answer.status == "answered", describe(answer)
    assert answer.reason == ""
    assert doc_id in cited_doc_ids(answer), describe(answer)
    # The fact is quoted from the expected document, not merely somewhere in the answer.
    assert fact in quoted_by_doc(answer)[doc_id], describe(answer)
    assert answer.confidence >= service.refusal_threshold


def test_citations_are_numbered_and_point_into_the_retrieved_chunks(service):
    answer = service.ask("When did the UK Telecommunications (Security) Act 2021 receive Royal Assent?", audience="industry")

    assert answer.status == "answered", describe(answer)
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert len({c.doc_id for c in answer.citations}) == len(answer.citations), "one number per document"
    retrieved = {hit.chunk_id: hit for hit in answer.retrieved}
    for citation in answer.citations:
        assert citation.title and citation.source_url.startswith("http")
        assert citation.chunk_ids and set(citation.chunk_ids) <= set(retrieved)
        assert {retrieved[chunk_id].doc_id for chunk_id in citation.chunk_ids} == {citation.doc_id}
        assert citation.snippet in answer.text
    assert set(quoted_by_doc(answer)) == set(cited_doc_ids(answer)), "every citation is used in the text"
    assert {"retrieve_ms", "generate_ms", "total_ms"} <= set(answer.timings)


def test_glossary_is_loaded_from_the_index(service):
    assert service.glossary.entries["TSA"] == "Telecommunications (Security) Act 2021"
    assert service.glossary.expand("TSA fines") == "TSA fines (Telecommunications (Security) Act 2021)"


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "category"), OUT_OF_SCOPE)
@pytest.mark.parametrize("audience", ["industry", "staff"])
def test_out_of_scope_requests_are_declined_before_retrieval(service, question, category, audience):
    answer = service.ask(question, audience=audience)

    assert answer.status == "no_answer", describe(answer)
    assert answer.reason == f"out_of_scope:{category}"
    assert answer.citations == []
    assert answer.retrieved == [], "declined requests never reach the index"


@pytest.mark.parametrize("question", IN_SCOPE_LOOKALIKES)
def test_questions_about_phones_and_email_are_not_declined_as_contact_requests(question):
    assert out_of_scope(question) is None


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_questions_get_no_answer(service, question):
    answer = service.ask(question, audience="industry")

    assert answer.status == "no_answer", describe(answer)
    assert answer.reason in {"weak_evidence", "not_in_documents"}, describe(answer)
    assert answer.text.startswith("I don't have that in the coalition's documents.")
    if answer.reason == "weak_evidence":
        assert answer.citations == []
    else:  # the documents say outright that they do not hold this: one cited sentence saying so
        assert len(answer.citations) == 1


@pytest.mark.parametrize("question", ["", "   ", "<@U123>", ":wave: <!here>"])
def test_empty_question_after_cleaning(service, question):
    answer = service.ask(question, audience="industry")

    assert answer.status == "no_answer"
    assert answer.reason == "empty_question"
    assert answer.retrieved == []


# --- Slack markup -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("with_markup", "clean"),
    [
        ("<@U123> what is <#C1|gcot>?", "what is gcot?"),
        (
            "<@U0LAN5Q2B|assistant> when was the GCOT joint statement of intent published? :wave:",
            "when was the GCOT joint statement of intent published?",
        ),
        (
            "When did <https://www.legislation.gov.uk/ukpga/2021/31|the Telecommunications (Security) Act 2021> "
            "receive Royal Assent? <!here>",
            "When did the Telecommunications (Security) Act 2021 receive Royal Assent?",
        ),
        (
            "<!channel> What sectors did the SOCI Act 2018 originally cover? :thinking_face: :+1::skin-tone-2:",
            "What sectors did the SOCI Act 2018 originally cover?",
        ),
    ],
)
def test_slack_markup_is_answered_like_the_clean_text(service, with_markup, clean):
    marked = service.ask(with_markup, audience="industry")
    plain = service.ask(clean, audience="industry")

    assert plain.status == "answered", describe(plain)
    assert (marked.status, marked.text, cited_doc_ids(marked)) == (plain.status, plain.text, cited_doc_ids(plain))
    for token in ("<@", "<#", "<!", "<http", ":wave:", ":+1:"):
        assert token not in marked.question


# --- follow-ups ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("follow_up", ["and for 4G?", "What about 4G?"])
def test_follow_up_resolves_against_the_thread(service, canada_history, follow_up, audience):
    answer = service.ask(follow_up, audience=audience, history=canada_history)

    assert answer.status == "answered", describe(answer)
    assert CANADA_5G in answer.standalone_question
    assert "31 December 2027" in quoted_by_doc(answer)["ca-huawei-zte-prohibition"], describe(answer)
    # The 4G sentence, not the 5G one the thread already had, leads the answer.
    assert answer.text.startswith("Canadian operators must remove Huawei and ZTE 4G equipment by 31 December 2027."), describe(answer)


def test_follow_up_accepts_turn_objects_and_markup_in_history(service):
    history = [
        Turn(role="user", content="<@U123> when was the permanent NICT Beyond 5G fund established? :wave:"),
        Turn(role="assistant", content="The permanent NICT fund was established in March 2023. [1]"),
    ]
    answer = service.ask("and which law allowed it?", audience="academic", history=history)

    assert answer.status == "answered", describe(answer)
    assert answer.standalone_question == (
        "and which law allowed it? (following up on: when was the permanent NICT Beyond 5G fund established?)"
    )
    assert "Act No. 93 of 2022" in quoted_by_doc(answer)["japan-nict-beyond-5g-fund"], describe(answer)


def test_pronoun_follow_up(service):
    question = "Who chaired the Telecoms Diversification Taskforce?"
    first = service.ask(question, audience="staff")
    answer = service.ask(
        "When did it publish its report?", audience="staff",
        history=[{"role": "user", "content": question}, {"role": "assistant", "content": first.text}],
    )

    assert answer.status == "answered", describe(answer)
    assert "20 April 2021" in quoted_by_doc(answer)["uk-5g-diversification-strategy"], describe(answer)


@pytest.mark.parametrize(
    ("question", "doc_id", "fact"),
    [
        ("What is SFIA?", "skills-sfia", "SFIA"),
        ("what is gcot?", "gcot-joint-statement", "GCOT"),
        ("Are there penalties under the UK Telecommunications (Security) Act 2021?", "uk-telecoms-security-act", "10% of turnover"),
    ],
)
def test_new_question_in_a_thread_is_not_bent_to_the_previous_topic(service, canada_history, question, doc_id, fact):
    in_thread = service.ask(question, audience="industry", history=canada_history)

    assert in_thread.status == "answered", describe(in_thread)
    assert in_thread.standalone_question == question
    assert "ca-huawei-zte-prohibition" not in cited_doc_ids(in_thread), describe(in_thread)
    assert fact in quoted_by_doc(in_thread).get(doc_id, ""), describe(in_thread)


def test_follow_up_with_a_synonym_of_the_previous_topic(service):
    question = "What was the funding shortfall of the rip and replace programme?"
    first = service.ask(question, audience="industry")
    answer = service.ask(
        "how was that gap eventually funded?", audience="industry",
        history=[{"role": "user", "content": question}, {"role": "assistant", "content": first.text}],
    )

    assert answer.status == "answered", describe(answer)
    assert "FY2025 NDAA" in quoted_by_doc(answer)["us-rip-and-replace-program"], describe(answer)
