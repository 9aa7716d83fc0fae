"""What a question asks for: its parts (compared sides, "and"-joined asks) and its shape ("what is X").

Pure string work on the question as typed; the extractive generator chooses evidence so that every
part is covered. The patterns are about how people ask (English question forms), not about the
documents' wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.jurisdictions import named_countries

_COMPARE = [
    # "NICE vs ECSF", "SFIA versus e-CF levels", "GCOT compared with the 6G statement"
    re.compile(r"^(?P<a>.+?)\s+(?:vs\.?|versus|v\.|compared (?:to|with)|against)\s+(?P<b>.+)$", re.I),
    # "difference between X and Y", "compare X and Y", "comparing X with Y"
    re.compile(r"\b(?:differences?|distinction|compare|comparing|comparison)\s+(?:between\s+|of\s+)?(?P<a>.+?)\s+(?:and|with|to)\s+(?P<b>.+)$", re.I),
    # "How do the UK and US approaches differ?", "how are X and Y different"
    re.compile(r"^(?:how|in what ways?|where)\s+(?:do|does|did|are|is|were|was)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+(?:differ|compare|contrast|different|similar|alike)\b", re.I),
]
_DEFINITION = re.compile(
    r"^(?:so\s+)?(?:what|who)(?:'s|s|\s+is|\s+are|\s+was|\s+were)\s+(?!(?:in|on|at|of|for|behind|part|involved|inside|with)\b)"
    r"(?:an?\s+|the\s+)?(?P<x>[^?]+?)\s*\??$", re.I
)
_TRAILING_ASK = re.compile(r"\s+(?:differ|compare|contrast)\w*.*$", re.I)
_LEADING_ASK = re.compile(r"^(?:how|what|when|who|which|where|why)\b.*?\b(?:do|does|did|are|is|were|was)\s+", re.I)
_PART_SPLIT = re.compile(r"\s*(?:\?\s+|;\s*|\s+\+\s+|,\s*(?:and\s+)?|\s+and\s+(?=(?:what|when|who|how|which|where|why|is|are|did|does|do|will|can)\b))", re.I)
_WORD = re.compile(r"[\w][\w.&/+'-]*")
_STOP = set(
    "a an the of for to in on at by and or with from about is are was were be been do does did how what when who which where "
    "why whats what's each their its it this that these those vs versus between compare compared differ difference "
    "differences approach approaches".split()
)
# Country codes people type, and the names documents use: "UK" is matched by "United Kingdom".
COUNTRY_ALIASES = {
    "uk": {"uk", "united kingdom", "british", "britain"},
    "us": {"us", "united states", "american", "u.s."},
    "usa": {"us", "united states", "american"},
    "eu": {"eu", "european union", "european"},
}
COUNTRY_NAMES = {"uk": "United Kingdom", "us": "United States", "usa": "United States", "eu": "European Union"}


# "When" asks for a time where it opens a question or part, ends a terse one, or is followed by its verb
# ("when did", "gcot launch when"); inside a clause ("who must attend when hardware is bought") it does not.
_ASKS_DATE = re.compile(
    r"^\W*when\b|\bwhen\W*$|\b(?:and|or|but|so)\s+when\b|[,:;]\s*when\b|"
    r"\bwhen\s+(?:did|does|do|is|was|were|will|would|are|has|have|had|can|could|should|must|shall)\b|"
    r"\b(what (year|date|day|month)|which (year|date)|deadline|how long ago|since when|(?<!to )date)\b", re.I  # "to date" is "so far"
)
# "How long" asks for a span of time ("three-year terms", "within 90 days"); "how long ago" for a date.
_ASKS_DURATION = re.compile(r"\bhow long\b(?! ago)", re.I)
_HAS_DURATION = re.compile(r"\b(?:\d[\d.,]*|one|two|three|four|five|six|seven|eight|nine|ten|twelve)\s*-?\s*(?:years?|months?|weeks?|days?|hours?)\b", re.I)
_ASKS_NUMBER = re.compile(r"\b(how (many|much|big|large|often)|number of|what (share|percentage|proportion|amount)|count|size|cost|budget|worth|funding|fines?|penalt(y|ies)|fees?|salar(y|ies)|prices?)\b", re.I)
# A year in a name ("the Act 2021") is no date: a date has a month, or a year after a preposition, or
# is a span of time ("90 days").
_HAS_DATE = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december)\b|"
    r"\b(in|by|from|until|since|on|of|before|after|end-|mid-|early|late)\s*(19|20)\d\d\b|\b(19|20)\d\d\s*[–-]\s*\d|"
    r"\b\d+\s*-?\s*(days?|weeks?|months?|years?)\b", re.I  # "within 90 days" answers a "when" too
)
_HAS_NUMBER = re.compile(r"[£$€¥]|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twice|once)\b", re.I)
# A figure stands alone: "$10m", "35%", "2030", "35,000"; the digits of a name ("5G", "C-8", "3GPP") are none.
# "end-2027" and "mid-2025" are years all the same.
_FIGURE = re.compile(
    r"(?:(?<![\w-])|(?<=\bend-)|(?<=\bmid-)|(?<=\bearly-)|(?<=\blate-))"
    r"[£$€¥]?\d[\d,.]*(?:\s?(?:%|m|bn|k|tn|million|billion|trillion))?(?![\w-])", re.I)


# Documents write one amount several ways ("£70 million (£70m)"): each is one figure.
_MAGNITUDE_WORDS = {"million": "m", "billion": "bn", "trillion": "tn"}
_MAGNITUDE_WORD = re.compile(r"(?<=\d)(million|billion|trillion)$")


def figures(text: str) -> set[str]:
    """The amounts, counts and years `text` states, normalised ("¥44 trillion" -> "¥44tn", "£70 million" -> "£70m")."""
    return {_figure(match.group(0)) for match in _FIGURE.finditer(text)}


def _figure(written: str) -> str:
    """One figure as `figures` gives it: lower case, no spaces or trailing punctuation, magnitude abbreviated."""
    figure = written.lower().replace(" ", "").rstrip(".,")
    return _MAGNITUDE_WORD.sub(lambda word: _MAGNITUDE_WORDS[word.group(1)], figure)


# A number the question pins down: a year, a version or a release ("2025", "v3.0.0", "Release 22",
# "35%"). Digits inside a name ("5G", "3GPP") and amounts with a unit ("£40m", "$1.5bn") are not, nor
# is a count the asker wants ("name 3 partners", "the 7 levels"): a number after a word that asks for
# some of a thing and before a plural.
_PINNED_NUMBER = re.compile(r"(?<![\w.£$€¥])(?<!\d,)v?(\d+(?:[.,]\d+)*)(?![\w£$€¥]|[.,]\d)", re.I)
_COUNT_CUE = re.compile(r"\b(?:the|top|first|last|name|list|give|show|me|any|all)\s+$", re.I)
_COUNT_OF = re.compile(r"\s+(?:\S+\s+)?[a-z]+s\b")  # "3 partners", "3 GCOT partners"
_YEAR = re.compile(r"(?:19|20)\d\d")
# The day of a date ("22 October 2025", "October 22") pins no release or version: "Release 22" is not met by it.
# "May" only capitalised: "Release 21 may carry ..." is no date.
_MONTH_NAMES = (r"(?:(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?"
                r"|nov(?:ember)?|dec(?:ember)?)\.?|May)")
_DAY_BEFORE_MONTH = re.compile(rf"\s+{_MONTH_NAMES}(?!\w)")
_MONTH_BEFORE_DAY = re.compile(rf"(?<!\w){_MONTH_NAMES}\s+$")


def pinned_numbers(text: str, *, counts: bool = False) -> set[str]:
    """The years, versions and release numbers `text` names, trailing ".0"s dropped ("v2.0.0" -> "2").

    Args:
        text: a question (or, with `counts`, a sentence).
        counts: keep plain numbers before a plural too ("52 work roles"). Defaults to False: in a
            question they are how many things the asker wants, not a version asked about.

    >>> sorted(pinned_numbers("Was NIST CSF 2.0 out by 2024, before 5G Release 18? Name 3 changes."))
    ['18', '2', '2024']
    """
    return {number for _, number in _pins(text, counts=counts)}


def _pins(text: str, *, counts: bool) -> list[tuple[re.Match, str]]:
    pinned = []
    for match in _PINNED_NUMBER.finditer(text):
        number = match.group(1)
        if (not counts and number.isdigit() and not _YEAR.fullmatch(number)
                and _COUNT_CUE.search(text, 0, match.start()) and _COUNT_OF.match(text, match.end())):
            continue
        if len(number) <= 2 and (_DAY_BEFORE_MONTH.match(text, match.end()) or _MONTH_BEFORE_DAY.search(text, 0, match.start())):
            continue
        pinned.append((match, re.sub(r"(?:\.0)+$", "", number)))
    return pinned


_NAME_BEFORE = re.compile(r"([\w-]+)\W*$")


def _named_pins(text: str, *, counts: bool) -> set[tuple[str, str]]:
    """(the word before it, the number) for each number `text` pins after a content word: ("components", "2")
    for "NICE Components v2.0.0", ("sfia", "9") for "SFIA 9"; a year after "in" or a month names nothing."""
    return {pin for _, pin in _named_pins_at(text, counts=counts)}


def _named_pins_at(text: str, *, counts: bool) -> list[tuple[int, tuple[str, str]]]:
    """`_named_pins` in order, each with where its number starts."""
    named = []
    for match, number in _pins(text, counts=counts):
        before = _NAME_BEFORE.search(text, 0, match.start())
        word = before.group(1).lower() if before else ""
        if word and word not in _STOP and not _MONTH.fullmatch(word):
            named.append((match.start(), (word, number)))
    return named


def names_another_version(question: str, text: str) -> bool:
    """Does `text` pin another number after a word the question pins one after ("Components v1.0.0" for
    "components v2.0.0")? Then it is about another version, year or release of the thing asked about."""
    asked = _named_pins(question, counts=False)
    asked_words = {word for word, _ in asked}
    return any(word in asked_words and (word, number) not in asked for word, number in _named_pins(text, counts=True))


def dates_another_version(question: str, sentence: str) -> bool:
    """For a "when" question about one version of a thing, does the sentence name that version and date only
    another one?

    A date belongs to the version named last before it: "Bill C-8 revives the legislation introduced as
    Bill C-26 on 14 June 2022" dates C-26, not the C-8 asked about; "... was reintroduced as Bill C-8 on 18
    June 2025" dates C-8. Only a sentence naming both versions is one of these: one naming another version
    alone ("Release 20 was agreed in June 2025" for "Release 21 freeze date") is about that version
    altogether, which `number_coverage` already tells the refusal classifier.
    """
    owners, asked, names_asked = _date_owners(question, sentence)
    return names_asked and bool(owners) and all(owner is not None and owner not in asked for owner in owners)


def dates_asked_version(question: str, sentence: str) -> bool:
    """For a "when" question about one version of a thing, does a date in the sentence belong to that version
    ("reintroduced as Bill C-8 on 18 June 2025" for "when was C-8 introduced")?"""
    owners, asked, _ = _date_owners(question, sentence)
    return any(owner in asked for owner in owners if owner is not None)


def _date_owners(question: str, sentence: str) -> tuple[list[tuple[str, str] | None], set[tuple[str, str]], bool]:
    """(for each date in the sentence, the version of the asked thing named last before it, or None; the
    versions asked about; whether the sentence names one of them). Empty unless the question asks "when"."""
    if answer_type(question) != "date":
        return [], set(), False
    asked = _named_pins(question, counts=False)
    asked_words = {word for word, _ in asked}
    pins = [(start, pin) for start, pin in _named_pins_at(sentence, counts=True) if pin[0] in asked_words]
    if not pins:
        return [], asked, False
    dates = [match.start() for match in _HAS_DATE.finditer(sentence)]
    owners = [next((pin for start, pin in reversed(pins) if start < date), None) for date in dates]
    return owners, asked, any(pin in asked for _, pin in pins)


def number_coverage(question: str, texts: Sequence[str]) -> float:
    """Share of the numbers `question` pins down that `texts` name too (1.0 when it names none).

    "When was SFIA 10 released?" answered from sentences about SFIA 9 scores 0: the answer is about
    another version, year or release than the one asked for.
    """
    asked = pinned_numbers(question)
    if not asked:
        return 1.0
    named = set().union(*(pinned_numbers(text, counts=True) for text in texts)) if texts else set()
    return len(asked & named) / len(asked)


def answer_type(text: str) -> str | None:
    """What kind of answer a question (part) asks for: "duration", "date", "number", or None (anything)."""
    if _ASKS_DURATION.search(text):
        return "duration"
    if _ASKS_DATE.search(text):
        return "date"
    if _ASKS_NUMBER.search(text):
        return "number"
    return None


# "What prompted X?", "why was X set up?" are answered by what X followed or responded to. Not a kind the
# refusal classifier checks (`asked_kind`): a cause is often said without any of these words ("X was set
# up to ..."), so its absence is no sign the documents lack the answer. "After" is left out: it mostly
# just orders events ("launched after a major outage" gives no cause the reader can follow).
_ASKS_CAUSE = re.compile(r"^\W*why\b|\bwhat\s+(?:prompted|caused|triggered|led\s+to|drove|motivated)\b|\breasons?\s+(?:for|behind)\b", re.I)
_GIVES_CAUSE = re.compile(
    r"\b(?:because|due\s+to|owing\s+to|(?:in\s+)?response\s+to|as\s+a\s+result\s+of|followed|prompted|triggered|caused|led\s+to)\b"
    r"|(?<!the\s)\bfollowing\b(?!\s*:)", re.I)


def asks_cause(question: str) -> bool:
    """Does the question ask why, or what prompted something?"""
    return bool(_ASKS_CAUSE.search(question))


def has_answer_type(kind: str | None, sentence: str) -> bool:
    """Does the sentence hold an answer of that kind (a span of time, a date, a number, a cause)?"""
    if kind == "cause":
        return bool(_GIVES_CAUSE.search(sentence))
    if kind == "duration":
        return bool(_HAS_DURATION.search(sentence))
    if kind == "date":
        return bool(_HAS_DATE.search(sentence))
    if kind == "number":
        return bool(figures(sentence) or _HAS_NUMBER.search(sentence))
    return False


# --- does the answer give what was asked? --------------------------------------------------------------
# The refusal classifier reads `type_coverage`: "How many 5G Innovation Regions got money from the £40m?"
# answered by a sentence that only restates the question's own "£40m", "What is the salary?" by a launch
# date, "Who chairs the steering group?" by sentences naming no one the question did not: the asked-for
# kind of answer is missing.

# "who", "which countries", or a terse ask that ends on a group's members ("gcot members?").
# As with "when", "who" asks only as the question's own word, not inside a clause ("users who do not log in").
_NAMED_GROUPS = r"operators|vendors|suppliers|providers|firms|companies|organi[sz]ations|universities"
_ASKS_NAME = re.compile(
    r"^\W*(?:(?:and|so|but)\s+)?who(?:m|se)?\b|\b(?:members?|partners?|signatories|founders?)\W*$|"
    rf"\bwhich\s+(?:[\w-]+\s+){{0,2}}?(?:countries|departments|agencies|bodies|members|partners|{_NAMED_GROUPS})\b", re.I
)
# "When do you need to ...?" asks for a condition, not a date.
_ASKS_CONDITION = re.compile(r"\bwhen\s+(?:do|does|should|can|must|would)\s+(?:you|i|we|one|people)\b", re.I)
# "Who is responsible for ...?", "who must authorise ...?" ask for a role, which policies name in plain
# words ("information owners", "the data controller"): no kind this module can recognise.
_ASKS_ROLE = re.compile(
    r"\bwho\s+(?:is|are)\s+(?:responsible|accountable|required|expected|allowed|permitted|entitled|eligible)\b|"
    r"\bwho\s+(?:must|should|shall|can|may|needs?\s+to|has\s+to)\b", re.I
)
# "Are Finland and Sweden GCOT members?" asks yes or no, not for names.
_YES_NO = re.compile(r"^\W*(?:(?:and|so|but)\s+)?(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|may|must)\b", re.I)
_ASKS_FREQUENCY = re.compile(r"\bhow often\b", re.I)
_HAS_FREQUENCY = re.compile(
    r"\b(?:annual(?:ly)?|yearly|monthly|weekly|daily|quarterly|hourly|bi-?annual(?:ly)?|once|twice|every|each|per|"
    r"regularly|periodically|at least)\b|\b\d+\s*times\b", re.I
)
# "One of the focus topics", "no one", "the one that" count nothing: "how many staff does NTIA have?" is not
# answered by "Skills is one of the focus topics".
_NOT_A_COUNT = re.compile(r"\bone\s+of\b|\b(?:no|the|any|every|each|which|this|that)\s+one\b", re.I)
# "How many members ...", "the number of work roles ...": the words naming what is counted, up to the first
# function word. A count answers only when its sentence names that thing too.
_COUNTED = re.compile(r"\b(?:how many|number of)\s+([^?.;]+)", re.I)
# "o-ran alliance member count": the word before "count" is what is counted.
_COUNT_OF_WORD = re.compile(r"\b([a-z][\w-]*)\s+count\b(?!\s+(?:as|towards?|for|on)\b)", re.I)


def counted_thing(question: str) -> Part | None:
    """What a "how many" question counts ("members" of "how many members does etsi have", "member" of
    "member count"), or None."""
    found = _COUNTED.search(question)
    if not found:
        typed_after = _COUNT_OF_WORD.search(question)
        word = typed_after.group(1).lower() if typed_after else ""
        return Part(word, (word,)) if word and word not in _STOP else None
    counted = []
    for word in _WORD.findall(found.group(1)):
        if word.lower() in _STOP or len(counted) == 3:
            break
        counted.append(word.lower())
    return Part(" ".join(counted), tuple(counted)) if counted else None


_NEAR = 40
"""Characters either side of a count in which the thing counted must be named ("181 applications", "seven
SFIA levels", "the number of work roles is 52")."""


def _counts(thing: Part | None, question: str, sentence: str) -> bool:
    """Does the sentence give a count the question lacks: a figure that is no year, or a number word? For a
    "how many" question (`thing`, see `counted_thing`) it must also be no sum or share, with the thing counted
    named near it: "ETSI is one of the seven Organizational Partners of 3GPP" counts no members; "The SOCI
    Enhanced Response and Prevention Act 2024 (No. 100) ..." no assets."""
    sentence = _NOT_A_COUNT.sub(lambda found: " " * len(found.group(0)), sentence)
    asked = figures(question) | {w.lower() for w in _NUMBER_WORD.findall(question)}
    for found in (*_FIGURE.finditer(sentence), *_NUMBER_WORD.finditer(sentence)):
        number = _figure(found.group(0))
        if number in asked or _YEAR.fullmatch(number):
            continue
        if thing is None:
            return True
        if not _SUM_OR_SHARE.match(number) and mentions(thing, sentence[max(0, found.start() - _NEAR) : found.end() + _NEAR]) >= 0.5:
            return True
    return False


_NUMBER_WORD = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twice|dozens?|hundreds?|thousands?)\b", re.I)
_MONTH = re.compile(r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december)\b", re.I)
# An amount of money or a share is asked for by these words, and answered by a figure with a currency,
# a magnitude or a percent sign ("$1.9bn", "£40m", "35%"), not by a count ("five countries").
_ASKS_AMOUNT = re.compile(r"\b(how much|budget|costs?|funding|fines?|penalt(y|ies)|fees?|salar(y|ies)|prices?|worth|spend(?:s|ing)?|raise|share|percentage|proportion)\b", re.I)
_MAGNITUDE = r"m|bn|k|tn|million|billion|trillion"
_AMOUNT = re.compile(rf"[£$€¥].*|.*(?:%|{_MAGNITUDE})", re.I)
# Money asked for is a sum ("£40m", "$1.9bn", "44 trillion yen"), not a share: "how much money did the report
# recommend" is not answered by a "35% of traffic" target. A share of money ("how much of the cost", "what share
# of the budget") and a fine ("up to 10% of turnover") may be a percentage.
_ASKS_MONEY = re.compile(
    r"\b(?:money|fund(?:s|ed|ing)?|budget(?:s|ed)?|cost(?:s|ing)?|spend(?:s|ing)?|spent|rais(?:e|es|ed|ing)|salar(?:y|ies)|"
    r"prices?|paid|pay(?:s|ing)?|grants?|invest(?:s|ed|ing|ments?)?|yen|dollars?|pounds?|euros?)\b", re.I)
