"""Does an answer give the kind of thing asked for? (`bot.answer.facets`: asked_kind, gives_kind, type_coverage)

Pure string work, no index. The refusal classifier reads `type_coverage`: a look-alike answered with
sentences that hold no answer of the asked kind ("What is the salary?" answered with a launch date,
"Who chairs it?" with sentences naming no one new) is told apart from an answer. A figure of the right
kind about something else ("How much did the reauction raise?" answered with the shortfall it offsets)
still passes: that is beyond a kind check.
"""

from __future__ import annotations

import pytest

from bot.answer.facets import answer_type, asked_kind, gives_kind, membership_query, type_coverage


@pytest.mark.parametrize(("question", "kind"), [
    ("When did GCOT launch?", "date"),
    ("How many RFCs has the IETF published to date?", "number"),  # "to date" is "so far", not a date asked for
    ("what's the average salary of a UKTIN Talent graduate", "number"),
    ("How long is a board member's term?", "duration"),
    ("Who chairs the GCOT steering group?", "name"),
    ("What is the DITRDCA secretary's name?", "name"),  # the person in a role, asked without "who"
    ("gcot members?", "name"),
    ("Which countries signed the 6G principles?", "name"),
    ("Where is the O-RAN Alliance headquartered?", "place"),  # where a body is based: a named place
    ("where is etsi based", "place"),
    ("Where does the IETF publish its standards?", None),  # other "where" asks are not checked (see asked_kind)
    ("where is wernickes area located in the brain", None),  # "located" is answered in plain words too
    ("What is SFIA?", None),
    ("and do the partners meet in between those?", None),  # "partners" in a yes/no question asks for no name
    ("are finland and sweden gcot members?", None),
    ("Is there a deadline for removing Huawei kit?", None),  # yes or no: the answer is a statement
    ("Is the date of birth calculated?", None),
    ("How often should the security policy be reviewed?", "frequency"),
    ("Who is responsible for protecting user credentials?", None),  # a role, in plain words
    ("Who must authorize requests for access to systems?", None),
    ("What password length should users select where systems allow it?", None),  # "where" inside a clause
    ("What happens to users who do not use the system for 60 days?", None),  # "who" inside a clause
    ("when do you need to notify Ofcom of a security compromise", None),  # a condition, not a date
    ("o-ran alliance member count", "number"),
    ("Which minister presented the strategy to the Commons?", "name"),  # the person in a role, asked with "which"
    ("which MIC minister launched the strategy", "name"),
    ("who is the itu secretary-general", "name"),
    ("who is the UK's lead department", "name"),  # "who" asks for a name, but no person in a role
    ("Which UK mobile operators signed up to the ambition?", "name"),
    ("Which city hosted the first 6G workshop?", "place"),
    ("where was the 2019 conference hosted", "place"),
    ("where is personal data held", None),  # said in plain words ("on encrypted drives")
    ("what does CDP stand for", "expansion"),
    ("CHEDDAR stands for what?", "expansion"),
])
def test_asked_kind(question, kind):
    assert asked_kind(question) == kind


def test_to_date_is_not_a_date_for_answer_type_either():
    assert answer_type("how many RFCs has the IETF published to date") == "number"
    assert answer_type("is the register up to date") is None


