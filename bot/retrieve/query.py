"""From what a person typed to what the retriever searches for.

Seven deterministic steps: strip Slack markup, split a number typed glued to its word ("nofo2"),
spell out chat shorthand the documents never use ("lvl"), name the assistant where the question
speaks to it ("what can you do?"), put a topic typed first back into its question ("ietf what does it
do"), make a follow-up standalone using the earlier turns, and expand acronyms from the corpus glossary. The question's wording never changes who may read
what: the audience is a separate argument everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.types import Turn

_USER_OR_CHANNEL = re.compile(r"<[@#!][^>|]*(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]*)(?:\|([^>]*))?>")
_EMOJI = re.compile(r"(?<!\d):[a-z0-9_+\-']+:(?!\d)")  # an emoji code, not a time such as 10:30:45
_SPACES = re.compile(r"\s+")


def unescape_slack(text: str) -> str:
    """Slack's escaping undone: `&lt;`, `&gt;` and `&amp;` (the only three it uses) back to characters.

    `&amp;` goes last, so a typed "&lt;" (sent as `&amp;lt;`) stays "&lt;".

    >>> unescape_slack("a &lt;b&gt; &amp;amp; ?x=1&amp;y=2")
    'a <b> &amp; ?x=1&y=2'
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def strip_slack_markup(text: str) -> str:
    """Remove mentions, channel links, special pings and emoji codes; keep a link's label (or URL).

    >>> strip_slack_markup("<@U123> what is <#C1|gcot> :wave: see <https://x.org|the page>")
    'what is #gcot see the page'
    """
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _USER_OR_CHANNEL.sub(lambda m: f"#{m.group(1)}" if m.group(0).startswith("<#") and m.group(1) else "", text)
    text = _EMOJI.sub(" ", text)
    text = unescape_slack(text)
    return _SPACES.sub(" ", text).strip()


# --- follow-ups ------------------------------------------------------------------------------------

_FOLLOW_UP_START = re.compile(
    r"^(and|also|or|but|what about|how about|what of|same for|and what|and how|and when|and who|then|so)\b", re.I
)
_ANAPHORA = re.compile(
    r"\b(it|its|it's|they|their|them|that|this|those|these|there|he|she|his|her|the same|the former|the latter)\b|"
    r"\b(the|that|this|which)\s+(\w+\s+)?ones?\b",  # "the new one", "which one"
    re.I,
)
# The same words where they point at nothing said earlier: "is there", "there are", "is it true that",
# "that" opening a clause ("the duties that the Act added"), "this year".
_NON_REFERRING = re.compile(
    r"\b(is|are|was|were|will|be|been)\s+there\b|\bthere\s+(is|are|was|were|will|be|been|has|have)\b|\bthere's\b|"
    r"\bis it (true|possible|correct|right|the case)\b|"
    r"\bthat(?=\s+(the|a|an|it|its|they|their|we|you|he|she|there|this|these|those)\b)|"
    r"\bthis (year|month|week|time)\b",
    re.I,
)
# A short question still stands alone when it names its subject: an acronym ("What is SFIA?") or a
# definition question ("what is gcot?"; but "what's the deadline?" refers back).
_ACRONYM = re.compile(r"[\w.-]*[A-Z][\w.-]*[A-Z][\w.-]*")
_DEFINITION = re.compile(r"^(what|who)('s|\s+is|\s+are|\s+was|\s+were)\s+(?!(the|a|an)\b)#?\w", re.I)


def is_follow_up(question: str) -> bool:
    """A short or referring question that needs the earlier turns to make sense.

    >>> is_follow_up("and for 4G?"), is_follow_up("What is SFIA?"), is_follow_up("Are there fines under the TSA?")
    (True, False, False)
    """
    question = question.strip()
    if _refers_back(question):
        return True
    words = re.findall(r"[\w'-]+", question)
    return len(words) <= 4 and not (_ACRONYM.search(question) or _DEFINITION.match(question))