_ASKS_SHARE = re.compile(r"\bhow much of\b|\b(?:share|percent(?:age)?|proportion|fraction)\b", re.I)
_SUM_OR_SHARE = re.compile(r"[£$€¥]|.*%$")  # no count, whatever its digits: "£40m", "35%"
_SUM = re.compile(rf"[£$€¥].*|.*(?:{_MAGNITUDE})", re.I)  # `_AMOUNT` without the percent sign
# A capitalised word that does not open the sentence: a name, an organisation, a place, an acronym.
_NAME = re.compile(r"(?<!^)(?<![.!?:] )\b[A-Z][\w'&-]*")


# "Where is X headquartered / based / hosted?", "which city ...?" ask for a named place: "in Geneva", "at Sophia
# Antipolis". Not "located":
# "where is wernickes area located in the brain" is answered in plain words.
_ASKS_BASE = re.compile(
    r"\bwhere\b.*\b(?:headquarter(?:s|ed)?|hq|based|hosted)\b|\bheadquarters\b|\b(?:which|what)\s+(?:city|town|venue)\b", re.I
)
# A name followed by a number is a release, a version or a law, not a place: "in Release 20", "in Act 2021".
_PLACE = re.compile(r"\b(?:in|at)\s+(?:the\s+)?([A-Z][\w-]+(?:\s+[A-Z][\w-]+)*)\b(?!\s+\d)")


