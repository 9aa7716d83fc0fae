"""Requests the assistant declines whatever the documents say: weather, sport, code, contact details.

Deterministic patterns, checked before retrieval, so a request for someone's phone number is
declined even if some document happens to mention a phone.
"""

from __future__ import annotations

import re

_OUT_OF_SCOPE: dict[str, re.Pattern[str]] = {
    # A request for someone's number, address or details, not a question about phones or e-mail:
    # "the policy on mobile phones for business" and "the e-mail address format" are in scope.
    "personal_contact": re.compile(
        r"\b(phone|mobile|cell|telephone|whatsapp)\s*(number|no\.|#)|"
        r"\b(personal|private|direct|home)\s+(email|e-mail|phone number|number|address|contact)|"
        r"\b(email|e-mail)\s+address(es)?\s+(of|for)\b|\bcontact details\s+(of|for)\b|"
        r"\w['’]s\s+(email|e-mail|phone|mobile|contact details)\b",
        re.I,
    ),
    "code": re.compile(
        r"\b(write|generate|give me|show me|create|fix|debug)\b.{0,40}\b(code|script|function|program|class|"
        r"regex|sql|python|javascript|bash|scraper)\b|\bin python\b",
        re.I,
    ),
    # Requests for the weather itself ("weather in Tokyo", "will it snow tomorrow?"), not weather as a
    # telecoms topic: "how does rain affect mmWave links?", "extreme weather and network resilience",
    # "operating temperature of radio units" and "the traffic forecast for 2030" are in scope.
    "weather": re.compile(
        r"\bweather\s+(like|in|for|at|today|tonight|tomorrow|this|next|forecast|report)\b|"
        r"\b(will|is|was|does)\s+it\s+(be\s+)?(rain(ing)?|snow(ing)?|sunny|hot|cold|windy|cloudy)\b|"
        r"\b(sunny|raining|snowing)\b|\btemperature\s+(in|at|today|tonight|tomorrow|outside)\b|"
        r"\bforecast\s+(for\s+)?(today|tonight|tomorrow|this\s+weekend|this\s+week)\b",
        re.I,
    ),
    # Sports by name, or who won a competition. Not "who won the ..." alone (an auction, an award, an
    # election) nor "F1" alone (the O-RAN F1 interface).
    "sport": re.compile(
        r"\b(football|soccer|rugby|cricket|tennis|golf|nba|nfl|premier league|champions league|world cup|super bowl|"
        r"match score|olympics|formula (1|one)|grand prix|baseball|hockey)\b|"
        r"\bwho won the\b(\s+[\w'-]+){0,4}?\s+(final|cup|league|championship|tournament|race|match|game|series|title)s?\b",
        re.I,
    ),
}

# Attempts to change the rules; declined for everyone (the audience never comes from the text anyway).
_INSTRUCTION_OVERRIDE = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions|rules|restrictions|guardrails|filters?|prompt)\b|"
    r"\b(system prompt|developer mode|jailbreak)\b",
    re.I,
)
# Asking for restricted material by name, from an audience that may not read it.
_RESTRICTED_REQUEST = re.compile(
    r"\b(internal|confidential|restricted|partners?[- ]only|classified|secret|non-public|private)\b.{0,40}"
    r"\b(document|doc|briefing|note|notes|material|file|paper|minutes|memo|report)s?\b",
    re.I,
)

DECLINE_MESSAGES = {
    "instructions": "I can't change how I work or what I may share.",
    "restricted": "I can only share the documents available to this conversation, and I can't tell you about any others.",
    "personal_contact": "I can't share personal contact details. For coalition business, the outreach team can put you in touch.",
    "code": "I don't write code; I answer questions about the coalition's telecoms documents.",
    "weather": "I can't help with the weather; I only answer from the coalition's telecoms documents.",
    "sport": "I can't help with sport; I only answer from the coalition's telecoms documents.",
}


def out_of_scope(question: str, *, may_read_restricted: bool = False) -> str | None:
    """The category of a request to decline, or None when the question may be in scope.

    Args:
        question: the cleaned question text.
        may_read_restricted: the caller's audience may read partners/internal documents; such an
            audience may ask for them by name.
    """
    if _INSTRUCTION_OVERRIDE.search(question):
        return "instructions"
    if not may_read_restricted and _RESTRICTED_REQUEST.search(question):
        return "restricted"
    for category, pattern in _OUT_OF_SCOPE.items():
        if pattern.search(question):
            return category
    return None
