"""The only code that writes FAQ topics: data/faq/<name>.yml, one file per topic, changed by the web editor.

Editors' changes must look like careful hand edits in review and in `git diff`: the files are loaded and
dumped with ruamel.yaml's round trip, configured so that an unchanged file is dumped byte for byte as it
was, and a change touches only its own lines (comments, key order and quoting are kept). Every write
happens under an exclusive lock on data/faq/.lock, is checked against the version (sha256 of the file)
the editor loaded, so that nobody silently overwrites someone else's change, and replaces the file
atomically, so Rasa, the checks and the publish pipeline never read half a file. Input is validated with
the rules of content.checks, and every refusal is a ContentError with a Finnish message for the editor
(the texts, like the change summaries, are in content/copy_fi.yml under repository).
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import io
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlparse

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from content import copy
from content.checks import MAX_ANSWER_CHARS, URL, collect

FAQ_DIR = Path("data") / "faq"
LOCK_NAME = ".lock"
NAME = re.compile(r"[a-z][a-z0-9_]{1,39}")
MAX_TITLE_CHARS = 60
MAX_EXAMPLE_CHARS = 200
# Rasa reads [text](entity), [text]{"entity": ...} and {...} in training examples as entity annotations.
ANNOTATION_CHARS = re.compile(r"[\[\]{}]")
NEW_FILE_MODE = 0o644
# Finnish alphabetical order: å, ä and ö come after z, in that order.
_FINNISH_ORDER = str.maketrans({"å": "{", "ä": "|", "ö": "}"})


class ContentError(ValueError):
    """A change the editor has to correct; `message` is Finnish and shown as is, `field` names the input."""

    def __init__(self, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class TopicNotFound(ContentError):
    """No topic file of that name (deleted, renamed, or never existed)."""


class VersionConflict(ContentError):
    """The file changed after the editor loaded it; saving would overwrite someone else's change."""


@dataclass(frozen=True)
class Topic:
    name: str
    intent: str
    path: str
    comment: str
    title: str
    answer: str
    example_question: str
    examples: List[str]
    buttons: List[Dict[str, str]]
    version: str


@dataclass(frozen=True)
class Change:
    topic: str
    path: str
    summary: str
    diff: str
    version: str


def _yaml() -> YAML:
    """The one round-trip configuration that reproduces the existing files byte for byte."""
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=2, offset=0)
    yaml.width = 1 << 30  # never fold a long answer onto several lines
    yaml.preserve_quotes = True
    yaml.allow_unicode = True
    return yaml


