"""A Mailroom classifier plugin in Python: sentiment and intent from a small
word list, using the host's `log` and `config-get` imports.

A line-by-line port of ../js-classifier/src/classifier.js, so the two give the
same labels and scores for the same message.

componentize-py maps the WIT contract to Python: records are dataclasses with
snake_case fields (`wit_world.imports.types`), enums are `Enum` members,
`option<T>` is a value or `None`, and a `result` is returned directly on
success (an error would be raised as `componentize_py_types.Err`). The
`wit_world` package does not exist on disk: componentize-py generates it while
it builds (build.sh). The world's own exports (`metadata`) are methods of a
class named `WitWorld`, an exported interface's functions methods of a class
named after it (`Classifier`).

build.sh builds with `--stub-wasi`, so the component imports no WASI at all:
no `print` (use the host's `log`), no `time` or `random` at run time.
"""

import math
import re
from typing import List, Optional, Set

from wit_world import WitWorld as _WitWorld
from wit_world.exports import Classifier as _Classifier
from wit_world.imports import host, types

# Word valences in -3..3; negators flip the next two words' valence.
LEXICON = {
    "great": 3, "excellent": 3, "amazing": 3, "love": 3, "wonderful": 3, "fantastic": 3,
    "thanks": 2, "thank": 2, "appreciate": 2, "happy": 2, "glad": 2, "pleased": 2, "good": 2,
    "helpful": 2, "perfect": 2, "resolved": 1, "nice": 1, "fine": 1,
    "bad": -2, "terrible": -3, "awful": -3, "worst": -3, "disappointed": -2, "unacceptable": -3,
    "angry": -3, "frustrated": -2, "broken": -2, "problem": -1, "issue": -1, "delay": -1,
    "late": -1, "wrong": -2, "refund": -1, "complaint": -2, "unhappy": -2, "poor": -2,
}
NEGATORS = {"not", "no", "never", "don't", "doesn't", "isn't", "wasn't", "didn't", "without"}

# Phrases voting for an intent, with weights; the subject counts double.
# A dict keeps insertion order, as the JS object does, so ties go the same way.
INTENTS = {
    "complaint": [("disappointed", 2), ("unacceptable", 2), ("refund", 1.5), ("not working", 1.5),
                  ("broken", 1.2), ("complaint", 2), ("still waiting", 1.5), ("never received", 1.5)],
    "request": [("could you", 1.5), ("can you", 1.3), ("please", 0.8), ("would you", 1),
                ("i need", 1), ("send me", 1.2), ("kindly", 1.2)],
    "question": [("how do", 1.2), ("what is", 0.8), ("when will", 1), ("why", 0.8),
                 ("is there", 0.8), ("wondering", 1.2)],
    "meeting": [("meeting", 1.4), ("schedule", 0.9), ("call", 0.6), ("available", 0.7),
                ("calendar", 1), ("invite", 1), ("agenda", 1.2)],
    "purchase": [("quote", 1.4), ("pricing", 1.4), ("price", 1), ("order", 0.9), ("buy", 1.2),
                 ("invoice", 0.8), ("licenses", 1)],
    "unsubscribe": [("unsubscribe", 2.5), ("remove me", 2.2), ("opt out", 2.2), ("stop sending", 2.2)],
}

# The same character class as the JS example (Latin letters, digits, the
# apostrophe), not \w: the word list is English and the two ports must agree.
_WORD = re.compile(r"[a-z0-9'\u00c0-\u024f]+")


def words(text: str) -> List[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def sentiment(tokens: List[str], extra_negative: Set[str]) -> types.ScoredLabel:
    total = 0.0
    for i, word in enumerate(tokens):
        valence = LEXICON.get(word, -2 if word in extra_negative else 0)
        if valence == 0:
            continue
        # tokens[-1] would wrap around in Python; JS reads `undefined` there.
        if (i >= 1 and tokens[i - 1] in NEGATORS) or (i >= 2 and tokens[i - 2] in NEGATORS):
            valence *= -0.74
        total += valence
    # VADER-style normalisation into -1..1.
    compound = total / math.sqrt(total * total + 15)
    if compound >= 0.05:
        return types.ScoredLabel(label="positive", score=compound)
    if compound <= -0.05:
        return types.ScoredLabel(label="negative", score=-compound)
    return types.ScoredLabel(label="neutral", score=1 - abs(compound))


def count_phrase(text: str, phrase: str) -> int:
    # str.count counts non-overlapping matches from the left, like the JS loop.
    return min(text.count(phrase), 2)


def intent(subject: str, body: str) -> types.ScoredLabel:
    # Space-padded word strings, so phrases only match whole words.
    s = f" {' '.join(words(subject))} "
    b = f" {' '.join(words(body))} "
    best, best_score, total = "other", 0.0, 0.0
    for label, phrases in INTENTS.items():
        score = 0.0
        for phrase, weight in phrases:
            p = f" {phrase} "
            score += weight * (2 * count_phrase(s, p) + count_phrase(b, p))
        if label == "question":
            score += 0.7 * min(body.count("?"), 3)
        total += score
        if score > best_score:
            best, best_score = label, score
    if best_score < 1:
        return types.ScoredLabel(label="other", score=1 - best_score / 2)
    return types.ScoredLabel(
        label=best, score=min(1.0, (best_score / total) * (1 - math.exp(-best_score / 2)))
    )


# Lines that end the sender's own text: a signature delimiter or a closing.
SIGN_OFF = re.compile(
    r"(--\s*$|best regards|kind regards|regards|best,|thanks,|thank you,|cheers|sincerely)",
    re.IGNORECASE,
)


def summary(body: str) -> Optional[str]:
    lines = body.split("\n")
    end = next((i for i, line in enumerate(lines) if SIGN_OFF.match(line.strip())), len(lines))
    text = " ".join(line for line in lines[:end] if not line.lstrip().startswith(">"))
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return None
    if len(text) <= 200:
        return text
    return re.sub(r"\s+\S*$", "", text[:199], count=1) + "\u2026"


class WitWorld(_WitWorld):
    def metadata(self) -> types.Metadata:
        return types.Metadata(
            name="py-classifier",
            version="0.1.0",
            kind=types.PluginKind.CLASSIFIER,
            description="Sentiment and intent from keywords, written in Python",
            config_keys=[
                types.ConfigKey(
                    name="negative-words",
                    description="Extra comma-separated words that count as negative",
                    required=False,
                    default_value=None,
                )
            ],
            permissions=[],
        )


class Classifier(_Classifier):
    def classify(self, message: types.Message) -> types.Classification:
        extra = {
            w.strip().lower()
            for w in (host.config_get("negative-words") or "").split(",")
            if w.strip()
        }
        mood = sentiment(words(f"{message.subject} {message.text_body}"), extra)
        purpose = intent(message.subject, message.text_body)
        host.log(
            host.LogLevel.DEBUG,
            f"py-classifier: {mood.label}/{purpose.label} for {message.id}",
        )
        return types.Classification(
            sentiment=mood,
            intent=purpose,
            summary=summary(message.text_body),
            signature=None,
            activities=[],
            tags=[] if purpose.label == "other"
            else [types.ScoredLabel(label=f"py:{purpose.label}", score=purpose.score)],
        )
