"""`make messages`: gather every text to translate and bring the catalogs up to date
(docs/protocol.md §18). Translators then fill src/branchline/locale/<lang>/LC_MESSAGES/*.po;
this compiles them into the .mo files the server reads (both are committed, so a deployment
needs no gettext tools).

- django (server: Python and templates): Django's makemessages.
- djangojs (the widget's plain JS and the console's TypeScript, served by /jsi18n/): found here,
  since xgettext cannot read JSX — calls of gettext, ngettext, gettext_noop (widget) and _,
  format, formatN, N_ (console, console/i18n.ts) with string literals.

    python scripts/messages.py            # extract, merge, compile
    python scripts/messages.py --compile  # compile only
    python scripts/messages.py --check    # exit 1 if a text is untranslated or a .mo is stale
"""
import argparse
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "branchline" / "locale"
LANGUAGES = ("pl", "ru")
SOURCES = [ROOT / "src" / "branchline" / "web" / "static" / "branchline", ROOT / "frontend" / "src"]
_STRING = r'"((?:[^"\\]|\\.)*)"'
# name -> (index of the singular, index of the plural or None) among the call's string arguments
_CALLS = {"gettext": (0, None), "gettext_noop": (0, None), "ngettext": (0, 1), "_": (0, None),
          "format": (0, None), "formatN": (0, 1), "N_": (0, None), "pgettext": (1, None)}
_CALL = re.compile(r"(?<![\w.$])(gettext_noop|gettext|ngettext|pgettext|formatN|format|N_|_)\(\s*" + _STRING
                   + r"(?:\s*,\s*" + _STRING + r")?")
PLURALS = {
    "pl": "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
}


def _unescape(text: str) -> str:
    return bytes(text, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def script_template() -> polib.POFile:
    """The djangojs catalog's texts, from the widget's and the console's sources."""
    pot = polib.POFile()
    pot.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    entries: dict[str, polib.POEntry] = {}
    files = sorted(p for base in SOURCES for p in base.rglob("*")
                   if p.suffix in (".js", ".ts", ".tsx") and p.name != "schema.d.ts" and "node_modules" not in p.parts)
    for path in files:
        text = path.read_text(encoding="utf-8")
        for match in _CALL.finditer(text):
            name, first, second = match.groups()
            plural_at = _CALLS[name][1]
            context = _unescape(first) if name == "pgettext" else None  # pgettext(context, text)
            msgid = _unescape(second if name == "pgettext" else first)
            line = text.count("\n", 0, match.start()) + 1
            where = (str(path.relative_to(ROOT)), str(line))
            entry = entries.get((context, msgid))
            if entry is None:
                entry = polib.POEntry(msgid=msgid, msgstr="", msgctxt=context)
                if plural_at is not None and second is not None:
                    entry.msgid_plural, entry.msgstr_plural = _unescape(second), {0: "", 1: "", 2: ""}
                if "%(" in msgid:
                    entry.flags.append("python-format")
                entries[context, msgid] = entry
                pot.append(entry)
            entry.occurrences.append(where)
    return pot


_SERVER_CALLS = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy"}
_TEMPLATE_TEXT = re.compile(r"""\{%\s*(?:translate|trans)\s+(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def server_texts() -> set[str]:
    """The django catalog's texts as the sources hold them (Python calls of gettext and its
    aliases, templates' {% translate %}): what makemessages would gather, read without it."""
    texts = set()
    base = ROOT / "src" / "branchline"
    for path in base.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _SERVER_CALLS
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                texts.add(node.args[0].value)
    for path in base.rglob("*.html"):
        for match in _TEMPLATE_TEXT.finditer(path.read_text(encoding="utf-8")):
            texts.add(match.group(1) or match.group(2))
    return texts


def merge(pot: polib.POFile, language: str, domain: str) -> polib.POFile:
    path = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    po = polib.pofile(str(path)) if path.exists() else polib.POFile()
    po.merge(pot)
    po[:] = [entry for entry in po if not entry.obsolete]
    po.metadata_is_fuzzy = False
    po.metadata.update({"Language": language, "Content-Type": "text/plain; charset=UTF-8",
                        "Content-Transfer-Encoding": "8bit", "Plural-Forms": PLURALS[language]})
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    return po


def extract() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "branchline.settings.test"}
    subprocess.run([sys.executable, "manage.py", "makemessages", "-d", "django", "--no-obsolete",
                    *[arg for lang in LANGUAGES for arg in ("-l", lang)],
                    *[arg for ignored in ("frontend/*", "tests/*", "bench/*", "var/*", "scripts/*", "test-artifacts/*")
                      for arg in ("-i", ignored)]], cwd=ROOT, env=env, check=True)
    pot = script_template()
    for language in LANGUAGES:
        po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
        po.metadata["Plural-Forms"] = PLURALS[language]
        po.metadata_is_fuzzy = False  # makemessages marks a new catalog's header so
        po.save()
        merge(pot, language, "djangojs")


def catalogs():
    for language in LANGUAGES:
        for domain in ("django", "djangojs"):
            yield language, domain, LOCALE / language / "LC_MESSAGES" / f"{domain}.po"


def compile_all() -> None:
    for _language, _domain, path in catalogs():
        polib.pofile(str(path)).save_as_mofile(str(path.with_suffix(".mo")))


def problems() -> list[str]:
    """Texts the sources use that a catalog lacks or leaves untranslated, and stale .mo files."""
    found = []
    pot = script_template()
    for language, domain, path in catalogs():
        po = polib.pofile(str(path))
        translated = {(e.msgctxt, e.msgid) for e in po if e.translated() and not e.obsolete}
        if domain == "djangojs":
            found += [f"{path.relative_to(ROOT)}: not translated: {e.msgid!r}"
                      for e in pot if (e.msgctxt, e.msgid) not in translated]
        else:
            found += [f"{path.relative_to(ROOT)}: not translated: {text!r}"
                      for text in sorted(server_texts() - {msgid for _ctx, msgid in translated}) if text]
        found += [f"{path.relative_to(ROOT)}: not translated: {e.msgid!r}" for e in po.untranslated_entries()]
        found += [f"{path.relative_to(ROOT)}: fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
        mo = path.with_suffix(".mo")
        compiled = ({(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in polib.mofile(str(mo))}
                    if mo.exists() else {})
        if any(compiled.get((e.msgctxt, e.msgid)) != (e.msgstr, e.msgstr_plural) for e in po.translated_entries()):
            found.append(f"{mo.relative_to(ROOT)} is older than its .po: run `make messages`")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        found = problems()
        print("\n".join(found) or "every text is translated")
        raise SystemExit(1 if found else 0)
    if not args.compile:
        extract()
    compile_all()


if __name__ == "__main__":
    main()
