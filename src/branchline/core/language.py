"""Which language a text is in, on this server with no network call (docs/adr/0023):
py3langid (langid.py's naive Bayes model over byte n-grams, bundled with the package), asked
to choose among the languages a bank's customers here write, then one rule langid cannot make:
Cyrillic with Ukrainian letters is Ukrainian, not Russian."""
import functools
import re
import threading

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Restricting the model to the languages a bank serves makes short chat messages far more
# reliable: langid over all 97 took "Здравствуйте, у меня заблокировали карту" for Ukrainian.
LANGUAGES = ("en", "pl", "ru", "it", "de", "fr", "es")
MIN_CONFIDENCE = 0.7  # below it, and for under MIN_LETTERS letters, the language is unknown
MIN_LETTERS = 4
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
_LETTER = re.compile(r"[^\W\d_]")
_lock = threading.Lock()


@functools.cache
def _identifier() -> LanguageIdentifier:
    # About 0.7 s and some 20 MB once per process, on first use.
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect(text: str) -> str | None:
    """The language's ISO 639-1 code ("pl"), or None when the text is too short or the model
    is not sure."""
    if len(_LETTER.findall(text)) < MIN_LETTERS:
        return None
    with _lock:  # the identifier keeps no state per call, but its first load must happen once
        identifier = _identifier()
    language, confidence = identifier.classify(text)
    if confidence < MIN_CONFIDENCE:
        return None
    if language == "ru" and _UKRAINIAN.search(text):
        return "uk"
    return language
