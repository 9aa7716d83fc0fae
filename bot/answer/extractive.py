"""The extractive generator: an offline, deterministic answer made of whole quoted source sentences.

It scores every sentence of the top retrieved chunks (term coverage + embedding similarity), then
chooses evidence so that each part of the question is covered: both sides of a comparison, each
"and"-joined ask, and for "what is X" the sentence that defines X first. A list comes whole, a
caveat travels with the sentence it qualifies, near-duplicates are skipped (MMR), and the answer
stays short. Each sentence keeps the chunk it came from, for its citation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.answer.evidence import EvidenceScorer, Sentence
from bot.answer.facets import QuestionShape, answer_type, asked_kind, asks_amount, asks_cause, asks_members, asks_person, asks_countries, counted_thing, dates_another_version, dates_asked_version, figures, gives_kind, has_answer_type, mentions, names_a_month, names_another_version, new_countries, number_coverage, shape, topic_of, type_coverage, words
from bot.jurisdictions import country_coverage, named_countries
from bot.types import RetrievedChunk
from bot.untrusted import looks_like_instruction

# Sentences about a document ("This document explains ...", "The separate document ... explains each objective in
# more detail", "See the document on the 2024 amendments") never answer anything, whatever figures they hold.
_META = re.compile(
    r"^(?:(?:this|the present) (?:document|summary|page|briefing|note|section|overview|faq|comparison)|"
    r"(?:the|a) (?:separate|companion) document|see)\b", re.I)
# A cross-reference inside a statement says where something is, not what it is ("The fund's size is covered in a
# separate document."): the answer cites its sources itself. One with a figure of its own is kept.
_POINTER = re.compile(
    r"\b(?:is|are)\s+(?:covered|described|summari[sz]ed|explained|discussed|set out)(?:\s+in\s+more\s+detail)?\s+in\s+"
    r"(?:the\s+|a\s+|its\s+)?(?:\w+'s\s+)?(?:separate\s+|companion\s+)?(?:document|section|chapter|annex|appendix|part)\b", re.I)
# Each document ends with a section naming the official text: it is cited, not quoted.
_SOURCE_HEADING = re.compile(r"(^|> )(official )?sources?( and licen[cs]e)?$", re.I)
_CAVEAT = re.compile(
    r"\b(not (?:been )?(?:confirmed|verified|checked)|unconfirmed|secondary source|according to (?:that|a|one|the) "
    r"secondary|treat (?:this|it|these) with caution|should be (?:checked|treated))\b",
    re.I,
)
_NEGATION = re.compile(r"\b(not|no|never|neither|nor|cannot)\b|n't\b", re.I)
# Idioms that state a fact (a change, a limit) with a negative word: "no longer carries", "no later than 2027",
# "not only X but Y". Such a sentence answers; it does not say what is missing. Nor does an aside that
# qualifies a subject: "Published summaries, not checked against the official text, give it as CSWP 29".
_NOT_NEGATING = re.compile(r"\b(?:no longer|not only|not least|(?:no|not) (?:later|earlier|more|less|fewer) than)\b"
                           r"|,\s*not\b[^,.;:()]*,(?=\s*\w)", re.I)
_ANAPHORIC = re.compile(r"^(?:this|these|that|those|it|its|they|their|such|the same|both)\b", re.I)
_CHANNEL_MARK = re.compile(r"(?<!\w)#(?=\w)")
_COPULA = r"(?:is|are|was|were|refers to|means|stands for)"
# Quotes a term being defined may stand in: '"Open RAN" is the general approach ...'.
_QUOTE = "[\"'\u2018\u2019\u201c\u201d]"


_COUNTRY_BONUS = 0.1
"""Added to a lead's key for naming the countries the question names (all of them; a share for some)."""


@dataclass
class Draft:
    """Sentences chosen for an answer, each with the retrieved chunk it came from."""

    sentences: list[tuple[str, RetrievedChunk]] = field(default_factory=list)
    confidence: float = 0.0
    """The best sentence's score, in [0, 1]."""
    coverage: float = 0.0
    """Share of the question's idf-weighted terms found in the chosen sentences and their headings."""
    not_covered: bool = False
    """The answer can only open with a sentence saying what is *not* known (no affirmative sentence is
    close): the documents say they do not hold this. Elsewhere such a sentence is a caveat, not a refusal."""
    features: dict[str, float] = field(default_factory=dict)
    """Evidence measures the refusal classifier reads (see `bot.answer.refusal.FEATURES`)."""


@dataclass
class _Scored:
    sentence: Sentence
    score: float
    dense: float
    lexical: float
    context: str
    vector: np.ndarray
    doc_id: str = ""


