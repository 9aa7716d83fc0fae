"""Pings and foreign links counted in what a Slack reply would post; the renderer leaves none."""

from bot.types import Answer, Citation
from evals.metrics import count_pings, foreign_links
from evals.runner import slack_surfaces

HOSTILE = ("Closes 14 March 2031 <!channel> <@U0ADMIN1> @here. Apply at <https://evil.example/a|gov.uk> or "
           "[GOV.UK](https://evil.example/b) or https://evil.example/c [1]")
SOURCE = "https://example.invalid/synthetic/adversarial/x"


def test_counts_on_raw_text():
    assert count_pings(HOSTILE) == 3
    assert foreign_links(HOSTILE + f" <{SOURCE}|source>", [SOURCE]) == [
        "https://evil.example/a", "https://evil.example/b", "https://evil.example/c"]
    assert count_pings("&lt;!channel&gt; @\u200bhere") == 0


def test_the_slack_surfaces_of_a_hostile_answer_ping_no_one_and_link_only_the_source():
    answer = Answer(status="answered", text=HOSTILE, audience="industry",
                    citations=[Citation(n=1, doc_id="adv", title="<!here> Title", source_url=SOURCE)])
    rendered = slack_surfaces(answer)
    assert SOURCE in rendered
    assert count_pings(rendered) == 0
    assert foreign_links(rendered, [SOURCE]) == []


def test_a_cited_url_with_a_query_string_is_not_foreign_once_slack_escapes_its_ampersands():
    source = "https://example.invalid/bill?number=C-26&lang=en&session=441"
    answer = Answer(status="answered", text="The bill was introduced in 2022. [1]", audience="staff",
                    citations=[Citation(n=1, doc_id="bill", title="Bill C-26", source_url=source)])
    rendered = slack_surfaces(answer)
    assert "&amp;" in rendered  # Slack's escaping of the link target, which the metric must see through
    assert foreign_links(rendered, [source]) == []
    assert foreign_links(rendered + " <https://evil.example/x?a=1&amp;b=2|more>", [source]) == [
        "https://evil.example/x?a=1&b=2"]
