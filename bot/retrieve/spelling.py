"""Typos fixed before searching: "wireles inovation fund" is searched as "wireless innovation fund".

A misspelt word is unknown to the lexical index, so BM25 drops it and the answer layer reads it as a
word the documents lack (a sign the question cannot be answered). `SpellingCorrector` replaces such a
word with pyspellchecker's English correction, under rules that keep real words and names as typed:

- only a word the index does not hold AND that is not an English word is touched ("motto", "india"
  and "secretariat" are kept: a real word the documents lack is a reason to decline, not a typo);
- only words in lower case (or capitalised) of at least `min_length` letters: "IIJA", "HASC", "Gbit"
  and "intl", "comms", "recs" stay (short words have too many one-letter neighbours to guess from);
- only a correction one edit away (insert, delete, swap or replace one letter; a two-letter edit costs
  up to 0.6 s a word here and guessed "huaweii" as "hawaii"), and only one the index holds: a correction
  the documents lack cannot help the search.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property

_WORD = re.compile(r"\b[A-Za-z][a-z]+\b")
"""A word in lower case, or capitalised ("Diversifcation strategy?"); never "IIJA" or "Gbit"."""


class SpellingCorrector:
    """Corrects a question's misspelt words toward words the index holds.

    One corrector serves every index version: what the index holds is passed with each question.

    Args:
        min_length: shortest word corrected. Defaults to 6.

    Example:
        >>> chunks = {"wireless": 4, "fund": 9}
        >>> SpellingCorrector().correct("Wirless fund size", frequency=lambda word: chunks.get(word, 0))
        'Wireless fund size'
    """

    def __init__(self, *, min_length: int = 6) -> None:
        self.min_length = min_length

    @cached_property
    def _english(self):
        # Loaded on first use (about 0.2 s, a packaged word list: no download).
        from spellchecker import SpellChecker

        return SpellChecker(language="en", distance=1)

    def correct(self, question: str, *, frequency: Callable[[str], int]) -> str:
        """`question` with each misspelt word replaced (see the module docstring for which).

        Args:
            question: the question as typed.
            frequency: in how many chunks a word occurs, 0 for one the index lacks
                (`LexicalIndex.document_frequency`).
        """
        return _WORD.sub(lambda match: self._word(match.group(0), frequency), question)

    def _word(self, typed: str, frequency: Callable[[str], int]) -> str:
        word = typed.lower()
        # Cheapest test first: the word-list lookup, then the index (which tokenises and stems the word).
        if len(word) < self.min_length or word in self._english or frequency(word):
            return typed
        correction = self._english.correction(word)
        if not correction or correction == word or not frequency(correction):
            return typed
        return correction.capitalize() if typed[0].isupper() else correction