class ExtractiveGenerator:
    """Quotes the best-supported sentences, covering every part of the question.

    Args:
        scorer: the shared evidence scorer.
        max_sentences: sentences in an answer, lists and caveats aside. Defaults to 6 (`max_words` binds first).
        top_chunks: retrieved chunks read for sentences. Defaults to 8.
        keep_ratio: a further sentence must score at least this share of the best one. Defaults to 0.3.
        max_words: the answer stops growing past this many words (a list is still kept whole). Defaults to 120.
        embed_limit: sentences embedded per question besides the top chunk's (until ingest stores
            sentence vectors). Defaults to 16.
        new_source_ratio: a further sentence from a chunk the answer does not cite yet must score at
            least this share of the best one. Defaults to 0.95: the sentences around the best one are
            usually the rest of the answer, while a weaker sentence from another document is usually
            a citation that does not hold it. Parts of a comparison choose their own chunks first.
        typed_lead_ratio: the sentence giving the asked-for kind (a date for "when"), from the lead's own
            document, opens the answer when it scores at least this share of the lead. Defaults to 0.9
            (0.95 until 2026-12-07 was a knife-edge: "received Royal Assent on 17 November 2021" scored
            0.943 of the Act's definition after a dependency update, and the date fell to second place).
        near_duplicate_cosine: a further sentence this close to a chosen one (by sentence vector) repeats
            it. Defaults to 0.85, for sentences encoded alone; vectors pooled within their chunk
            (`GCOT_SENTENCE_VECTORS=in_context`) read alike for neighbouring sentences and need 0.95
            (on dev, 0.85 cut fact recall 0.923 -> 0.886 with them; 0.95 kept 0.923).
    """

    def __init__(
        self, scorer: EvidenceScorer, *, max_sentences: int = 6, top_chunks: int = 8, keep_ratio: float = 0.3, max_words: int = 120,
        embed_limit: int = 16, new_source_ratio: float = 0.95, near_duplicate_cosine: float = 0.85,
        typed_lead_ratio: float = 0.9,
    ) -> None:
        self.typed_lead_ratio = typed_lead_ratio
        self.near_duplicate_cosine = near_duplicate_cosine
        self.new_source_ratio = new_source_ratio
        self.embed_limit = embed_limit
        self.scorer = scorer
        self.max_sentences = max_sentences
        self.top_chunks = top_chunks
        self.keep_ratio = keep_ratio
        self.max_words = max_words

    def draft(
        self, question: str, hits: Sequence[RetrievedChunk], *, context: str = "", aliases: Mapping[str, set[str]] | None = None
    ) -> Draft:
        """Choose the answer's sentences for `question` from `hits` (best first).

        Args:
            question: the question as asked (a follow-up without its thread).
            hits: retrieved chunks, best first.
            context: the earlier question of the thread, weighted less. Defaults to "".
            aliases: acronym token -> tokens of its expansion, so "TSA" is covered by the Act's name.
        """
        hits = list(hits[: self.top_chunks])
        question = _CHANNEL_MARK.sub("", question)  # "what is #gcot" asks what "what is gcot" asks
        terms = self.scorer.weighted_terms(topic_of(question), context)
        scored = self._score(question, hits, context, aliases, terms)
        if not scored:
            return Draft()
        question_shape = shape(question)
        # Words of an asked acronym's expansion name nothing new ("gcot members?" / "The Global Coalition ...").
        expands = self._expands_acronym(aliases or {})
        chosen, core = self._choose(question_shape, scored, aliases or {}, question=question, expands=expands)
        chosen = self._with_lists_and_caveats(chosen, core, scored, _next_chunks(hits))
        chosen = _with_antecedent(chosen, scored)
        # What the answer asserts covers the question, not its caveats: "the documents do not give the size
        # of the NICT fund in yen" holds every word of "how much yen is in the NICT fund?".
        asserted = _affirmative(chosen)
        coverage = self.scorer.coverage(terms, " ".join(s.context for s in asserted), aliases=aliases)
        best = max(scored, key=lambda s: s.score)
        # Does the answer give what was asked (a figure for "how much"), about the country asked about? A
        # single question is answered by its core, the lead and any sentence added for the asked-for figure;
        # each part of a comparison or multi-part question may be answered anywhere in the answer.
        answering = chosen if question_shape.kind in ("comparison", "multi") else core
        # A year or version the question pins ("NICE v2.0.0") must be what the asked-for figure or date is about:
        # the sentences giving that kind, with their titles and headings, must name it, not merely any quoted one.
        kind = asked_kind(question) if question_shape.kind not in ("comparison", "multi") else None
        giving = [_what_it_is_about(question, s, hits) for s in answering if kind and gives_kind(kind, question, s.sentence.text, expands)]
        return Draft(
            sentences=[(s.sentence.text, hits[s.sentence.hit_rank]) for s in chosen],
            confidence=min(best.score, 1.0),
            coverage=coverage,
            features={**_features(question_shape, scored, chosen, coverage, self._rare_coverage(question, terms, asserted, aliases)),
                      "type_coverage": type_coverage(question, [s.sentence.text for s in answering], expands),
                      "country_coverage": country_coverage(question, [s.context for s in answering]),
                      "number_coverage": number_coverage(question, giving or [s.context for s in chosen])},
            not_covered=_negated(chosen[0].sentence.text) and not _gives_asked(question_shape, chosen[0]),
        )

    # --- scoring ---------------------------------------------------------------------------------------

    def _score(self, question: str, hits: list[RetrievedChunk], context: str, aliases, terms: Mapping[str, float]) -> list[_Scored]:
        wants = answer_type(question)
        rows = []
        for sentence in self.scorer.sentences_of(hits):
            hit = hits[sentence.hit_rank]
            heading = sentence.heading or str(hit.metadata.get("heading", ""))
            if (_META.match(sentence.text) or "http" in sentence.text or looks_like_instruction(sentence.text)
                    or (_POINTER.search(sentence.text) and not figures(sentence.text))
                    or _SOURCE_HEADING.search(heading.strip())):  # documents are data: orders to the assistant are never quoted
                continue
            surround = f"{hit.metadata.get('title', '')} {heading}"
            lexical = self.scorer.coverage(terms, sentence.text, aliases=aliases)
            in_context = self.scorer.coverage(terms, f"{surround} {sentence.text}", aliases=aliases)
            rows.append((sentence, lexical, in_context, f"{surround} {sentence.text}"))
        if not rows:
            return []
        # Embed what can win: every sentence of the top chunk, and the best-covered others.
        by_cover = sorted(rows, key=lambda r: -(r[1] + 0.5 * r[2] + 0.1 / (1 + r[0].hit_rank)))
        only = {(r[0].hit_rank, r[0].position) for r in by_cover[: self.embed_limit]}
        only |= {(r[0].hit_rank, r[0].position) for r in rows if r[0].hit_rank == 0}
        question_shape = shape(question)
        if question_shape.kind in ("comparison", "multi"):
            # Each side of a comparison needs its candidates scored even if they share few words with the question.
            for part in question_shape.parts:
                naming = [r for r in by_cover if mentions(part, r[0].text) >= 0.5][:6]
                only |= {(r[0].hit_rank, r[0].position) for r in naming}
        vectors = self.scorer.sentence_vectors(hits, only=only)
        query_vector = self.scorer.embedder.embed_query(f"{question} {context}".strip())
        scored: list[_Scored] = []
        for sentence, lexical, in_context, text in rows:
            # Only the shortlist counts, cached or not: the answer must not depend on earlier questions.
            vector = vectors[sentence.hit_rank][sentence.position][1] if (sentence.hit_rank, sentence.position) in only else None
            dense = float(np.clip(vector @ query_vector, 0.0, 1.0)) if vector is not None else 0.0
            # Earlier-ranked chunks get a small prior: retrieval already weighed the whole chunk.
            score = 0.5 * dense + 0.3 * lexical + 0.2 * in_context + 0.04 / (1 + sentence.hit_rank)
            # "When ...?" is answered by a sentence with a date, "how many ...?" by one with a number.
            score += 0.06 * has_answer_type(wants, sentence.text)
            scored.append(_Scored(sentence, score, dense, lexical, text, vector if vector is not None else np.zeros_like(query_vector),
                                  hits[sentence.hit_rank].doc_id))
        return scored

    # --- choosing ------------------------------------------------------------------------------------

    def _choose(
        self, question_shape: QuestionShape, scored: list[_Scored], aliases: Mapping[str, set[str]], *, question: str = "",
        expands: Callable[[str], bool] | None = None,
    ) -> tuple[list[_Scored], list[_Scored]]:
        """The answer's sentences, and its core: the sentences chosen as the answer itself (the lead, or each
        part's own sentence, and the sentence added for an asked-for figure or date), before the rest.

        `aliases` (acronym token -> its expansion's tokens) travel as an argument, never as state: one
        generator answers on several threads at once."""
        ranked = sorted(scored, key=lambda s: -s.score)
        best = ranked[0].score
        chosen: list[_Scored] = []
        parts = question_shape.parts if question_shape.kind in ("comparison", "multi") else ()
        for part in parts:
            others = [p for p in parts if p is not part]
            if any(self._answers(part, others, c, aliases) for c in chosen):
                continue
            candidates = [s for s in ranked if self._speaks_to(part, others, s, aliases) and s.score >= 0.35 * best]
            # A part asking "when" wants a sentence with a date (and "how many" one with a number).
            candidates = [s for s in candidates if has_answer_type(part.wants, s.sentence.text)] or candidates
            # As for a lead, a sentence saying what is *not* so or not known answers a part only when no
            # affirmative one speaks to it: "X is not a GCOT output, and the documents do not confirm ..."
            # is a caveat beside "GCOT is an ongoing coalition ..., while X is a one-off statement".
            candidates = _affirmative(candidates)
            if candidates:
                # "When published?" is answered by "published on 30 June 2020" before "targets ... by 2030".
                chosen.append(max(candidates, key=lambda s: self._lead_key(question_shape, s, aliases) + 0.2 * self._mentions(part, s.sentence.text, aliases)
                                  + 0.08 * has_answer_type(part.wants, s.sentence.text) + 0.1 * _defines(part.subject, s.sentence.text)
                                  + 0.15 * (part.wants == "date" and names_a_month(s.sentence.text))))
        if not chosen:
            chosen.append(self._lead(question_shape, ranked, aliases))
        typed: list[_Scored] = []
        question, wants = _kind_to_quote(question_shape, question)
        # A caveat gives nothing asked: "the documents do not confirm later members, e.g. Finland" names no member.
        if wants and not any(_gives(wants, question, c.sentence.text, expands) for c in _affirmative_only(chosen)):
            # "How much ...?" led by a sentence with no figure: the best one with a figure follows it
            # (alone: its chunk does not thereby lower the bar for its other sentences).
            # Only a sentence that states something: a caveat naming Finland ("the documents do not confirm later
            # GCOT members, e.g. Finland") gives no member of the advisory council asked about.
            typed = _affirmative_only([s for s in ranked if _gives(wants, question, s.sentence.text, expands) and s.score >= self.keep_ratio * best])
            # "When was C-8 introduced?": a date the sentence gives C-8 itself before one it gives Bill C-26.
            typed = [s for s in typed if dates_asked_version(question, s.sentence.text)] or typed
            # It may open the answer, so it is ranked as an opening is: one pointing back ("The same sources
            # state ... 2014") yields to one that stands alone ("NIST released CSF 2.0 on 26 February 2024").
            typed.sort(key=lambda s: -self._lead_key(question_shape, s, aliases))
            if wants == "name":  # "which countries ...?": the sentence naming the most of them
                typed.sort(key=lambda s: -new_countries(question, s.sentence.text))
            # The lead's own document first: "when was the TSA passed?" led by the Act's definition takes the
            # Act's Royal Assent date, not another Act's date that happens to score a hair higher.
            typed = sorted(typed, key=lambda s: s.doc_id != chosen[0].doc_id)[:1]
            # "how many levels in sfia" opens on "The seven SFIA levels are ..." when that scores as well as the
            # lead ("Together, the SFIA levels ... let an organisation say ...") and comes from the lead's own
            # document: the asked-for figure comes first. Another document's figure may be another thing's.
            # A lead that only says what is not known ("no later members are confirmed") follows the answer.
            if typed and (_negated(chosen[0].sentence.text) or (
                    typed[0].doc_id == chosen[0].doc_id and typed[0].score >= self.typed_lead_ratio * chosen[0].score)):
                chosen.insert(0, typed[0])
            else:
                chosen.extend(typed)
        core = list(chosen)
        limit = self.max_sentences + max(len(parts) - 1, 0)
        asked = named_countries(" ".join(part.text for part in question_shape.parts))
        for candidate in ranked:
            if len(chosen) >= limit or _words(chosen) >= self.max_words or candidate.score < self.keep_ratio * best:
                break
            if candidate in chosen or (asked and _country_fit(asked, named_countries(candidate.context)) < 0):
                continue  # a question about Canada is not answered further by sentences about Australia
            twin = next((other for other in chosen if _near_duplicate(candidate, other, self.near_duplicate_cosine)), None)
            if twin is not None:
                # The same statement in two documents: quote the one from the better-ranked chunk, unless the
                # quoted one leads for what it is: the definition "what is X" asks for stays, although a
                # look-alike ("The O-RAN Alliance is an industry body ... open ... RAN") ranks better.
                if candidate.sentence.hit_rank < twin.sentence.hit_rank and candidate.score >= 0.9 * twin.score and (
                        twin not in core
                        or self._lead_key(question_shape, candidate, aliases) >= 0.9 * self._lead_key(question_shape, twin, aliases)):
                    chosen[chosen.index(twin)] = candidate
                continue
            if _words(chosen) + len(candidate.sentence.text.split()) > self.max_words:
                continue
            if candidate.score < self.new_source_ratio * best and all(
                    c.sentence.hit_rank != candidate.sentence.hit_rank for c in chosen if c not in typed):
                continue
            chosen.append(candidate)
        return chosen, core

    def _lead(self, question_shape: QuestionShape, ranked: list[_Scored], aliases: Mapping[str, set[str]]) -> _Scored:
        """The opening sentence. One saying what is *not* known is a caveat: it leads only when nothing else is
        close, unless it gives what was asked ("founded in 1988; this date has not been confirmed" for "when")."""
        affirmative = [s for s in ranked if (not _negated(s.sentence.text) or _gives_asked(question_shape, s))
                       and s.score >= 0.5 * ranked[0].score]
        pool = affirmative or ranked
        # "When was C-8 introduced?" does not open on the date another version was introduced.
        asked_text = " ".join(part.text for part in question_shape.parts)
        pool = [s for s in pool if not dates_another_version(asked_text, s.sentence.text)] or pool
        asked = named_countries(question_shape.parts[0].text) if question_shape.parts else frozenset()
        if not asked:
            return max(pool, key=lambda s: self._lead_key(question_shape, s, aliases))
        # "what departments are in gcot from canada" opens on a sentence about Canada's department, not on
        # a better-worded one about the coalition in general. Countries are looked for only in sentences the
        # bonus could lift to the top (the look-up costs about 0.2 ms a sentence).
        # A sentence about other countries only ("Huawei said the Australian guidance amounted to a ban", for
        # "uk huawei ban") is the wrong answer however well it is worded: it leads only when nothing else can.
        fit = {id(s): _country_fit(asked, named_countries(s.context)) for s in pool}
        pool = [s for s in pool if fit[id(s)] >= 0] or pool
        keys = {id(s): self._lead_key(question_shape, s, aliases) for s in pool}
        floor = max(keys.values()) - _COUNTRY_BONUS
        contenders = [s for s in pool if keys[id(s)] >= floor]
        return max(contenders, key=lambda s: keys[id(s)] + fit[id(s)])

    def _lead_key(self, question_shape: QuestionShape, s: _Scored, aliases: Mapping[str, set[str]]) -> float:
        """For "what is X", the sentence that defines X ("The Y (X) is a ...", "X is a ...", or, for an
        acronym, "<its expansion> is a ...") opens the answer."""
        # A sentence that opens by pointing back ("This work is why ...", "The same sources ...") leans on one
        # the reader has not seen: it opens the answer only when clearly the best.
        score = s.score - 0.1 * bool(_ANAPHORIC.match(s.sentence.text))
        if question_shape.kind == "definition":
            subject, text = question_shape.subject, s.sentence.text
            return score + 0.1 * max(_defines(subject, text), self._defines_expansion(subject, text, aliases))
        return score

    def _defines_expansion(self, subject: str, text: str, aliases: Mapping[str, set[str]]) -> int:
        """1 when the sentence defines the acronym `subject` by its expansion: "what is the TSA?" is
        answered by "The Telecommunications (Security) Act 2021 is the UK law ...", which never says "TSA"."""
        named = re.match(rf"^(?P<name>.{{1,120}}?)\s+{_COPULA}\s+(?!by\b|\w+ed\b)", text, re.I)
        return int(bool(subject and named and self._names_expansion(subject, named.group("name"), aliases)))

    def _names_expansion(self, word: str, text: str, aliases: Mapping[str, set[str]]) -> bool:
        """`word` is an acronym of the question and `text` holds most of its expansion's tokens."""
        tokens = self.scorer.lexical.query_tokens(word)
        expansion = aliases.get(tokens[0]) if len(tokens) == 1 else None
        return bool(expansion) and expansion <= set(self.scorer.lexical.query_tokens(text))

    def _expands_acronym(self, aliases: Mapping[str, set[str]]) -> Callable[[str], bool] | None:
        """Is a word part of the expansion of an acronym the question uses ("Coalition" for "gcot")?"""
        expansions = set().union(*aliases.values()) if aliases else set()
        if not expansions:
            return None
        return lambda word: bool(tokens := self.scorer.lexical.query_tokens(word)) and set(tokens) <= expansions

    def _rare_coverage(self, question: str, terms: dict[str, float], chosen: list[_Scored], aliases) -> float:
        """Share of the question's two rarest topic terms that the answer's own sentences contain.

        "Has Germany joined GCOT?" answered with sentences about Canada covers "gcot" but not "germany". The
        words that frame a question ("difference", "between", "how") are rare in documents but name no topic:
        "the difference between GCOT and the 6G principles" is answered by "GCOT is ..., while the 6G
        principles statement is ...", which says neither.
        """
        tokens = self.scorer.lexical.query_tokens
        frame = set(tokens(question)) - set(tokens(" ".join(words(question))))
        rare = dict(sorted(((t, w) for t, w in terms.items() if t not in frame), key=lambda item: -item[1])[:2])
        return self.scorer.coverage(rare, " ".join(s.sentence.text for s in chosen), aliases=aliases) if rare else 0.0

    def _mentions(self, part, text: str, aliases: Mapping[str, set[str]]) -> float:
        return mentions(part, text, (lambda word, span: self._names_expansion(word, span, aliases)) if aliases else None)

    def _speaks_to(self, part, others, s: _Scored, aliases: Mapping[str, set[str]]) -> bool:
        """The sentence is about this part: it names it, or its document's title names it and no other part."""
        if self._mentions(part, s.sentence.text, aliases) >= 0.5:
            return True
        title = s.context[: len(s.context) - len(s.sentence.text)]
        return self._mentions(part, title, aliases) >= 0.5 and not any(self._mentions(other, title, aliases) >= 0.5 for other in others)

    def _answers(self, part, others, s: _Scored, aliases: Mapping[str, set[str]]) -> bool:
        return self._speaks_to(part, others, s, aliases) and (part.wants is None or has_answer_type(part.wants, s.sentence.text))

    def _with_lists_and_caveats(
        self, chosen: list[_Scored], core: list[_Scored], scored: list[_Scored], next_chunks: Mapping[int, int]
    ) -> list[_Scored]:
        """A list intro brings its whole list (into the next chunk of its document too, when that was
        retrieved); two items of one list bring the list; a caveat follows its sentence. A sentence beyond
        the core comes only if it fits within `max_words` with what it brings: the core's list may already
        fill the answer."""
        by_place = {(s.sentence.hit_rank, s.sentence.position): s for s in scored}
        result: list[_Scored] = []
        for item in chosen:
            if item in result:
                continue
            brings = [item]
            rank, position = item.sentence.hit_rank, item.sentence.position
            if item.sentence.text.rstrip().endswith(":"):
                brings.extend(s for s in _list_after(by_place, rank, position, next_chunks) if s not in result)
            following = by_place.get((rank, position + 1))
            if following and _CAVEAT.search(following.sentence.text) and following not in result + brings:
                brings.append(following)
            if item in core or _words(result + brings) <= self.max_words:
                result.extend(brings)
        return result