@pytest.mark.parametrize(("question", "sentence", "gives"), [
    # An amount is a figure with a currency, a magnitude or a percent sign, and one the question lacks.
    ("What is the GCOT annual budget?", "GCOT is a partnership of five countries' departments.", False),
    ("What fines can be imposed under the TSA?", "Fines of up to 10% of turnover can be imposed.", True),
    ("How many 5G Innovation Regions got money from the £40m?", "The strategy committed £40m for 5G Innovation Regions.", False),
    # Money is a sum, not a share: a target of "35% of traffic" says nothing of what was recommended in funding.
    ("How much money did the report recommend for Open RAN?", "The ambition is that 35% of traffic runs over open RAN by 2030.", False),
    ("How much money did the report recommend for Open RAN?", "The report recommended £150m of funding for Open RAN.", True),
    ("how much funding did the regions get", "Each region got 10% of the pot.", False),
    # ... unless the question asks for a share of the money, and a fine may be a share of turnover.
    ("How much of the cost is reimbursed?", "Claims are prorated at 39.5% of the cost.", True),
    ("what share of the budget goes to skills", "Skills receive 20% of the budget.", True),
    # A count is a new figure or a number word; the year in a law's name is no count.
    ("How many assets are registered under the SOCI Act?", "The SOCI Act 2018 is the main Australian law.", False),
    ("how many role profiles are in the ECSF", "The ECSF is built around 12 role profiles.", True),
    ("how many partners does GCOT have", "GCOT is a partnership of five countries.", True),
    # ... of the thing counted: seven partners of another body are no count of ETSI's members.
    ("how many members does etsi have", "ETSI is one of the seven Organizational Partners of 3GPP.", False),
    ("how many members does etsi have", "ETSI has more than 900 member organisations.", True),
    ("how many countries signed the 6G principles", "The statement was signed by ten national governments.", True),
    ("number of work roles in NICE", "NICE v1.0.0 defines 52 work roles.", True),
    # A sum of money or a share counts nothing: "£40m for 5G Innovation Regions" is not how many regions.
    ("how many regions got 5g innovation money", "The strategy committed £40m for 5G Innovation Regions.", False),
    ("how many operators are affected", "The cap applies to 35% of operators.", False),
    ("how big is the wireless innovation fund", "The fund is a $1.5bn programme.", True),  # a size may be a sum
    # ... and the count must be of it, not merely in a sentence that names it somewhere.
    ("how many critical infrastructure assets does the SOCI Act cover",
     "The 2024 Act (No. 100) moved the TSSR obligations into the Security of Critical Infrastructure Act 2018.", False),
    ("what is the number of work roles in NICE", "The number of work roles in NICE v1.0.0 is 52.", True),
    # A date has a month or a figure the question did not state.
    ("When was SFIA 9 published?", "SFIA 9 was published in October 2024.", True),
    ("When was the Act 2021 passed?", "The Act 2021 is the UK law on telecoms security.", False),
    ("How long is a term?", "Members serve three-year terms.", True),
    ("How often should the policy be reviewed?", "The policy is reviewed annually by the security officer.", True),
    ("How often should the policy be reviewed?", "The policy was approved by the board.", False),
    ("How long is a term?", "The Council received a Royal Charter at the end of 2021.", False),
    # A name is a capitalised word the question does not use; the sentence's first word does not count.
    ("Who chairs the GCOT steering group?", "Individual GCOT partners lead activities between meetings.", False),
    ("Who leads US participation in GCOT?", "NTIA leads US participation in GCOT.", False),  # opens the sentence
    ("Who leads US participation in GCOT?", "US participation is led by NTIA.", True),
    ("What is SFIA?", "SFIA is a skills framework.", True),  # no kind asked
    # A group's members are a list of names, or names said to be members: a sentence that merely names
    # something else ("followed the UK's earlier Taskforce") lists no one.
    ("who are the members of the advisory council?",
     "The Advisory Council is the independent body that followed the UK's earlier Diversification Taskforce.", False),
    ("who are the members of the advisory council?", "The Council is made up of Vodafone, BT and Ericsson.", True),
    ("gcot members?", "GCOT was founded by DSIT (UK), DITRDCA (Australia), ISED (Canada), MIC (Japan) and NTIA (US).", True),
    ("who are the partners in gcot", "The partners in GCOT include NTIA.", True),
    # Where a body is based is a named place the question did not name, not a month ("formed in February 2018").
    ("Where is the O-RAN Alliance headquartered?", "The O-RAN Alliance was formed in February 2018 by operators.", False),
    ("Where is the O-RAN Alliance headquartered?", "The O-RAN Alliance is an industry body for open RAN.", False),
    ("where is the 3gpp support centre based", "The 3GPP support centre is hosted by ETSI at Sophia Antipolis in France.", True),
    ("where is the uk cyber security council based", "The Council is based in the UK.", False),
    ("where is the uk cyber security council based", "It is the professional body for the profession in the United Kingdom.", False),
    ("where is etsi based", "ETSI is based in France.", True),
    # "X count" counts X, as "how many X" does.
    ("o-ran alliance member count", "The O-RAN Alliance was formed through the merger of two earlier groups.", False),
    ("o-ran alliance member count", "The O-RAN Alliance has more than 300 members.", True),
    # "which minister" asks for the person in that role; "which operators" for their names.
    ("Which minister presented the strategy to the Commons?", "The strategy was announced to Parliament by DCMS.", False),
    ("Which minister presented the strategy to the Commons?", "Minister Matt Warman presented it to the Commons.", True),
    ("who is the itu secretary-general", "The ITU is the UN agency for digital technologies, based in Geneva.", False),
    ("who is the itu secretary-general", "The ITU Secretary-General is Doreen Bogdan-Martin.", True),
    # A sentence saying who is not named names no one.
    ("Who is the GCOT workstream lead for subsea cables?", "They do not name GCOT workstream leads or confirm Open RAN outputs.", False),
    ("Who is the GCOT workstream lead for subsea cables?", "The subsea workstream is led by Jane Smith of DSIT.", True),
    ("who is the UK's lead department", "The UK's lead department is DSIT.", True),
    ("Which UK mobile operators signed up to the ambition?", "The UK government and UK mobile operators share the ambition.", False),
    ("Which UK mobile operators signed up to the ambition?", "Vodafone, BT, O2 and Three signed up to the ambition.", True),
    ("Which UK mobile operators signed up to the ambition?", "The ambition was reported in News coverage of the Principles.", False),
    # A city or venue is a named place, as where a body is based is.
    ("Which city hosted the first 6G workshop in March 2025?", "The first 6G workshop was planned for March 2025.", False),
    ("Which city hosted the first 6G workshop in March 2025?", "The first 6G workshop was held in Incheon in March 2025.", True),
    ("Which city hosted the first 6G workshop?", "6G studies begin in Release 20, with a first workshop in 2025.", False),
    ("where was the 2019 conference hosted", "The conference was hosted in Prague in May 2019.", True),
    # What an acronym stands for is its expansion: capitalised words whose initials spell it.
    ("what does CDP stand for", "CDP - Bureau of Cyberspace and Digital Policy - supports NTIA.", True),
    ("what does CHEDDAR stand for", "One of the three hubs is CHEDDAR, led from Imperial College London.", False),
    ("what does soci stand for", "SOCI is the Security of Critical Infrastructure Act 2018.", True),
    ("what does TSSR stand for", "The Telecommunications Sector Security Reforms (TSSR) took effect in 2018.", True),
])
def test_gives_kind(question, sentence, gives):
    assert gives_kind(asked_kind(question), question, sentence) is gives


