"""Which countries a question names, and whether the quoted evidence is about them (`bot.jurisdictions`).

Pure string work over countryinfo's names, no index. The refusal classifier reads `country_coverage`:
"what share of US mobile traffic runs over open RAN" quoted from the UK's Open RAN ambition covers
almost every word of the question but not its country.
"""

from __future__ import annotations

import pytest

from bot.jurisdictions import country_coverage, named_countries


@pytest.mark.parametrize(("text", "countries"), [
    ("when did canada ban huawei", {"canada"}),
    ("will canadian operators get compensated?", {"canada"}),  # a demonym
    ("Australia's 2018 5G security guidance", {"australia"}),  # a possessive
    ("uk open ran target 2030", {"united kingdom"}),  # lower-case "uk" is never a word
    ("what share of US mobile traffic", {"united states"}),
    ("The United States, Australia and Canada endorsed the UK Open RAN Principles", {"united states", "australia", "canada", "united kingdom"}),
    ("does the eu 5g toolbox restrict vendors?", {"european union"}),
    ("Japanese MIC announced GCOT", {"japan"}),
    ("signed by the Republic of Korea", {"south korea"}),
    ("Guinea-Bissau", {"guinea-bissau"}),  # not also Guinea
    ("can us folks use this bot", set()),  # "us" the pronoun
    ("IT skills and CA certificates", set()),  # two-letter codes other than UK/US are not read
    ("the European Cybersecurity Skills Framework", set()),  # "European" alone is not the EU
    ("gcot members?", set()),
])
def test_named_countries(text, countries):
    assert named_countries(text) == countries


def test_country_coverage_is_the_share_of_the_asked_countries_the_evidence_names():
    question = "How do UK and US approaches to high-risk vendors differ?"
    assert country_coverage(question, ["The UK set a 35% cap.", "UK high-risk vendors policy"]) == 0.5
    assert country_coverage(question, ["The UK set a 35% cap.", "US Secure and Trusted Communications Networks Act"]) == 1.0


def test_country_coverage_reads_titles_and_headings_as_given():
    # The service passes each sentence with its document's title and heading: "It was launched after
    # an outage" is about Canada because its document is.
    evidence = ["Canada's Telecommunications Reliability Agenda (2022) > Why It was launched after a major outage."]
    assert country_coverage("what prompted canada's reliability agenda", evidence) == 1.0


def test_a_question_naming_no_country_is_fully_covered():
    assert country_coverage("when did gcot launch", ["It launched in October 2023."]) == 1.0
    assert country_coverage("what share of US mobile traffic runs over open RAN today",
                            ["The UK's Open RAN ambition is for 35% of mobile traffic to run over open RAN by 2030."]) == 0.0


def test_country_spellings_map_demonyms_and_codes_to_their_country():
    from bot.jurisdictions import country_spellings

    spellings = country_spellings()
    assert spellings["japanese"] == {"japan"}
    assert spellings["canadian"] == {"canada"}
    assert spellings["uk"] == {"united kingdom"}