def _with_antecedent(chosen: list[_Scored], scored: list[_Scored]) -> list[_Scored]:
    """An answer that opens by pointing back ("These first awards came under NOFO 1.") opens instead on the
    sentence it points back to, the one before it in its chunk ("The first grant recipients were ..."), moved
    up if already quoted. A sentence that itself points back, or a caveat, is no better an opening."""
    if not chosen or not _ANAPHORIC.match(chosen[0].sentence.text):
        return chosen
    lead = chosen[0].sentence
    before = next((s for s in scored if s.sentence.hit_rank == lead.hit_rank and s.sentence.position == lead.position - 1), None)
    if before is None or _ANAPHORIC.match(before.sentence.text) or _negated(before.sentence.text):
        return chosen
    return [before, *(s for s in chosen if s is not before)]


def _country_fit(asked: frozenset[str], named: frozenset[str]) -> float:
    """The lead's bonus for naming the asked countries (a share for some), its penalty for naming only others."""
    if asked & named:
        return _COUNTRY_BONUS * len(asked & named) / len(asked)
    return -_COUNTRY_BONUS if named else 0.0


def _list_after(by_place: dict, rank: int, position: int, next_chunks: Mapping[int, int], limit: int = 12) -> list[_Scored]:
    """The list items after (rank, position), read on into the next chunk of the document when the list
    runs to the end of its chunk (a list too long for one chunk is cut between items); the items the
    two chunks share (their overlap) are taken once."""
    items: list[_Scored] = []
    texts = {intro.sentence.text} if (intro := by_place.get((rank, position))) else set()
    last = max((p for r, p in by_place if r == rank), default=-1)
    while len(items) < limit:
        position += 1
        if position > last and rank in next_chunks:  # chunk indexes only grow, so this ends
            rank, position = next_chunks[rank], -1
            last = max((p for r, p in by_place if r == rank), default=-1)
            continue
        following = by_place.get((rank, position))
        if following is not None and following.sentence.text in texts:
            continue  # the next chunk repeats the end of this one
        if following is None or not following.sentence.list_item:
            break
        items.append(following)
        texts.add(following.sentence.text)
    return items