_ASKS = re.compile(r"^\W*(?:(?:and|so|but|ok|okay)\W+)?(?:what|when|who|whom|whose|which|where|why|how|is|are|was|were|do|does|did|"
                   r"can|could|will|would|should|has|have)\b|\?\W*$", re.I)


def _refers_back(question: str) -> bool:
    """It opens as a follow-up ("and for 4G?") or points back ("when is its review?")."""
    return bool(_FOLLOW_UP_START.match(question) or _ANAPHORA.search(_NON_REFERRING.sub(" ", question)))


@dataclass(frozen=True)
class StandaloneQuestion:
    """The question to answer, plus earlier context that should weigh less than the question itself."""

    text: str
    question: str
    context: str = ""


# A question about the assistant itself: what it can do or cover, or what it is. It must end there:
# "what can you tell me about the TSA?" asks about the TSA, not about the assistant.
_ABOUT_YOU = re.compile(
    r"^\W*(?:what|which|how)\b(?:\s+[\w-]+){0,2}?\s+(?:can|could|do|will|would)\s+you\s+"
    r"(?:do|help(?:\s+(?:me|us))?(?:\s+with)?|cover|answer|handle|support|know)\W*$|"
    r"^\W*(?:who|what)\s+are\s+you\W*$",
    re.I,
)
_YOU = re.compile(r"\byou\b", re.I)
_WHAT_ARE_YOU = re.compile(r"^\W*(?:who|what)\s+are\s+you\b", re.I)
_THE_BOT = re.compile(r"\b(?:this|the)\s+(?:bot|chatbot)\b|\bthis\s+assistant\b", re.I)


def name_the_assistant(question: str, name: str) -> str:
    """`question` with the assistant called by `name` where it speaks to or about the assistant.

    Documents about an assistant call it by its name, never "you" or "this bot", so "what can you
    do?" matched nothing and was declined, and "what topics can this bot help with?" was answered
    from a sentence about government help with skills. An empty `name` leaves the question alone.

    >>> name_the_assistant("what can you do?", "coalition assistant")
    'what can the coalition assistant do?'
    >>> name_the_assistant("what topics can this bot help with", "coalition assistant")
    'what topics can the coalition assistant help with'
    >>> name_the_assistant("what can you tell me about the TSA?", "coalition assistant")
    'what can you tell me about the TSA?'
    """
    if not name:
        return question
    named = f"the {name}"
    if _ABOUT_YOU.search(question):
        question = _WHAT_ARE_YOU.sub(f"what is {named}", question)
        question = _YOU.sub(named, question)
    return _THE_BOT.sub(named, question)


_GLUED_NUMBER = re.compile(r"\b([A-Za-z]{2,})(\d+)\b")


def split_glued_numbers(question: str, frequency: Callable[[str], int]) -> str:
    """`question` with a word typed glued to its number ("nofo2", "release21") split in two where the
    documents use the letters as a word of their own more often than the glued form ("NOFO 2",
    "Release 21"); `frequency` says in how many chunks a word occurs.

    The lexical index met "nofo2" only inside a document id, so "nofo2 how much" matched that and
    "much" and was declined. Forms the documents write as one word ("IPv6") stay as typed.

    >>> chunks = {"nofo": 9, "nofo2": 1, "ipv6": 3, "ipv": 0}
    >>> split_glued_numbers("nofo2 how much", frequency=lambda word: chunks.get(word, 0))
    'nofo 2 how much'
    >>> split_glued_numbers("ipv6 and 3gpp", frequency=lambda word: chunks.get(word, 0))
    'ipv6 and 3gpp'
    """
    def split(match: re.Match[str]) -> str:
        letters, number = match.groups()
        return f"{letters} {number}" if frequency(letters) > frequency(match.group(0)) else match.group(0)

    return _GLUED_NUMBER.sub(split, question)