def _new_place(question: str, place: str) -> bool:
    """A place the question does not name: not a month, not only its own words, not a country it names ("in
    the United Kingdom" does not say where "the UK Cyber Security Council" is based)."""
    asked = {w.lower() for w in re.findall(r"[\w-]+", question)}
    if _MONTH.match(place) or {w.lower() for w in place.split()} <= asked:
        return False
    countries = named_countries(place)
    return not countries or not countries <= named_countries(question)


# "What does CDP stand for?" asks for the words an acronym abbreviates.
_ASKS_EXPANSION = re.compile(r"\b([A-Za-z][A-Za-z0-9&-]{1,11})\s+(?:stands?|is\s+short)\s+for\b", re.I)
_LINKING_WORDS = frozenset("of and for the on in to at &".split())


def asked_acronym(question: str) -> str | None:
    """The acronym a question asks to be spelled out ("CDP" of "what does CDP stand for"), or None."""
    found = _ASKS_EXPANSION.search(question)
    return found.group(1) if found and found.group(1).lower() not in _STOP else None


def topic_of(question: str) -> str:
    """The question without the words that only frame its ask: "what does CDP stand for" is about "CDP"; a
    sentence spelling CDP out never says "stand", and should not read as covering half the question."""
    found = _ASKS_EXPANSION.search(question)
    if not found or asked_acronym(question) is None:
        return question
    return question[: found.end(1)] + question[found.end():]