def _next_chunks(hits: Sequence[RetrievedChunk]) -> dict[int, int]:
    """Hit rank -> rank of the hit holding the next chunk of the same document, for the hits that have one."""
    place = {(hit.doc_id, hit.metadata.get("chunk_index")): rank for rank, hit in enumerate(hits)}
    return {rank: place[(hit.doc_id, index + 1)] for rank, hit in enumerate(hits)
            if isinstance(index := hit.metadata.get("chunk_index"), int) and (hit.doc_id, index + 1) in place}


def _features(
    question_shape: QuestionShape, scored: list[_Scored], chosen: list[_Scored], coverage: float, rare_coverage: float
) -> dict[str, float]:
    by_score = sorted(scored, key=lambda s: -s.score)
    dense = sorted((s.dense for s in scored), reverse=True)
    best_dense = max(scored, key=lambda s: s.dense)
    best_lexical = max(scored, key=lambda s: s.lexical)
    parts = question_shape.parts if question_shape.kind != "single" else ()
    part_cover = min((max(mentions(p, s.context) for s in chosen) for p in parts), default=1.0)
    return {
        "best_score": by_score[0].score,
        "score_margin": by_score[0].score - (by_score[1].score if len(by_score) > 1 else 0.0),
        "best_dense": dense[0],
        "top3_dense": float(np.mean(dense[:3])),
        "best_lexical": best_lexical.lexical,
        "answer_coverage": coverage,
        "part_coverage": part_cover,
        "dense_lexical_agree": float(best_dense.sentence.hit_rank == best_lexical.sentence.hit_rank),
        "best_negated": float(_negated(by_score[0].sentence.text)),
        # The documents often say outright what they do not hold: how far the best sentence that
        # says something (not what is missing) trails the best one overall.
        "affirmative_gap": by_score[0].score - max((s.score for s in scored if not _negated(s.sentence.text)), default=0.0),
        "answer_rare_coverage": rare_coverage,
    }