# Shorthand people type in chat, with the long forms it stands for (alternative spellings last). Only
# abbreviations with one reading in a question are listed: "min" (minimum, minister, minute) is not.
CHAT_SHORTHAND: dict[str, tuple[str, ...]] = {
    "lvl": ("level",), "lvls": ("levels",), "max": ("maximum",), "ppl": ("people",), "govt": ("government",),
    "dept": ("department",), "depts": ("departments",), "org": ("organisation", "organization"),
    "orgs": ("organisations", "organizations"), "intl": ("international",), "yr": ("year",), "yrs": ("years",),
    "approx": ("approximately",), "mgmt": ("management",), "req": ("requirement",), "reqs": ("requirements",),
    "reg": ("regulation",), "regs": ("regulations",), "rec": ("recommendation",), "recs": ("recommendations",),
    "spec": ("specification",), "specs": ("specifications",), "std": ("standard",), "stds": ("standards",),
    "comms": ("communications",), "info": ("information",), "num": ("number",), "amt": ("amount",),
    "docs": ("documents",), "doc": ("document",), "cert": ("certification",), "certs": ("certifications",),
    # Country codes people type for two partners ("au soci act", "jp b5g fund"); "ca" is not one (California,
    # certificate authority), and "uk" / "us" are what the documents write themselves.
    "au": ("australia",), "aus": ("australia",), "jp": ("japan",), "jpn": ("japan",),
}
_SHORT_FORM_SHARE = 3
"""A short form the documents hold in at least a third as many chunks as its long form is kept as typed."""
_SHORTHAND = re.compile(rf"\b(?:{'|'.join(sorted(CHAT_SHORTHAND, key=len, reverse=True))})\b", re.I)


def expand_shorthand(question: str, frequency: Callable[[str], int]) -> str:
    """`question` with chat shorthand ("lvl", "ppl", "max") spelled out where the documents use a long form
    (the most frequent of its spellings) in at least three times as many chunks as the short one;
    `frequency` says in how many chunks a word occurs. Otherwise the short form stays as typed.

    Neither BM25 nor the unknown-term check can see that "sfia lvl 5 name" asks about a level: "lvl" is
    a word the documents lack, which reads as a sign the question cannot be answered.

    >>> chunks = {"level": 40}
    >>> expand_shorthand("sfia lvl 5 name", frequency=lambda word: chunks.get(word, 0))
    'sfia level 5 name'
    """
    def expand(match: re.Match[str]) -> str:
        typed = match.group(0)
        long_form = max(CHAT_SHORTHAND[typed.lower()], key=frequency)
        # Web addresses put short forms into the text ("infrastructure.gov.au", "soumu.go.jp"): a short form
        # stays only where the documents use it about as often as the long one.
        if frequency(long_form) == 0 or frequency(typed.lower()) * _SHORT_FORM_SHARE > frequency(long_form):
            return typed
        return long_form.capitalize() if typed[0].isupper() else long_form

    return _SHORTHAND.sub(expand, question)


# "ietf what does it do", "sfia generic attributes - what are they": the topic typed first, then a
# question that points back at it with a pronoun.
_NOT_A_TOPIC = (
    "hi|hello|hey|thanks|thank|ok|okay|please|sorry|quick|and|also|or|but|so|then|"  # greetings, follow-ups
    "what|when|who|whom|whose|how|why|where|which|is|are|was|were|do|does|did|can|could|will|would|should"  # a question's own start
)
_TOPIC_FIRST = re.compile(
    rf"^(?!(?:{_NOT_A_TOPIC})\b)"
    r"(?P<topic>[\w&.'/-]+(?:\s+[\w&.'/-]+){0,4}?)\s*(?:[-\u2013\u2014:,]\s*)?"
    r"(?P<ask>(?:what|when|who|how|why|where|which)\b.*)$",
    re.I,
)
_POINTER = re.compile(r"\b(?:(?P<own>its|their)|it|they|them)\b", re.I)


