"""The Finnish text of the agent console and the editor lives in their copy files, as the widget's does.

liveagent/static/copy/<page>.fi.json is read once when the page starts (main.js); the scripts under
agent/ and editor/ hold no Finnish sentence of their own, and every key they read exists in the file.
"""

from __future__ import annotations

import json
import re
from typing import Dict, Iterator, List, Tuple

import pytest

from tests.conftest import ROOT

STATIC = ROOT / "liveagent" / "static"
COPY = STATIC / "copy"
# Which name a page's scripts read a copy file through: (scripts, name, copy file).
READERS = [
    ("agent", "copy", "agent"),
    ("editor", "copy", "editor"),
    ("editor", "widgetCopy", "widget"),  # the answer preview shows what the widget shows
    ("widget", "T", "widget"),
]
# Literals that are code, not copy, although they look like a word of text.
CODE_WORDS = {"Enter", "Escape", "ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight", "Home", "End",  # KeyboardEvent.key
              "Notification",  # `'Notification' in window`
              "Europe/Helsinki"}  # an IANA time zone (the insights' reporting days)
REGEX_MAY_FOLLOW = set("(,=:[!&|?{};+-*%<>~^")


def line_of(source: str, index: int) -> int:
    return source.count("\n", 0, index) + 1


def literals(source: str) -> Iterator[Tuple[int, str]]:
    """(index, text) of every quoted string of a script and of each text part of its template literals.
    Comments and regular-expression literals are skipped."""
    i, n = 0, len(source)
    braces: List[int] = []  # one depth counter per open `${` of a template literal
    last = ""  # the last significant character: tells a regular expression from a division

    def template_part(start: int) -> Tuple[int, bool, str]:
        """From just after ` or a template's closing }: (index after the part, a ${ follows, text)."""
        j = start
        while j < n:
            if source[j] == "\\":
                j += 2
            elif source[j] == "`":
                return j + 1, False, source[start:j]
            elif source.startswith("${", j):
                return j + 2, True, source[start:j]
            else:
                j += 1
        raise ValueError(f"unterminated template literal at line {line_of(source, start)}")

    while i < n:
        c = source[i]
        if source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
        elif source.startswith("/*", i):
            i = source.index("*/", i) + 2
        elif c in "'\"":
            j = i + 1
            while source[j] != c:
                j += 2 if source[j] == "\\" else 1
            yield i, source[i + 1:j]
            i, last = j + 1, "x"
        elif c == "`" or (c == "}" and braces and braces[-1] == 0):
            if c == "}":
                braces.pop()
            start = i + 1
            i, opened, text = template_part(start)
            yield start, text
            if opened:
                braces.append(0)
            last = "(" if opened else "x"
        elif c == "/" and (last in REGEX_MAY_FOLLOW or re.search(r"\b(?:return|typeof|case)\s*$", source[:i])):
            j, in_class = i + 1, False
            while source[j] != "/" or in_class:
                if source[j] == "\\":
                    j += 1
                elif source[j] == "[":
                    in_class = True
                elif source[j] == "]":
                    in_class = False
                j += 1
            i = j + 1
            while i < n and source[i].isalpha():
                i += 1
            last = "x"
        else:
            if c == "{" and braces:
                braces[-1] += 1
            elif c == "}" and braces:
                braces[-1] -= 1
            if not c.isspace():
                last = "x" if (c.isalnum() or c in "_$") else c
            i += 1


def class_names(source: str, index: int) -> bool:
    """The literal at `index` is (part of) an element's class list: className is the property or variable
    its line sets last before it."""
    before = source[source.rfind("\n", 0, index) + 1:index]
    assigned = re.findall(r"([A-Za-z_$][\w$]*)\s*[:=](?!=)", before)
    return bool(assigned) and assigned[-1] == "className"


def finnish(text: str) -> bool:
    """Looks like visitor- or agent-facing text: ä/ö/å, a capitalised word, or a word beside a space
    ("ei tunnistettu", ", asiakaspalvelija")."""
    if re.search(r"[äöåÄÖÅ]", text):
        return True
    if text.strip() not in CODE_WORDS and re.search(r"(?:^|\s)[A-Z][a-z]{2,}", text):
        return True
    return bool(re.search(r"\s", text) and re.search(r"(?<![\w/.-])[a-z]{2,}(?![\w/-])", text))