def spells_out(acronym: str, sentence: str) -> bool:
    """Does the sentence hold words whose initials spell the acronym ("Bureau of Cyberspace and Digital Policy"
    for "CDP", "Security of Critical Infrastructure" for "SOCI")? Its letters are taken in order from
    consecutive capitalised words; a linking word ("of", "and") may give a letter or be passed over. An acronym
    of fewer than two letters cannot be checked: True."""
    letters = [c.lower() for c in acronym if c.isalpha()]
    if len(letters) < 2:
        return True
    tokens = [w for w in re.findall(r"[\w&]+", sentence) if w.lower() != acronym.lower()]

    def match(letter: int, token: int) -> bool:
        if letter == len(letters):
            return True
        if token == len(tokens):
            return False
        word = tokens[token]
        linking = word.lower() in _LINKING_WORDS
        if (word[0].isupper() or linking) and word[0].lower() == letters[letter] and match(letter + 1, token + 1):
            return True
        return linking and letter > 0 and match(letter, token + 1)

    return any(match(0, start) for start in range(len(tokens)))


# "Which countries are in GCOT?" is answered by a sentence naming countries, not by one naming the coalition.
_ASKS_COUNTRIES = re.compile(r"\b(?:which|what) (?:countries|nations|governments)\b", re.I)