def topic_first(question: str) -> str:
    """`question` reordered when its topic comes first and its question refers back to it: the pronoun
    becomes the topic. The sentence embedder read "ietf what does it do" as much less like "The IETF
    develops ..." than "what does the ietf do", and the classifier declined it. Without such a pronoun
    ("nofo 2 how much") the question is left as typed.

    >>> topic_first("ietf what does it do")
    'what does ietf do'
    >>> topic_first("sfia generic attributes - what are they?")
    'what are sfia generic attributes?'
    >>> topic_first("the TSA: when did its duties start")
    "when did the TSA's duties start"
    >>> topic_first("nofo 2 how much"), topic_first("what is it"), topic_first("and canada, what did they tie it to?")
    ('nofo 2 how much', 'what is it', 'and canada, what did they tie it to?')
    """
    match = _TOPIC_FIRST.match(question.strip())
    if match is None:
        return question
    topic, ask = match.group("topic"), match.group("ask")
    pointer = _POINTER.search(ask)
    if pointer is None:
        return question
    named = f"{topic}'s" if pointer.group("own") else topic
    return f"{ask[: pointer.start()]}{named}{ask[pointer.end():]}"


def make_standalone(question: str, history: Sequence[Turn] = ()) -> StandaloneQuestion:
    """Attach the thread's topic to a follow-up such as "and for 4G?"; leave other questions alone.

    The topic is the latest user question that stands on its own: in "what is the TSA?", "when did it get
    royal assent?", "who enforces it?", the third asks about the TSA. Failing that, a terse opener that
    points at nothing ("canada bill c-26" is short, not a follow-up: it had nothing to follow), and
    failing that the latest user turn.
    """
    asked = [text for turn in reversed(history) if turn.role == "user" and (text := strip_slack_markup(turn.content))]
    # A statement that points back ("the canary phrase for this internal document is ...") brings its own
    # subject: a follow-up after it is about it, so the walk stops there.
    previous = next((text for text in asked if not is_follow_up(text) or not _ASKS.search(text)), "")
    if not previous and asked:
        previous = asked[-1] if not _refers_back(asked[-1]) else asked[0]
    if not previous or not is_follow_up(question):
        return StandaloneQuestion(text=question, question=question)
    return StandaloneQuestion(text=f"{question} (following up on: {previous})", question=question, context=previous)


# --- glossary ----------------------------------------------------------------------------------

_TABLE_ROW = re.compile(r"^\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|")
_COMMON_WORDS = {"ran", "mic", "set", "it", "us", "uk", "eu", "ai"}


class Glossary:
    """Acronym -> expansion, read from the glossary document's Markdown table."""

    def __init__(self, entries: dict[str, str]) -> None:
        self.entries = entries
        self._lower = {acronym.lower(): acronym for acronym in entries}
        if entries:
            alternatives = "|".join(re.escape(a) for a in sorted(entries, key=len, reverse=True))
            self._pattern = re.compile(rf"(?<![\w-])({alternatives})(?![\w-])", re.I)
        else:
            self._pattern = None

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Glossary:
        entries: dict[str, str] = {}
        for text in texts:
            for line in text.splitlines():
                match = _TABLE_ROW.match(line.strip())
                if not match:
                    continue
                acronym, expansion = match.group(1).strip("* `"), match.group(2).strip()
                if acronym.lower() in {"acronym", "---"} or set(acronym) <= set("-: "):
                    continue
                entries.setdefault(acronym, expansion)
        return cls(entries)

    def expand(self, text: str) -> str:
        """Append each acronym's expansion once: "TSA fines" -> "TSA fines (Telecommunications (Security) Act 2021)"."""
        if self._pattern is None:
            return text
        expansions: list[str] = []
        for match in self._pattern.finditer(text):
            typed = match.group(1)
            acronym = self._lower[typed.lower()]
            # Lower-case typing counts only where it cannot be an ordinary word ("ran", "mic").
            if typed != acronym and typed.lower() in _COMMON_WORDS:
                continue
            expansion = self.entries[acronym]
            if expansion.lower() not in text.lower() and expansion not in expansions:
                expansions.append(expansion)
        return f"{text} ({'; '.join(expansions)})" if expansions else text
