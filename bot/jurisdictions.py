"""Which countries a text names: "when did canada ban huawei" asks about Canada, and an answer quoted
from Australia's guidance does not answer it, however well its other words match.

Term-coverage measures miss this: "US" and "UK" are short, "us" is a stop word, and a country is one
word among many. The names come from `countryinfo` (MIT): each country's common name, its demonym
("Canadian") and its longer alternative spellings; plus the European Union, which is no country but
makes law like one. Two-letter codes are ambiguous ("IT", "us"), so only the ones people type for the
five GCOT partners' most-named jurisdictions count: "UK", "US" (capitals only), "USA", "EU".

Main helpers:
    named_countries: the countries a text names, as canonical lower-case names.
    country_coverage: the share of the question's countries that the quoted evidence names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

# Spellings countryinfo lacks or that need a case rule; every key is a canonical (countryinfo) name.
_EXTRA = {
    "united kingdom": ("uk", "u.k.", "britain"),
    "united states": ("usa", "u.s.", "u.s.a.", "america"),
    "european union": ("european union", "eu"),
    "south korea": ("korea", "republic of korea"),
}
_CASE_SENSITIVE = {"US": "united states"}
_MIN_SPELLING = 4
"""Alternative spellings shorter than this (ISO codes: "CA", "JPN") are left out: too ambiguous."""


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """(pattern, canonical name) for every country, built on first use (countryinfo reads its data
    files then, about 0.2 s) and kept for the process: one alternation per country, about 0.15 ms
    per text for all of them."""
    from countryinfo import all_countries

    spellings: dict[str, set[str]] = {}
    for country in all_countries():
        name = country.name().lower()
        forms = {name, *(s.lower() for s in country.alt_spellings() or () if len(s) >= _MIN_SPELLING)}
        if demonym := country.demonym():  # 16 territories have none
            forms.add(demonym.lower())
        spellings.setdefault(name, set()).update(forms)
    for name, forms in _EXTRA.items():
        spellings.setdefault(name, set()).update(forms)
    patterns = []
    for name, forms in spellings.items():
        alternation = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
        # "Canada's", "Australians": a possessive or plural still names the country.
        patterns.append((re.compile(rf"(?<![\w.-])(?:{alternation})(?:'s|s)?(?![\w-])", re.I), name))
    for code, name in _CASE_SENSITIVE.items():
        patterns.append((re.compile(rf"(?<![\w.]){re.escape(code)}(?![\w])"), name))
    return tuple(patterns)


def named_countries(text: str) -> frozenset[str]:
    """The countries (and the EU) `text` names, by canonical lower-case name.

    >>> sorted(named_countries("will canadian operators get compensated, as in the US?"))
    ['canada', 'united states']
    >>> sorted(named_countries("can us folks use it"))
    []
    """
    return frozenset(name for pattern, name in _patterns() if pattern.search(text))


def country_coverage(question: str, evidence: Sequence[str]) -> float:
    """Share of the countries the question names that the evidence (sentences with their titles and
    headings) also names; 1.0 when the question names none."""
    asked = named_countries(question)
    if not asked:
        return 1.0
    named = named_countries(" ".join(evidence))
    return len(asked & named) / len(asked)