def asks_countries(question: str) -> bool:
    """Does the question ask which countries ("which countries signed ...", "what nations are in ...")?"""
    return bool(_ASKS_COUNTRIES.search(question))


_GROUP = re.compile(r"\b(?:members?|membership|partners?|signatories|signatory|founders?|founding members?)\b", re.I)
# "Which UK operators signed up?" is answered by the operators' names, as "who are the members" is.
_WHICH_GROUP = re.compile(
    rf"\bwhich\s+(?:[\w-]+\s+){{0,2}}?(?:{_NAMED_GROUPS})\b", re.I)


def asks_members(question: str) -> bool:
    """Does the question ask who belongs to a group ("who are gcot's members", "who are the members of
    gcot")? Such a "who are X" is answered by names, not by a definition of X; "who is the ceo of X" asks
    for a person, whom no capitalised word is sure to be."""
    return asked_kind(question) == "name" and bool(_GROUP.search(question) or _WHICH_GROUP.search(question))


# How documents say who belongs to a group: "signed by five departments", "the founding partners", "joined in
# 2024". A membership question searches with these too, since the asker's "members" is often not the word used.
MEMBERSHIP_WORDS = "members partners signatories signed joined founding"


def membership_query(question: str, query: str) -> str:
    """`query` with the words of belonging added when `question` asks who belongs to a group (`asks_members`)."""
    if not asks_members(question) or _WHICH_GROUP.search(question):
        return query
    return f"{query} {MEMBERSHIP_WORDS}"