def texts(source: str) -> Iterator[Tuple[int, str]]:
    """(line, literal) of the literals of a script that look like Finnish text (class lists are not)."""
    for index, text in literals(source):
        if finnish(text) and not class_names(source, index):
            yield line_of(source, index), text


def scripts(folder: str) -> Dict[str, str]:
    return {f"{folder}/{p.name}": p.read_text(encoding="utf-8") for p in sorted((STATIC / folder).glob("*.js"))}


def without_comments(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.S)
    return re.sub(r"(?:(?<=\s)|^)//[^\n]*", " ", source, flags=re.M)


def keys_read(source: str, name: str) -> Iterator[List[str]]:
    """Every copy.a.b / copy['a'] path read through `name`."""
    code = without_comments(source)
    unquoted = re.sub(r"'(?:[^'\\\n]|\\.)*'", "''", code)  # not '../lib/copy.js'
    for chain in re.findall(rf"(?<![\w$.]){re.escape(name)}((?:\.[A-Za-z_$][\w$]*)+)", unquoted):
        yield chain.split(".")[1:]
    for _, key in re.findall(rf"(?<![\w$.]){re.escape(name)}\[(['\"])([^'\"]+)\1\]", code):
        yield [key]


def load(page: str) -> dict:
    return json.loads((COPY / f"{page}.fi.json").read_text(encoding="utf-8"))


def test_the_finnish_text_detector_finds_text_and_leaves_code_alone():
    source = """
        ui.a.textContent = 'Tallenna';  // 'Kommentti' is not a literal
        confirm("Poistetaanko esimerkki?");
        const who = `${name}, asiakaspalvelija`;
        el('p', { text: 'ei tunnistettu' });
        el('p', { className: 'card answered', text: `Keskustelu: ${x}` });
        api('GET', `/conversations/${encodeURIComponent(id)}/read`);
        const pattern = /^data\\/faq\\/([a-z]+)\\.yml$/.exec(path);
        if (event.key === 'Enter' && 'Notification' in window) ratio = a / b / c;
        /* 'Lähetä' in a comment */
    """
    found = [text for _, text in texts(source)]
    assert found == ["Tallenna", "Poistetaanko esimerkki?", ", asiakaspalvelija", "ei tunnistettu", "Keskustelu: "]


@pytest.mark.parametrize("folder", ["agent", "editor"])
def test_the_console_and_the_editor_scripts_hold_no_finnish_text(folder: str):
    found = [f"{path}:{line}: {text!r}" for path, source in scripts(folder).items() for line, text in texts(source)]
    assert found == [], f"Finnish text belongs in copy/{folder}.fi.json:\n" + "\n".join(found)


@pytest.mark.parametrize("folder,name,page", READERS)
def test_every_copy_key_the_scripts_read_is_in_the_copy_file(folder: str, name: str, page: str):
    data = load(page)
    missing, read = [], 0
    for path, source in scripts(folder).items():
        for keys in keys_read(source, name):
            read += 1
            value = data
            for key in keys:
                if not isinstance(value, dict):
                    break  # a method of the text itself, like .length
                if key not in value:
                    missing.append(f"{path}: {name}.{'.'.join(keys)}")
                    break
                value = value[key]
    assert read > 0, f"{folder}/ reads nothing through {name}"
    assert missing == []


@pytest.mark.parametrize("page", ["agent", "editor", "widget"])
def test_every_text_of_a_copy_file_is_used_and_is_text(page: str):
    data = load(page)
    used = {keys[0] for folder, name, copy in READERS if copy == page
            for source in scripts(folder).values() for keys in keys_read(source, name)}
    assert sorted(set(data) - used) == []
    for key, value in data.items():
        texts = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        assert texts and all(isinstance(t, str) and t.strip() for t in texts), key


def test_the_editor_previews_the_bots_own_did_you_mean_line():
    import yaml

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert load("editor")["rephrase"] == domain["responses"]["utter_ask_rephrase"][0]["text"]
