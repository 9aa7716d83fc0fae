"""SpellingCorrector: which typed words are corrected, and to what. A real English word list
(pyspellchecker's), a small stand-in for the index's chunk counts."""

from __future__ import annotations

import pytest

from bot.retrieve.spelling import SpellingCorrector

INDEX = {"wireless": 5, "innovation": 7, "fund": 9, "diversification": 4, "originally": 2, "security": 30,
         "huawei": 6, "they": 1, "into": 3}


def in_index(word: str) -> int:
    return INDEX.get(word.lower(), 0)


@pytest.fixture(scope="module")
def corrector() -> SpellingCorrector:
    return SpellingCorrector()


@pytest.mark.parametrize(("typed", "corrected"), [
    ("wireles inovation fund", "wireless innovation fund"),  # a letter missing from each word
    ("sectors covered orginally", "sectors covered originally"),
    ("the fudn size", "the fudn size"),  # too short to guess: four letters
    ("huawei secruity", "huawei security"),  # two letters swapped
    ("Diversifcation strategy date", "Diversification strategy date"),  # capitalised: stays capitalised
    ("secuirty of 5g", "security of 5g"),
])
def test_a_misspelt_word_becomes_the_indexed_word_one_edit_away(corrector, typed, corrected):
    assert corrector.correct(typed, frequency=in_index) == corrected


@pytest.mark.parametrize("typed", [
    "what is the ietf motto",  # an English word the documents lack: a reason to decline, not a typo
    "when did gcot admit india",
    "what did the TSA fine Vodafone",  # a name: no indexed word one edit away
    "how much did the HASC hub get",  # an acronym
    "intl engagement and comms",  # short words have too many neighbours ("into", "comes")
    "huaweii 5g",  # two edits from a guess ("hawaii") the index lacks anyway
    "theyd work on",  # too short
])
def test_real_words_names_acronyms_and_short_words_stay_as_typed(corrector, typed):
    assert corrector.correct(typed, frequency=in_index) == typed


def test_a_correction_the_index_lacks_is_not_made(corrector):
    # "goverment" is a typo of "government", which this index does not hold: correcting cannot help.
    assert corrector.correct("goverment response", frequency=in_index) == "goverment response"
