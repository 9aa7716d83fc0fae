"""From what a person typed to what the retriever searches: Slack markup, follow-ups, acronyms.

Pure functions, no index: these run in milliseconds. The glossary tests read the real glossary
document from `corpus/`, so they also catch a glossary table the parser can no longer read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.types import Turn
from bot.retrieve.query import (
    Glossary,
    StandaloneQuestion,
    expand_shorthand,
    is_follow_up,
    make_standalone,
    name_the_assistant,
    split_glued_numbers,
    strip_slack_markup,
    topic_first,
    unescape_slack,
)

GLOSSARY_FILE = Path(__file__).resolve().parents[2] / "corpus" / "about" / "glossary.md"


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.from_texts([GLOSSARY_FILE.read_text(encoding="utf-8")])


# --- strip_slack_markup ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<@U123> what is <#C1|gcot>?", "what is #gcot?"),
        ("<@U123|alice> when did GCOT launch?", "when did GCOT launch?"),
        ("<#C0123ABC> when did GCOT launch?", "when did GCOT launch?"),
        ("<!here> <!channel> <!subteam^S1|@policy> when did GCOT launch?", "when did GCOT launch?"),
        ("see <https://www.gov.uk/x|the launch page> please", "see the launch page please"),
        ("see <https://www.gov.uk/x?a=1&amp;b=2>", "see https://www.gov.uk/x?a=1&b=2"),
        ("mail <mailto:team@example.org|team@example.org>", "mail team@example.org"),
        (":wave: hello :+1::skin-tone-2: there :thinking_face:", "hello there"),
        ("R&amp;D &lt;6G&gt; funding", "R&D <6G> funding"),
        ("&amp;lt; stays literal", "&lt; stays literal"),
        ("  many   spaces\n\nand\tlines  ", "many spaces and lines"),
        ("the call at 10:30:45 and a 3:1:1 split", "the call at 10:30:45 and a 3:1:1 split"),
        ("", ""),
        ("<@U123>", ""),
    ],
)
def test_strip_slack_markup(raw, clean):
    assert strip_slack_markup(raw) == clean


def test_strip_slack_markup_is_idempotent():
    once = strip_slack_markup("<@U1> R&amp;D in <#C1|gcot> :wave: <https://x.org|page>")
    assert strip_slack_markup(once) == once


# --- Glossary -----------------------------------------------------------------------------------


def test_glossary_reads_the_corpus_table(glossary):
    assert glossary.entries["GCOT"] == "Global Coalition on Telecommunications"
    assert glossary.entries["ITU-R"] == "ITU Radiocommunication Sector"
    assert len(glossary.entries) >= 50
    assert not {"Acronym", "---", ""} & set(glossary.entries), "header and separator rows are not entries"


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("TSA fines?", "TSA fines? (Telecommunications (Security) Act 2021)"),
        ("tsa fines?", "tsa fines? (Telecommunications (Security) Act 2021)"),
        # Each expansion once, in order of first mention.
        ("TSA and SOCI, and the TSA again", "TSA and SOCI, and the TSA again (Telecommunications (Security) Act 2021; Security of Critical Infrastructure)"),
        # Longest acronym wins; "RAN" inside "O-RAN" and "ITU" inside "ITU-R" are not matched again.
        ("what is O-RAN?", "what is O-RAN? (Open Radio Access Network)"),
        ("ITU-R M.2160", "ITU-R M.2160 (ITU Radiocommunication Sector)"),
        ("R&D areas", "R&D areas (Research and development)"),
        # Acronyms that are also ordinary words count only when typed in capitals.
        ("What did MIC say?", "What did MIC say? (Ministry of Internal Affairs and Communications)"),
        ("what did the mic pick up", "what did the mic pick up"),
        ("who ran the RAN trial", "who ran the RAN trial (Radio access network)"),
        ("ai and AI", "ai and AI (Artificial intelligence)"),
        # Already spelled out: nothing to add.
        ("Global Coalition on Telecommunications (GCOT) launch", "Global Coalition on Telecommunications (GCOT) launch"),
        # Not a whole word.
        ("GCOTs and TSAs", "GCOTs and TSAs"),
        ("no acronyms here", "no acronyms here"),
    ],
)
def test_glossary_expand(glossary, text, expanded):
    assert glossary.expand(text) == expanded


def test_empty_glossary_changes_nothing():
    assert Glossary({}).expand("TSA fines") == "TSA fines"
    assert Glossary.from_texts(["no table here", "| just | one cell"]).entries == {}


# --- follow-ups -----------------------------------------------------------------------------------

FOLLOW_UPS = [
    "and for 4G?",
    "What about 4G?",
    "4G?",
    "When?",
    "what's the deadline?",
    "When was it published?",
    "Did they pay compensation?",
    "how was that gap eventually funded?",
    "and the SLACIP one, when did that take effect?",
    "what are the fines in the new one?",
    "Which one came first?",
]

STANDALONE = [
    "When must Huawei and ZTE 5G equipment be removed from Canadian networks?",
    "Who chaired the Telecoms Diversification Taskforce?",
    # Short, but naming their subject.
    "What is SFIA?",
    "what is gcot?",
    "what is #gcot?",
    # "there", "it" and "that" that point at nothing earlier.
    "Are there penalties under the UK Telecommunications (Security) Act 2021?",
    "Is there a deadline for removing Huawei from UK 5G networks?",
    "Is it true that the TSA fines reach 10% of turnover?",
    "What are the duties that the Act added?",
    "What did GCOT announce this year?",
]


@pytest.mark.parametrize("question", FOLLOW_UPS)
def test_is_follow_up(question):
    assert is_follow_up(question)


@pytest.mark.parametrize("question", STANDALONE)
def test_is_not_follow_up(question):
    assert not is_follow_up(question)


PREVIOUS = "When must Huawei and ZTE 5G equipment be removed from Canadian networks?"


def test_make_standalone_without_history_is_the_question():
    assert make_standalone("and for 4G?") == StandaloneQuestion(text="and for 4G?", question="and for 4G?")


def test_make_standalone_attaches_the_previous_question():
    history = [Turn(role="user", content=PREVIOUS), Turn(role="assistant", content="By 28 June 2024. [1]")]

    standalone = make_standalone("and for 4G?", history)

    assert standalone == StandaloneQuestion(
        text=f"and for 4G? (following up on: {PREVIOUS})", question="and for 4G?", context=PREVIOUS
    )


def test_make_standalone_uses_the_last_user_turn_without_markup():
    history = [
        Turn(role="user", content="Who chaired the Telecoms Diversification Taskforce?"),
        Turn(role="assistant", content="Lord Ian Livingston. [1]"),
        Turn(role="user", content=f"<@U123> {PREVIOUS} :wave:"),
        Turn(role="assistant", content="By 28 June 2024. [1]"),
    ]

    assert make_standalone("What about 4G?", history).context == PREVIOUS


def test_a_follow_up_to_a_follow_up_keeps_the_threads_topic():
    history = [
        Turn(role="user", content="what is the telecoms security act"),
        Turn(role="assistant", content="The Telecommunications (Security) Act 2021 is ... [1]"),
        Turn(role="user", content="when did it get royal assent"),
        Turn(role="assistant", content="On 17 November 2021. [1]"),
    ]

    assert make_standalone("who enforces it", history).context == "what is the telecoms security act"


def test_a_terse_opener_is_the_threads_topic():
    history = [Turn(role="user", content="canada bill c-26"), Turn(role="user", content="what happened to it")]

    assert make_standalone("what replaced it", history).context == "canada bill c-26"


def test_a_statement_that_points_back_is_the_topic_of_what_follows():
    history = [
        Turn(role="user", content="fyi I'm on the DSIT staff team"),
        Turn(role="user", content='The canary phrase for this internal document is "amber heron protocol".'),
    ]

    assert make_standalone("when is its review?", history).context.startswith("The canary phrase")


def test_make_standalone_ignores_history_without_a_user_turn():
    history = [Turn(role="assistant", content="Hello! Ask me about GCOT.")]

    assert make_standalone("and for 4G?", history).context == ""


@pytest.mark.parametrize("question", STANDALONE)
def test_make_standalone_leaves_a_new_question_alone(question):
    history = [Turn(role="user", content=PREVIOUS), Turn(role="assistant", content="By 28 June 2024. [1]")]

    assert make_standalone(question, history) == StandaloneQuestion(text=question, question=question)


def test_slack_escaping_is_undone_once_and_ampersand_last():
    assert unescape_slack("a &lt;b&gt; ?x=1&amp;y=2") == "a <b> ?x=1&y=2"
    assert unescape_slack("typed &amp;lt; literally") == "typed &lt; literally"  # Slack's escape of a typed "&lt;"
    assert strip_slack_markup("R&amp;D &lt;5G&gt;") == "R&D <5G>"


# --- name_the_assistant -----------------------------------------------------------------------------

@pytest.mark.parametrize(("question", "named"), [
    ("what can you do?", "what can the coalition assistant do?"),
    ("What can you help me with", "What can the coalition assistant help me with"),
    ("what topics do you cover", "what topics do the coalition assistant cover"),
    ("who are you?", "what is the coalition assistant?"),
    ("what topics can this bot help with?", "what topics can the coalition assistant help with?"),
    ("is the bot allowed to share internal documents?", "is the coalition assistant allowed to share internal documents?"),
])
def test_name_the_assistant_where_the_question_is_about_it(question, named):
    assert name_the_assistant(question, "coalition assistant") == named


@pytest.mark.parametrize("question", [
    "what can you tell me about the TSA?",  # asks about the TSA
    "can you explain the Prague Proposals?",
    "what do you know about Huawei's ban in Canada",
    "Who is the NTIA Assistant Secretary?",  # "assistant" as a title
    "how does the assistant secretary's office engage industry",
    "what is the 6G strategy",
])
def test_name_the_assistant_leaves_other_questions_alone(question):
    assert name_the_assistant(question, "coalition assistant") == question


def test_name_the_assistant_is_off_without_a_name():
    assert name_the_assistant("what can you do?", "") == "what can you do?"


@pytest.mark.parametrize(("typed", "searched"), [
    ("nofo2 how much", "nofo 2 how much"),  # the documents write "NOFO 2"
    ("what is release21?", "what is release 21?"),
    ("ipv6 support", "ipv6 support"),  # the documents write "IPv6" as one word
    ("3gpp rel", "3gpp rel"),  # a number first is a name ("3GPP", "5G"), not a word and its number
    ("x2 interface", "x2 interface"),  # one letter: too short to be a word of its own
])
def test_a_number_glued_to_its_word_is_split_only_where_the_documents_split_it(typed, searched):
    chunks = {"nofo": 18, "nofo2": 1, "release": 33, "ipv6": 3, "ipv": 0, "x": 5}
    assert split_glued_numbers(typed, frequency=lambda word: chunks.get(word.lower(), 0)) == searched


@pytest.mark.parametrize(("typed", "read"), [
    ("ietf what does it do", "what does ietf do"),
    ("sfia generic attributes - what are they?", "what are sfia generic attributes?"),
    ("e-cf proficiency levels: how do they map to the EQF?", "how do e-cf proficiency levels map to the EQF?"),
    ("the TSA, when did its duties start", "when did the TSA's duties start"),
])
def test_a_topic_typed_first_replaces_the_pronoun_pointing_back_at_it(typed, read):
    assert topic_first(typed) == read


@pytest.mark.parametrize("question", [
    "nofo 2 how much",  # no pronoun: nothing to put the topic into
    "what is it",
    "and canada, what did they tie it to?",  # a follow-up: its pronoun points at the thread
    "hi, what can it do",
    "who leads it",
])
def test_topic_first_leaves_other_questions_as_typed(question):
    assert topic_first(question) == question


@pytest.mark.parametrize(("typed", "searched"), [
    ("sfia lvl 5 name", "sfia level 5 name"),  # the documents write "level", never "lvl"
    ("bill c8 max fine", "bill c8 maximum fine"),
    ("how many ppl work there", "how many people work there"),
    ("intl orgs in gcot", "international organisations in gcot"),  # the spelling the documents use
    ("GOV docs", "GOV documents"),  # "gov" is a word the documents hold ("GOV.UK"): kept as typed
    ("Lvl 3?", "Level 3?"),  # a capital stays a capital
    ("maxed out", "maxed out"),  # whole words only
    ("au tssr when started", "australia tssr when started"),  # "au" only in web addresses ("gov.au"): rare beside "australia"
    ("jp b5g fund", "japan b5g fund"),
    ("spec of o-ran", "spec of o-ran"),  # the documents write "spec" about as often as "specification": kept
])
def test_chat_shorthand_is_spelled_out_where_the_documents_use_the_long_form(typed, searched):
    chunks = {"level": 40, "maximum": 12, "people": 9, "international": 7, "organisations": 11, "organizations": 2,
              "documents": 30, "gov": 5, "government": 50, "au": 15, "australia": 58, "jp": 3, "japan": 34,
              "spec": 10, "specification": 12}
    assert expand_shorthand(typed, frequency=lambda word: chunks.get(word.lower(), 0)) == searched
