from bot.slack.prompts import suggested_prompts


def test_prompts_come_from_the_most_common_topics():
    docs = [{"topics": ["6g", "uk"]}, {"topics": ["6g", "skills"]}, {"topics": ["skills", "open-ran", "6g"]},
            {"topics": ["supply-chain"]}]
    prompts = suggested_prompts(docs)
    assert [p["title"] for p in prompts] == ["What is GCOT?", "About 6G", "About skills", "About Open RAN"]
    assert all(len(p["title"]) <= 75 and p["message"].endswith("?") for p in prompts)


def test_prompts_with_no_topics_still_offer_one():
    assert len(suggested_prompts([])) == 1