def _defines(subject: str, text: str) -> int:
    """How plainly the sentence defines the subject: 2 for "The Skills Framework ... (SFIA) is a ..." or
    "SFIA is a/an/the/one ..." (a class it belongs to), 1 for "SFIA is ..." otherwise ("... is built on
    three pillars" describes it; "built" is no "-ed" word), 0 otherwise. A term may stand in quotes, as
    terms being defined often do ('"Open RAN" is the general approach ...'), and may be defined without
    the body that issues it: "what is ITU-R IMT-2030?" by "IMT-2030 is the ITU's name for 6G"."""
    return max((_defines_term(term, text) for term in _defined_terms(subject)), default=0)


def _defined_terms(subject: str) -> list[str]:
    """The subject, then its endings that still name something: two words or more ("5G Toolbox" of "EU
    5G Toolbox"), or one word with a digit or hyphen ("IMT-2030"); a lone "Act" or "principles" names
    nothing in particular."""
    words = subject.split()
    if not words:
        return []
    endings = [" ".join(words[start:]) for start in range(1, len(words))]
    return [subject.strip(), *(e for e in endings if " " in e or re.search(r"[\d-]", e))]


def _defines_term(term: str, text: str) -> int:
    x = rf"{_QUOTE}?{re.escape(term)}{_QUOTE}?"
    if re.search(rf"\({x}\)\s+{_COPULA}\b", text, re.I) or re.search(rf"\b(?:known as|called)\s+\W?{x}\W?,\s+{_COPULA}\b", text, re.I):
        return 2
    opening = re.match(rf"^(?:the\s+)?{x}(?:\s+\([^)]*\))?\s+{_COPULA}\s+(?!by\b|\w+ed\b)", text, re.I)
    if opening is None:
        return 0
    return 2 if re.match(r"(?:an?|the|one)\b", text[opening.end():], re.I) else 1