def _dump(document: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    return buffer.getvalue()


def _version(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _key(text: str) -> str:
    """Examples are the same when they differ only in case and whitespace (as in content.checks)."""
    return " ".join(text.lower().split())


def _example_of(line: str) -> Optional[str]:
    """The example on a `- example` line of an examples block (read as content.checks reads it), else None."""
    stripped = line.strip()
    return stripped[2:].strip() if stripped.startswith("- ") else None


def _examples_in(block: str) -> List[str]:
    return [example for line in block.splitlines() if (example := _example_of(line)) is not None]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _no_control_characters(text: str, field: str, allowed: str = "") -> None:
    """Control and format characters (tabs, zero-width spaces, line separators) would break or hide in the file."""
    if any(unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp")
           for ch in text if ch not in allowed):
        raise ContentError(copy.text("repository.invisible_characters"), field)


def _valid_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ContentError(copy.text("repository.name.invalid", name=str(name)), "name")
    return name


def _valid_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ContentError(copy.text("repository.title.missing"), "title")
    if "\n" in title or "\r" in title:
        raise ContentError(copy.text("repository.title.multiline"), "title")
    _no_control_characters(title, "title")
    if len(title) > MAX_TITLE_CHARS:
        raise ContentError(copy.text("repository.title.too_long", length=len(title), limit=MAX_TITLE_CHARS),
                           "title")
    return title


def _valid_answer(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ContentError(copy.text("repository.answer.missing"), "answer")
    _no_control_characters(text, "answer", allowed="\n")
    if len(text) > MAX_ANSWER_CHARS:
        raise ContentError(copy.text("repository.answer.too_long", length=len(text), limit=MAX_ANSWER_CHARS),
                           "answer")
    for url in URL.findall(text):
        url = url.rstrip(".,;:!?")
        parsed = urlparse(url)
        if parsed.scheme != "https" or not parsed.netloc or "." not in parsed.netloc:
            raise ContentError(copy.text("repository.answer.bad_link", url=url), "answer")
    return text


def _valid_examples(examples: List[str]) -> List[str]:
    """Each example stripped and checked on its own; duplicates within the list merged (first kept)."""
    if isinstance(examples, str) or not examples:
        raise ContentError(copy.text("repository.examples.missing"), "examples")
    merged: Dict[str, str] = {}
    for raw in examples:
        example = (raw or "").strip()
        if not example:
            raise ContentError(copy.text("repository.examples.empty"), "examples")
        if "\n" in example or "\r" in example:
            raise ContentError(copy.text("repository.examples.multiline", example=_short(example.splitlines()[0])),
                               "examples")
        example = " ".join(example.split())
        _no_control_characters(example, "examples")
        if len(example) > MAX_EXAMPLE_CHARS:
            raise ContentError(copy.text("repository.examples.too_long", example=_short(example),
                                         length=len(example), limit=MAX_EXAMPLE_CHARS), "examples")
        if ANNOTATION_CHARS.search(example):
            raise ContentError(copy.text("repository.examples.markup", example=example), "examples")
        merged.setdefault(_key(example), example)
    return list(merged.values())


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _replace(path: Path, text: str) -> None:
    """Writes a temporary file next to `path` and renames it over `path`: readers see old or new, never half."""
    mode = (path.stat().st_mode & 0o777) if path.exists() else NEW_FILE_MODE
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _diff(path: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}"))


class ContentRepository:
    """FAQ topics under `root` (the project directory holding data/ and domain.yml)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.faq_dir = self.root / FAQ_DIR

    # Reading

    def topics(self) -> List[Topic]:
        """Every topic, in Finnish alphabetical order of title."""
        found = [self._read(path.stem, path)[0] for path in sorted(self.faq_dir.glob("*.yml"))]
        return sorted(found, key=lambda t: (t.title.casefold().translate(_FINNISH_ORDER), t.name))

    def topic(self, name: str) -> Topic:
        return self._read(name, self._path(name))[0]

    # Changing

    def update_answer(self, name: str, text: str, version: str, title: Optional[str] = None) -> Change:
        """Replaces the text of the first answer variant and, when given, the title in its metadata."""
        text = _valid_answer(text)
        new_title = _valid_title(title) if title is not None else None

        def edit(document: CommentedMap, current: Topic) -> str:
            variant = document["responses"][f"utter_{current.intent}"][0]
            changed_answer = text != current.answer
            changed_title = new_title is not None and new_title != current.title
            if not changed_answer and not changed_title:
                unchanged = "unchanged" if new_title is None else "unchanged_with_title"
                raise ContentError(copy.text(f"repository.answer.{unchanged}"), "answer")
            if changed_answer:
                variant["text"] = DoubleQuotedScalarString(text)
            if changed_title:
                metadata = variant.get("metadata")
                if metadata is None:
                    metadata = variant["metadata"] = CommentedMap()
                metadata["title"] = DoubleQuotedScalarString(new_title)
            if changed_answer and changed_title:
                return copy.text("repository.summary.answer_and_title")
            return copy.text("repository.summary.answer" if changed_answer else "repository.summary.title")

        return self._change(name, version, edit)

    def add_examples(self, name: str, examples: List[str], version: str) -> Change:
        """Appends new examples to the topic; ones it already has are skipped, another topic's are refused."""
        wanted = _valid_examples(examples)

        def edit(document: CommentedMap, current: Topic) -> str:
            have = {_key(e) for e in current.examples}
            new = [e for e in wanted if _key(e) not in have]
            skipped = len(wanted) - len(new)
            if not new:
                if len(wanted) == 1:
                    raise ContentError(copy.text("repository.examples.already_here", example=wanted[0]), "examples")
                raise ContentError(copy.text("repository.examples.all_already_here"), "examples")
            self._refuse_other_topics(new, current.intent)
            block = document["nlu"][0]
            old = str(block["examples"])
            if old and not old.endswith("\n"):
                old += "\n"
            block["examples"] = LiteralScalarString(old + "".join(f"- {e}\n" for e in new))
            key = "repository.summary.added_one" if len(new) == 1 else "repository.summary.added_many"
            if skipped:
                key += "_with_skipped"
            return copy.text(key, example=new[0], count=len(new), skipped=skipped)

        return self._change(name, version, edit)

    def remove_example(self, name: str, example: str, version: str) -> Change:
        """Removes an example (matched ignoring case and whitespace). If it was the topic's example question,
        the first remaining example becomes the example question, so the fallback button still works."""
        wanted = _key(example or "")

        def edit(document: CommentedMap, current: Topic) -> str:
            block = document["nlu"][0]
            lines = str(block["examples"]).splitlines(keepends=True)
            removed = [e for line in lines if (e := _example_of(line)) is not None and _key(e) == wanted]
            remaining = [e for e in current.examples if _key(e) != wanted]
            if not wanted or not removed:
                raise ContentError(copy.text("repository.examples.not_in_topic", example=(example or "").strip(),
                                             title=current.title), "examples")
            if not remaining:
                raise ContentError(copy.text("repository.examples.only_one", example=removed[0]), "examples")
            kept = [line for line in lines if (e := _example_of(line)) is None or _key(e) != wanted]
            block["examples"] = LiteralScalarString("".join(kept))
            if _key(current.example_question) == wanted:
                variant = document["responses"][f"utter_{current.intent}"][0]
                variant["metadata"]["example"] = DoubleQuotedScalarString(remaining[0])
                return copy.text("repository.summary.removed_new_example_question", example=removed[0],
                                 example_question=remaining[0])
            return copy.text("repository.summary.removed", example=removed[0])

        return self._change(name, version, edit)

    def create_topic(self, name: str, title: str, answer: str, examples: List[str], comment: str = "") -> Change:
        """Writes a new topic file in the layout of the existing ones; the first example is its example question.

        Fewer than content.checks.MIN_EXAMPLES examples are accepted (a topic grows in the editor); the
        checks before publishing refuse such a topic until it has enough.
        """
        name = _valid_name(name)
        title = _valid_title(title)
        answer = _valid_answer(answer)
        wanted = _valid_examples(examples)
        path = self._path(name)
        relative = path.relative_to(self.root).as_posix()
        intent = f"faq/{name}"
        with self._locked():
            if path.exists():
                raise ContentError(copy.text("repository.name.exists", name=name), "name")
            intents, answers, _ = collect(self.root)
            for other in [*intents, *answers]:
                if other.name in (intent, f"utter_{intent}"):
                    raise ContentError(copy.text("repository.name.in_use", name=name, path=other.path), "name")
            self._refuse_other_topics(wanted, intent, intents)
            text = self._new_file(intent, title, answer, wanted, comment)
            _replace(path, text)
        return Change(name, relative, copy.text("repository.summary.created"), _diff(relative, "", text),
                      _version(text.encode("utf-8")))

    # Internals

    def _path(self, name: str) -> Path:
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise TopicNotFound(self._not_found(str(name)), "name")
        return self.faq_dir / f"{name}.yml"

    @staticmethod
    def _not_found(name: str) -> str:
        return copy.text("repository.topic.not_found", name=name)

    def _read(self, name: str, path: Path) -> Tuple[Topic, CommentedMap, str]:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise TopicNotFound(self._not_found(name), "name") from None
        relative = path.relative_to(self.root).as_posix()
        intent = f"faq/{name}"

        def malformed(problem: str) -> ContentError:
            return ContentError(copy.text(f"repository.file.{problem}", path=relative, intent=intent))

        try:
            text = raw.decode("utf-8")
            document = _yaml().load(text)
        except (UnicodeDecodeError, YAMLError):
            raise malformed("broken") from None
        try:
            blocks = document["nlu"]
            if len(blocks) != 1 or blocks[0]["intent"] != intent or not isinstance(blocks[0]["examples"], str):
                raise KeyError
        except (KeyError, TypeError, IndexError):
            raise malformed("no_examples_block") from None
        try:
            variant = document["responses"][f"utter_{intent}"][0]
            answer = str(variant["text"])
        except (KeyError, TypeError, IndexError):
            raise malformed("no_answer") from None
        metadata = variant.get("metadata") or {}
        comment_lines = []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            comment_lines.append(line[2:] if line.startswith("# ") else line[1:])
        topic = Topic(
            name=name,
            intent=intent,
            path=relative,
            comment="\n".join(comment_lines),
            title=str(metadata.get("title") or name),
            answer=answer,
            example_question=str(metadata.get("example") or ""),
            examples=_examples_in(str(blocks[0]["examples"])),
            buttons=[{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                     for b in variant.get("buttons") or [] if isinstance(b, dict)],
            version=_version(raw),
        )
        return topic, document, text

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time, across processes (the service may run several workers)."""
        self.faq_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.faq_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, NEW_FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _change(self, name: str, version: str, edit: Callable[[CommentedMap, Topic], str]) -> Change:
        path = self._path(name)
        with self._locked():
            current, document, old = self._read(name, path)
            if version != current.version:
                raise VersionConflict(copy.text("repository.topic.changed_by_other", title=current.title))
            summary = edit(document, current)
            new = _dump(document)
            _replace(path, new)
        return Change(name, current.path, summary, _diff(current.path, old, new), _version(new.encode("utf-8")))

    def _refuse_other_topics(self, examples: List[str], intent: str, intents: Optional[List[Any]] = None) -> None:
        """An example may belong to one intent only, or the bot cannot tell which one a visitor meant."""
        if intents is None:
            intents = collect(self.root)[0]
        owners = {_key(text): other.name for other in intents if other.name != intent for text, _ in other.examples}
        for example in examples:
            owner = owners.get(_key(example))
            if owner is not None:
                raise ContentError(copy.text("repository.examples.in_other_topic", example=example, topic=owner),
                                   "examples")

    @staticmethod
    def _new_file(intent: str, title: str, answer: str, examples: List[str], comment: str) -> str:
        lines = ["".join(ch for ch in line if ch.isprintable()).rstrip()
                 for line in (comment or "").strip().splitlines()]
        if not lines:
            lines = [copy.text("repository.new_topic_comment", title=title)]
        header = "".join(f"# {line}\n" if line else "#\n" for line in lines)
        metadata = CommentedMap()
        metadata["title"] = DoubleQuotedScalarString(title)
        metadata["example"] = DoubleQuotedScalarString(examples[0])
        variant = CommentedMap()
        variant["text"] = DoubleQuotedScalarString(answer)
        variant["metadata"] = metadata
        responses = CommentedMap()
        responses[f"utter_{intent}"] = CommentedSeq([variant])
        block = CommentedMap()
        block["intent"] = intent
        block["examples"] = LiteralScalarString("".join(f"- {e}\n" for e in examples))
        document = CommentedMap()
        document["version"] = DoubleQuotedScalarString("3.1")
        document["nlu"] = CommentedSeq([block])
        document["responses"] = responses
        return header + _dump(document)
