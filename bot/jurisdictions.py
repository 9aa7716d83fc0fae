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
    country_spellings: each spelling read, with the countries it names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache, lru_cache

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
def _matcher() -> tuple[re.Pattern[str], dict[str, frozenset[str]]]:
    """One pattern for every spelling of every country, and spelling -> canonical names, built on first use
    (countryinfo reads its data files then, about 0.2 s) and kept for the process. One scan per text: a
    pattern per country cost about 0.5 ms a text, and answering looks at dozens of texts."""
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
    names_of: dict[str, set[str]] = {}
    for name, forms in spellings.items():
        for form in forms:
            names_of.setdefault(form, set()).add(name)
    # Longest first, so "papua new guinea" is read whole rather than as "guinea". "Canada's", "Australians":
    # a possessive or plural still names the country.
    alternation = "|".join(re.escape(form) for form in sorted(names_of, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.-])({alternation})(?:'s|s)?(?![\w-])", re.I)
    return pattern, {form: frozenset(names) for form, names in names_of.items()}


def country_spellings() -> dict[str, frozenset[str]]:
    """Every spelling `named_countries` reads (lower case: names, demonyms, longer alternatives, "uk",
    "eu") -> the canonical names it stands for ("japanese" -> {"japan"})."""
    return dict(_matcher()[1])


_CASE_SENSITIVE_CODES = re.compile(rf"(?<![\w.])(?:{'|'.join(map(re.escape, _CASE_SENSITIVE))})(?![\w])")


@lru_cache(maxsize=65_536)  # answering asks again for the same sentences' countries (with title and heading)
def named_countries(text: str) -> frozenset[str]:
    """The countries (and the EU) `text` names, by canonical lower-case name.

    >>> sorted(named_countries("will canadian operators get compensated, as in the US?"))
    ['canada', 'united states']
    >>> sorted(named_countries("can us folks use it"))
    []
    """
    pattern, names_of = _matcher()
    found = {name for match in pattern.finditer(text) for name in names_of[match.group(1).lower()]}
    found.update(_CASE_SENSITIVE[code] for code in _CASE_SENSITIVE_CODES.findall(text))
    return frozenset(found)


def country_coverage(question: str, evidence: Sequence[str]) -> float:
    """Share of the countries the question names that the evidence (sentences with their titles and
    headings) also names; 1.0 when the question names none."""
    asked = named_countries(question)
    if not asked:
        return 1.0
    named = named_countries(" ".join(evidence))
    return len(asked & named) / len(asked)