def _gives_asked(question_shape: QuestionShape, s: _Scored) -> bool:
    """A single question asks for a kind of answer (a date, a figure, a name) and the sentence gives one."""
    if question_shape.kind != "single" or not question_shape.parts:
        return False
    question = question_shape.parts[0].text
    kind = asked_kind(question)
    return kind is not None and gives_kind(kind, question, s.sentence.text)


def _negated(text: str) -> bool:
    """Does the sentence say what is not so or not known (a negation that is not one of `_NOT_NEGATING`'s idioms)?"""
    return bool(_NEGATION.search(_NOT_NEGATING.sub(" ", text)))


def _affirmative(sentences: list[_Scored]) -> list[_Scored]:
    """The sentences that state something rather than what is not so or not known; all of them if none does."""
    return _affirmative_only(sentences) or sentences


def _affirmative_only(sentences: list[_Scored]) -> list[_Scored]:
    """The sentences that state something rather than what is not so or not known (none if none does)."""
    return [s for s in sentences if not _negated(s.sentence.text)]


def _words(chosen: list[_Scored]) -> int:
    return sum(len(s.sentence.text.split()) for s in chosen)


# Kinds that only `gives_kind` knows how to find ("SI 2022/933", the words an acronym stands for, "in Sophia
# Antipolis", "on a semi-annual basis"): the core quotes the sentence giving one, as it does a date or a figure.
_GIVEN_KINDS = ("identifier", "expansion", "place", "frequency")