def test_type_coverage_reads_every_part_of_a_multi_part_question():
    question = "When was the TSA passed and what are the penalties?"
    date = "The Telecommunications (Security) Act 2021 received Royal Assent on 17 November 2021."
    penalty = "Ofcom can fine a provider up to 10% of turnover."
    assert type_coverage(question, [date, penalty]) == 1.0
    assert type_coverage(question, [date]) == 0.0  # the penalty part gets no figure
    assert type_coverage("What is the ECSF?", []) == 1.0  # nothing asked for: nothing to miss
    assert type_coverage("How much did the reauction raise?", ["The reauction was held in 2025."]) == 0.0


@pytest.mark.parametrize(("question", "adds"), [
    ("gcot members?", True),
    ("who are the members of the coalition", True),
    ("who are 3GPP's partners", True),
    ("Are Finland and Sweden GCOT members?", False),  # yes or no: the names are in the question
    ("Which companies are current members of the O-RAN Alliance?", False),  # companies' names, not belonging
    ("When did GCOT launch?", False),
])
def test_a_membership_question_searches_with_the_words_of_belonging(question: str, adds: bool) -> None:
    searched = membership_query(question, question)
    assert searched.startswith(question)
    assert (searched != question) is adds
    if adds:
        assert {"signed", "partners", "signatories"} <= set(searched.split())