# "Who chairs the steering group?", "who is the ceo of ...?" ask for one person in a role: a sentence naming the
# group's member departments is no answer, though it holds new capitalised words.
_ROLE = r"chair(?:man|woman|person)?|ceo|president|director(?:[- ]general)?|secretary(?:[- ]general)?|minister"
_ASKS_PERSON = re.compile(
    r"\bwho\s+(?:chairs?|chaired|heads?|headed|directs?|directed|presides?|presided)\b|"
    rf"\b(?:{_ROLE}|chief executive|head)(?:'s)?\s+(?:of|at|for|responsible|in charge)\b|"
    r"\b(?:chair(?:man|woman|person)?|ceo|president|secretary|minister)(?:'s)?\s+name\b|"
    rf"\b(?:which|who\s+(?:is|was)\s+the)\s+(?:[\w'-]+\s+){{0,2}}?(?:{_ROLE}|official|lead)\b", re.I
)


def asks_person(question: str) -> bool:
    """Does the question ask for the one person in a role ("who chairs ...", "the ceo of ...")?"""
    return bool(_ASKS_PERSON.search(question))


# The role a person-ask names, as a sentence that speaks of it would say it: "chaired by Lord Livingston"
# answers "who chaired the taskforce"; "DSIT is the UK Department for ..." does not answer "who is the
# minister responsible for DSIT", whatever new capitalised words it holds.
_ROLE_SAID = (
    (re.compile(r"\bchair", re.I), re.compile(r"\bchair", re.I)),
    (re.compile(r"\b(?:ceo|chief executive)\b", re.I), re.compile(r"\b(?:ceo|chief executive)\b", re.I)),
    (re.compile(r"\bpresid", re.I), re.compile(r"\bpresid", re.I)),
    (re.compile(r"\bdirect", re.I), re.compile(r"\b(?:director|directed by|directs)\b", re.I)),
    (re.compile(r"\bsecretar", re.I), re.compile(r"\bsecretar", re.I)),
    (re.compile(r"\bminist", re.I), re.compile(r"\bminist", re.I)),
    (re.compile(r"\bhead", re.I), re.compile(r"\bhead(?:s|ed|ing)?\b(?!\s*(?:office|quarter))|\bled by\b", re.I)),
)


def speaks_of_role(question: str, sentence: str) -> bool:
    """For a question asking for the person in a role, does the sentence speak of that role? True otherwise."""
    if not asks_person(question):
        return True
    said = [pattern for asked, pattern in _ROLE_SAID if asked.search(question)]
    return not said or any(pattern.search(sentence) for pattern in said)


def names_a_month(sentence: str) -> bool:
    """Does the sentence date something to a month or day ("on 30 June 2020"), not only a year ("by 2030")?"""
    return bool(_MONTH.search(sentence))


def new_countries(question: str, sentence: str) -> int:
    """How many countries the sentence names that the question does not."""
    return len(named_countries(sentence) - named_countries(question))


def asks_amount(question: str) -> bool:
    """Does the question ask for an amount of money or a share ("how much", "budget", "what share")?"""
    return bool(_ASKS_AMOUNT.search(question))


# "SI number for the 2022 regulations", "what's its document number?" ask for a designation ("SI 2022/933",
# "NIST CSWP 29", "Release 21"), which no date gives: "came into force on 1 October 2022" holds no new one.
_ASKS_IDENTIFIER = re.compile(
    r"\b(?:document|si|statutory instrument|bill|reference|ref|serial|chapter|publication|report|case|file|release|"
    r"standard|spec(?:ification)?|form|regulation|act|order)\s+(?:number\b|no\.|no\b)", re.I)


def gives_designation(question: str, sentence: str) -> bool:
    """Does the sentence pin a number the question lacks (`pinned_numbers`: "SI 2022/933", "CSWP 29",
    "Release 21")? A bare year is no designation ("in 2022"), nor is the day of a date, a figure after a
    currency sign ("£5m") or the digit of a name ("6G")."""
    return any(not _YEAR.fullmatch(number) for number in pinned_numbers(sentence) - pinned_numbers(question))


def asked_kind(text: str) -> str | None:
    """What kind of answer a question (part) wants back: `answer_type`'s "duration", "date" and "number",
    "frequency" ("how often"), or "name" ("who", "which countries", "which minister", "gcot members?").

    A yes-or-no question ("are Finland and Sweden members?", "is the date of birth calculated?") asks for
    none: its answer is a statement, whatever it holds; nor does a question for a role ("who is
    responsible for ...?") or a condition ("when do you need to ...?"). "Where" is checked only for where a
    body is based or something hosted, and "which city / town / venue" ("place": "where is X headquartered /
    based"): other answers say where in plain words ("in the tropics", "on grassy plains", "data held on
    encrypted drives"), and on ClapNQ and the public PDFs a check of every "where" declined more answerable
    questions than unanswerable ones. "What does X stand for" asks for an "expansion" (see `spells_out`), and
    "SI / document / bill number" for an "identifier" (see `gives_designation`).
    """
    if _YES_NO.match(text) or _ASKS_CONDITION.search(text) or _ASKS_ROLE.search(text):
        return None
    if asked_acronym(text):
        return "expansion"
    if _ASKS_IDENTIFIER.search(text):
        return "identifier"
    if _ASKS_FREQUENCY.search(text):
        return "frequency"
    if _ASKS_BASE.search(text):
        return "place"
    if kind := answer_type(text):
        return kind
    return "name" if _ASKS_NAME.search(text) or asks_person(text) else None


