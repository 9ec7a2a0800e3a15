"""How a customer sounds, on this server with no network call (docs/adr/0023): a lexicon and
a few rules per language (English, Polish, Russian, Italian), in the manner of VADER — words and
stems weighted -3 to +3 (core/lexicons/), a negation ("nie działa", "не работает", "doesn't
work") turning the next words around, intensifiers ("bardzo", "очень") and exclamation marks
strengthening them, emoji counted, greetings ("dzień dobry") not counted. Explainable and fast
(microseconds a message); it reads tone, not meaning, and says "neutral" when it finds nothing."""
import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

LEXICONS = Path(__file__).resolve().parent / "lexicons"
NEGATION_REACH = 3  # a negator turns around the next three words
INTENSITY = 1.5
EMOJI = {"😊": 2, "🙂": 1, "😀": 2, "😃": 2, "😄": 2, "😁": 2, "👍": 2, "❤": 3, "🙏": 2, "👏": 2, "🎉": 2,
         "😞": -2, "😟": -2, "😢": -2, "😭": -3, "😠": -3, "😡": -3, "🤬": -3, "👎": -2, "💩": -3, "🙁": -1, "☹": -2}
THRESHOLD = 0.25  # |score| up to it is neutral: one mild word ("problem", -1) alone is not a mood
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|[,.;:!?]")
_CLAUSE_END = frozenset(",.;:!?")  # a negation or an intensifier reaches no further


@dataclass(frozen=True)
class Lexicon:
    words: dict[str, float]
    stems: dict[str, float]
    negators: frozenset[str]
    intensifiers: frozenset[str]
    greetings: re.Pattern

    def weight(self, token: str) -> float | None:
        if token in self.words:
            return self.words[token]
        for end in range(len(token), 2, -1):  # the longest stem that begins the token
            if token[:end] in self.stems:
                return self.stems[token[:end]]
        return None


@functools.cache
def lexicon(language: str) -> Lexicon | None:
    path = LEXICONS / f"{language}.txt"
    if not path.exists():
        return None
    words, stems, sets, greetings = {}, {}, {"negators": set(), "intensifiers": set()}, []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@greetings "):
            greetings = [g.strip() for g in line.removeprefix("@greetings ").split("|")]
        elif line.startswith("@"):
            name, _, values = line[1:].partition(" ")
            sets[name].update(values.split())
        else:
            word, weight = line.rsplit(" ", 1)
            (stems if word.endswith("*") else words)[word.rstrip("*")] = float(weight)
    pattern = re.compile("|".join(re.escape(g) for g in greetings) or r"(?!)", re.IGNORECASE)
    return Lexicon(words, stems, frozenset(sets["negators"]), frozenset(sets["intensifiers"]), pattern)


def languages() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in LEXICONS.glob("*.txt")))


def raw_score(text: str, language: str) -> float | None:
    """The sum of the weights the text's words and emoji carry, turned around after a negator
    and strengthened after an intensifier; None for a language with no lexicon."""
    found = lexicon(language)
    if found is None:
        return None
    text = found.greetings.sub(" ", text)
    total, negated_until, boost = 0.0, -1, 1.0
    for position, token in enumerate(t.lower() for t in _TOKEN.findall(text)):
        if token in _CLAUSE_END:
            negated_until, boost = -1, 1.0
            continue
        if token in found.negators:
            negated_until = position + NEGATION_REACH
            continue
        if token in found.intensifiers:
            boost = INTENSITY
            continue
        weight = found.weight(token)
        if weight is None:
            continue
        weight *= boost
        boost = 1.0
        total += -weight * 0.75 if position <= negated_until else weight  # "not bad" is not quite "good"
    total += sum(weight * text.count(emoji) for emoji, weight in EMOJI.items())
    if total and "!" in text:
        total *= 1 + 0.1 * min(text.count("!"), 3)
    return total


def normalized(total: float) -> float:
    """A sum of weights as a score in (-1, 1): VADER's normalization."""
    return total / math.sqrt(total * total + 15)


def label(score: float) -> str:
    return "positive" if score > THRESHOLD else "negative" if score < -THRESHOLD else "neutral"


def score(text: str, language: str) -> float | None:
    """The text's tone from -1 (most negative) to 1; None for a language with no lexicon."""
    total = raw_score(text, language)
    return None if total is None else normalized(total)