def _kind_to_quote(question_shape: QuestionShape, question: str) -> tuple[str, str | None]:
    """(the question text to test sentences against, the kind of answer the core must quote, if any).

    A single question is read as its one part; "who is on the steering group?" wants names, but "who chairs
    it?" wants one person, whom a sentence naming departments does not give. "Who are gcot's members" reads
    as "what is X" (a definition) and still asks for names."""
    if question_shape.kind == "single" and question_shape.parts:
        part = question_shape.parts[0].text
        kind = asked_kind(part)
        asks_names = asks_countries(part) or (kind == "name" and not asks_person(part))
        if kind in _GIVEN_KINDS:  # "what's its document number?": the sentence giving "CSWP 29", not only the lead
            return part, kind
        return part, answer_type(part) or ("name" if asks_names else None) or ("cause" if asks_cause(part) else None)
    if question_shape.kind == "definition" and asks_members(question) and not asks_person(question):
        return question, "name"
    return question, None


def _gives(kind: str, question: str, sentence: str, also_asked: Callable[[str], bool] | None = None) -> bool:
    """Does the sentence hold the asked kind of answer? An amount of money or a share must be a new one
    with a currency, magnitude or percent sign, and the countries a "which countries" question asks for
    must be countries it does not name (`type_coverage`'s tests, so the classifier sees the sentence it
    looks for): "NOFO 2" or "Release 21" holds a number but answers no "how much". A "how many" count
    must name the thing counted and be no sum ("181 applications", not "$4.98bn of costs"). A designation,
    expansion, place or interval is `gives_kind`'s alone (`_GIVEN_KINDS`). Other kinds keep the looser
    test: any figure may be the size or date asked for, and the stricter test pulled in unrelated figures
    for unanswerable asks."""
    strict = kind == "name" or kind in _GIVEN_KINDS or (kind == "number" and (asks_amount(question) or counted_thing(question) is not None))
    if strict:
        return gives_kind(kind, question, sentence, also_asked)
    return has_answer_type(kind, sentence) and not (kind == "date" and dates_another_version(question, sentence))