# "The documents do not name GCOT workstream leads" names no one, whatever capitalised words it holds.
_DENIES_NAMING = re.compile(r"\b(?:do(?:es)?|did)\s+not\s+(?:name|list|identify|say\s+who)\b|\bnot\s+(?:named|listed|identified)\b", re.I)


def gives_kind(kind: str | None, question: str, sentence: str, also_asked: Callable[[str], bool] | None = None) -> bool:
    """Does the sentence state an answer of that kind that the question does not already state?

    An amount ("budget", "how much") is a figure with a currency, a magnitude or a percent sign that the
    question lacks, and money ("how much money", "funding") one without a percent sign unless a share of
    it is asked for; another number is any figure the question lacks (a bare year is a date, not a count)
    or a number word, and for "how many" (or "member count") no sum or share, in a sentence that names the
    thing counted;
    a date has a month or a new figure besides its date form; a name is a capitalised
    word the question does not use, the sentence's first word aside (every sentence opens with a
    capital), and no month: "launched in October 2023" names no member; for the person in a role ("who chairs
    ...") the sentence must speak of that role (`speaks_of_role`), and a group's members must be listed or said
    to belong (`lists_members`); a place is a capitalised name after "in" or "at" that the question lacks,
    no month and no country the question names; an expansion is words whose initials spell the acronym
    asked about (`spells_out`). `also_asked(word)` says a word
    counts as asked too (a word of an acronym's expansion: "gcot members?" is not answered by "The Global
    Coalition on Telecommunications (GCOT) is ..."). No kind asked: True.
    """
    if kind is None:
        return True
    new_figures = figures(sentence) - figures(question)
    if kind == "number" and asks_amount(question):
        amount = _SUM if _ASKS_MONEY.search(question) and not _ASKS_SHARE.search(question) else _AMOUNT
        return any(amount.fullmatch(f) for f in new_figures)
    if kind == "number":
        return _counts(counted_thing(question), question, sentence)
    if kind == "date":
        return has_answer_type("date", sentence) and bool(new_figures or names_a_month(sentence))
    if kind == "duration":
        return has_answer_type("duration", sentence)
    if kind == "frequency":
        return bool(_HAS_FREQUENCY.search(sentence))
    if kind == "place":
        return any(_new_place(question, place) for place in _PLACE.findall(sentence))
    if kind == "expansion":
        return spells_out(asked_acronym(question) or "", sentence)
    if kind == "identifier":
        return gives_designation(question, sentence)
    if asks_countries(question):
        return new_countries(question, sentence) > 0
    # "O-RAN" asked also asks "RAN": a sentence saying "(RAN)" names nothing new.
    # "gcot's members" asks "gcot" too.
    asked_words = {w.lower().removesuffix("'s") for w in re.findall(r"[\w'&-]+", question) + re.findall(r"[\w'&]+", question)}
    names_new = any(
        name.lower() not in asked_words and not _MONTH.fullmatch(name) and not (also_asked and also_asked(name))
        for name in _NAME.findall(sentence.strip()))
    return names_new and not _DENIES_NAMING.search(sentence) and speaks_of_role(question, sentence) and (
        not asks_members(question) or lists_members(sentence))


# A group's members are named in a list ("DSIT (UK), DITRDCA (Australia) ... and NTIA (US)", "Vodafone, BT
# and Ericsson") or said to be members ("its partners include NTIA").
_NAME_GROUP = r"[A-Z][\w'&.-]*(?:\s+(?:of|for|and|on|the|de)?\s*[A-Z][\w'&.-]*)*(?:\s*\([^)]*\))?"
_NAME_LIST = re.compile(rf"{_NAME_GROUP}\s*,\s*(?:{_NAME_GROUP}\s*,\s*)*(?:and\s+)?{_NAME_GROUP}|{_NAME_GROUP}\s+and\s+{_NAME_GROUP}")
_SAYS_MEMBERSHIP = re.compile(
    r"\b(?:members?|membership|partners?|signator(?:y|ies)|signed|signing|found(?:ed|ers?|ing)|includ(?:es?|ed|ing)|"
    r"made up of|compris(?:es?|ed|ing)|consists? of|joined|brings? together|alongside)\b", re.I)


def lists_members(sentence: str) -> bool:
    """Does the sentence list names, or say who belongs ("made up of", "partners include", "signed by")?"""
    return bool(_NAME_LIST.search(sentence) or _SAYS_MEMBERSHIP.search(sentence))


def type_coverage(question: str, sentences: Sequence[str], also_asked: Callable[[str], bool] | None = None) -> float:
    """1.0 when the quoted sentences give the kind of answer the question asks for (each part of a
    comparison or multi-part question its own), else 0.0; a question asking for no kind scores 1.0.
    `also_asked` as for `gives_kind`."""
    question_shape = shape(question)
    parts = [part.text for part in question_shape.parts] if question_shape.kind in ("comparison", "multi") else [question]
    for part in parts:
        kind = asked_kind(part)
        if kind is not None and not any(gives_kind(kind, question, sentence, also_asked) for sentence in sentences):
            return 0.0
    return 1.0


@dataclass(frozen=True)
class Part:
    """One thing the question asks about: its words, and the words that single it out from the others."""

    text: str
    key_words: tuple[str, ...] = ()
    """Words a sentence (with its title and heading) must contain to speak to this part."""
    subject: str = ""
    """For a part asking "what is X": X, so the sentence that defines X answers it first."""

    @property
    def wants(self) -> str | None:
        return answer_type(self.text) or ("cause" if asks_cause(self.text) else None)


@dataclass(frozen=True)
class QuestionShape:
    kind: str
    """"comparison", "definition", "multi" (several asks) or "single"."""
    parts: tuple[Part, ...] = field(default_factory=tuple)
    subject: str = ""
    """For "what is X": X."""


def words(text: str) -> list[str]:
    """Content words, lower-cased, in order (keeps short codes such as "us", "uk", "5g")."""
    return [w.lower().strip(".'") for w in _WORD.findall(text) if w.lower().strip(".'") not in _STOP]


def shape(question: str) -> QuestionShape:
    """Classify `question` and split it into parts.

    >>> [p.key_words for p in shape("How do UK and US approaches to high-risk vendors differ?").parts]
    [('uk',), ('us',)]
    >>> shape("what is the ECSF").subject
    'ECSF'
    """
    # A Slack channel name ("what is #gcot") asks about the same thing as the bare word.
    text = re.sub(r"(?<!\w)#(?=\w)", "", question.strip()).rstrip("?!. ")
    head = text.split(":", 1)[0] if ":" in text else text
    for pattern in _COMPARE:
        match = pattern.search(head)
        if match:
            sides = [_LEADING_ASK.sub("", match.group("a")), _TRAILING_ASK.sub("", match.group("b"))]
            side_words = [words(side) for side in sides]
            if all(side_words):
                return QuestionShape("comparison", _sides(sides, side_words))
    # Split first: "what are the Prague Proposals and who attended" asks two things, not what "the Prague
    # Proposals and who attended" is.
    pieces = [p for p in _PART_SPLIT.split(text) if p and words(p)]
    if len(pieces) > 1:
        return QuestionShape("multi", tuple(Part(p, tuple(words(p)), subject=_defined(p)) for p in pieces))
    if subject := _defined(text):
        return QuestionShape("definition", (Part(subject, tuple(words(subject)), subject=subject),), subject=subject)
    return QuestionShape("single", (Part(text, tuple(words(text))),))


def _defined(text: str) -> str:
    """X, when `text` asks "what is X" about a short X (five content words at most); else ""."""
    definition = _DEFINITION.match(text)
    return definition.group("x").strip() if definition and len(words(definition.group("x"))) <= 5 else ""


def _sides(sides: list[str], side_words: list[list[str]]) -> tuple[Part, ...]:
    """Each side keyed by the words only it has; "UK and US approaches to X" keys the sides by UK and US."""
    a, b = side_words
    # Words beyond the shorter side's length are the shared topic ("US approaches to X" -> "US").
    if len(b) > len(a):
        b = b[: len(a)]
    elif len(a) > len(b):
        a = a[-len(b) :]
    distinct_a = tuple(w for w in a if w not in b) or tuple(a)
    distinct_b = tuple(w for w in b if w not in a) or tuple(b)
    return (Part(sides[0], distinct_a), Part(sides[1], distinct_b))


_INFLECTIONS = ("s", "es", "d", "ed", "ing")


def mentions(part: Part, text: str, also: Callable[[str, str], bool] | None = None) -> float:
    """Share of the part's key words that `text` contains (country codes also by their names).

    Args:
        part: the question part.
        text: the sentence (with its title and heading, if wanted).
        also: `(word, text) -> bool`, another way a word can be present (an acronym by its full name).
    """
    if not part.key_words:
        return 0.0
    lowered = text.lower()
    tokens = set(words(text))
    found = 0
    for index, word in enumerate(part.key_words):
        forms = COUNTRY_ALIASES.get(word, {word})
        following = part.key_words[index + 1] if index + 1 < len(part.key_words) else ""
        if any((form in tokens) if " " not in form and "." not in form else (form in lowered) for form in forms):
            found += 1
        elif len(word) > 4 and any(t.startswith(word[:5]) for t in tokens):
            found += 1  # a crude stem: "licences" for "licence", "levels" for "level"
        elif len(word) >= 3 and word not in COUNTRY_ALIASES and tokens & {word + ending for ending in _INFLECTIONS}:
            found += 1  # a short word inflected: "added" for "add", "acts" for "act"
        elif 3 <= len(word) <= 4 and following and re.search(rf"\b{re.escape(word)}[a-z]+\s+{re.escape(following)}\b", lowered):
            found += 1  # a clipped word before the word it qualifies: "pen tester" for "penetration tester"
        elif also is not None and also(word, text):
            found += 1
    return found / len(part.key_words)