def _what_it_is_about(question: str, s: _Scored, hits: Sequence[RetrievedChunk]) -> str:
    """The sentence, read with its own heading and its document's title unless it (or then its heading) names
    another version of the thing asked about: "NICE Framework Components v1.0.0 contains 52 work roles" is
    about v1.0.0, whatever else its heading or title ("... v1.0.0 and v2.0.0") names; "It has six
    functions" under "NIST CSF 2.0" is about 2.0."""
    hit = hits[s.sentence.hit_rank]
    heading = (s.sentence.heading or str(hit.metadata.get("heading", ""))).split(" > ")[-1]
    for narrowest in (s.sentence.text, f"{heading} {s.sentence.text}"):
        if names_another_version(question, narrowest):
            return narrowest
    return f"{hit.metadata.get('title', '')} {heading} {s.sentence.text}"


def _near_duplicate(a: _Scored, b: _Scored, cosine: float) -> bool:
    """Does `a` repeat `b`? Not when it states a figure `b` lacks: "up to $10m per organisation" and
    "up to $25k for individuals" read alike but are two facts."""
    if figures(a.sentence.text) - figures(b.sentence.text):
        return False
    if float(a.vector @ b.vector) > cosine:
        return True
    ta, tb = set(a.sentence.text.lower().split()), set(b.sentence.text.lower().split())
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) > 0.7

