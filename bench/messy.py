"""Messy messages (issue 15): what the trained bot answers to tests/nlu/messy.yml, and how often it is
confidently wrong.

    python bench/messy.py                                   # the model in models/ with this checkout's actions
    python bench/messy.py --baseline-ref main               # also BEFORE: REF's code, its model trained from
                                                            # its own data; writes bench/REPORT.md "Messy messages"
    python bench/messy.py --baseline-model M --baseline-code DIR   # BEFORE from a model and a checkout at hand
    python bench/messy.py --errors                          # also print every message that was not right

Three sets are run: tests/nlu/messy.yml (the target set, also used for error analysis while building),
tests/nlu/messy_unseen.yml (written after the first round's tuning, looked at in the second) and
tests/nlu/messy_unseen2.yml (written after the second round, for an honest figure), and the NLU parse's
CPU cost of one-question and of several-question messages is measured for each model.

Every message is sent as the first message of a new conversation to the whole bot: Rasa's Agent in
this process (the model's NLU, rules and policies) with the real action server (``python -m
actions.server`` of the code under test, demo customers seeded, a free port). Messages labelled with a
``customer`` carry that demo customer's signed id in their metadata, as the live-agent service sends a
logged-in visitor's. What the bot did is read from the turn's bot events: the response names Rasa
records (``utter_action``), the handoff signal and the contact-request offer.

Definitions (docs/nlu.md, "Messy messages"):

- the bot **answered a topic** when it sent a topic's answer: an FAQ answer (``utter_faq/<topic>``),
  the account lookup (any of its answers, "log in first" included), the "I am a bot" answer or the
  goodbye. Asking back (the fallback's "did you mean", "which one first"), the out-of-scope refusal,
  small talk and handing over to a person are not topic answers;
- a **confident wrong answer**: the bot answered a topic that is not among the message's expected ones;
- a **person offered**: the turn has a handoff signal, a contact-request offer (nobody is in) or a
  button that asks for a person (``/request_human``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lumo_shared.handoff import CONTACT_REQUEST_OFFER_KEY, HANDOFF_KEY  # noqa: E402

MESSY = ROOT / "tests" / "nlu" / "messy.yml"
# Written after the tuning against MESSY and scored once; looked at in the next round (brief nlu15).
MESSY_UNSEEN = ROOT / "tests" / "nlu" / "messy_unseen.yml"
# Written after that round (life events, feelings beside a topic) and scored once: the honest figure now.
MESSY_UNSEEN2 = ROOT / "tests" / "nlu" / "messy_unseen2.yml"
# Targets of issue 15: at most this share of confident wrong answers, and a person for every upset or lost visitor.
MAX_CONFIDENT_WRONG = 0.05
PERSON_KINDS = ("upset", "lost")
KINDS = ("topic", "topics", "upset", "lost", "other_language", "out_of_scope", "unclear", "small_talk")
ACCOUNT_LABEL = "check_account_status"
PERSON_PAYLOAD = "/request_human"
# Response name -> the label whose answer it is (FAQ answers, "utter_faq/<topic>", are read from the name).
ANSWER_RESPONSES = {
    "utter_login_required": ACCOUNT_LABEL,
    "utter_session_expired": ACCOUNT_LABEL,
    "utter_bot_challenge": "bot_challenge",
    "utter_goodbye": "goodbye",
}
ACCOUNT_RESPONSE_PREFIX = "utter_account_"
# Responses that ask back (not an answer): the two-stage fallback and the "which question first" of several.
CLARIFY_RESPONSES = {"utter_ask_rephrase", "utter_ask_rephrase_no_options", "utter_several_topics_ask"}
SMALL_TALK_RESPONSES = {"utter_greet": "greet", "utter_thank": "thank", "utter_anything_else": "affirm"}
REFUSAL_RESPONSES = {"utter_out_of_scope", "utter_default"}
CUSTOMER_KEY_BYTES = 32


@dataclass(frozen=True)
class Case:
    """One labelled message of tests/nlu/messy.yml."""

    text: str
    expect: str
    topics: Tuple[str, ...] = ()
    lang: Optional[str] = None
    customer: Optional[str] = None
    questions: int = 2  # "topics": how many of its topics must be answered (1: every question is one topic's)


@dataclass
class Reply:
    """What the bot did with one message."""

    intent: str  # the NLU's top intent (FAQ messages: their topic)
    responses: List[str] = field(default_factory=list)  # response names of the bot's messages, in order
    answered: List[str] = field(default_factory=list)  # labels whose answer the bot gave
    person: bool = False  # handoff, contact-request offer or a "person" button
    handoff_reason: Optional[str] = None
    clarified: bool = False  # asked back (fallback or "which one first")
    refused: bool = False  # out-of-scope refusal
    small_talk: List[str] = field(default_factory=list)


@dataclass
class Outcome:
    case: Case
    reply: Reply
    confident_wrong: bool
    right: Optional[bool]  # None: not scored here (other languages: answered in that language elsewhere)


def load_cases(path: Path = MESSY) -> List[Case]:
    import yaml

    cases = []
    for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]:
        if entry["expect"] not in KINDS:
            raise ValueError(f"unknown kind {entry['expect']!r} for {entry['text']!r}")
        cases.append(Case(str(entry["text"]), entry["expect"], tuple(entry.get("topics") or ()),
                          entry.get("lang"), entry.get("customer"), int(entry.get("questions", 2))))
    return cases


# -- reading a turn ------------------------------------------------------------------------------------
def reply_of(events: Sequence[Dict[str, Any]]) -> Reply:
    """What the bot did in the turn after the last user message, from the tracker's event dicts."""
    from lumo_shared.tracker_events import intent_label, user_events

    users = user_events(events)
    last_user = max(i for i, event in enumerate(events) if event.get("event") == "user")
    reply = Reply(intent=(intent_label(users[-1]) or "") if users else "")
    for event in events[last_user + 1:]:
        if event.get("event") != "bot":
            continue
        metadata = event.get("metadata") or {}
        data = event.get("data") or {}
        custom = data.get("custom") or {}
        if HANDOFF_KEY in custom:
            reply.person = True
            reply.handoff_reason = (custom[HANDOFF_KEY] or {}).get("reason")
        if CONTACT_REQUEST_OFFER_KEY in custom:
            reply.person = True
        if any((button or {}).get("payload") == PERSON_PAYLOAD for button in data.get("buttons") or []):
            reply.person = True
        name = metadata.get("utter_action")
        if not name:
            continue
        reply.responses.append(name)
        label = answer_label(name)
        if label and label not in reply.answered:
            reply.answered.append(label)
        reply.clarified |= name in CLARIFY_RESPONSES
        reply.refused |= name in REFUSAL_RESPONSES
        if name in SMALL_TALK_RESPONSES:
            reply.small_talk.append(SMALL_TALK_RESPONSES[name])
    return reply


def answer_label(response: str) -> Optional[str]:
    """The label whose answer ``response`` is, or None when it answers no topic."""
    if response.startswith("utter_faq/"):
        return response[len("utter_"):]
    if response.startswith(ACCOUNT_RESPONSE_PREFIX):
        return ACCOUNT_LABEL
    return ANSWER_RESPONSES.get(response)


def judge(case: Case, reply: Reply) -> Outcome:
    """Whether the reply is a confident wrong answer, and whether it is the right kind of answer."""
    expected = set(case.topics)
    wrong = [label for label in reply.answered if label not in expected]
    confident_wrong = bool(wrong)
    answered_expected = bool(set(reply.answered) & expected) or (
        "request_human" in expected and reply.handoff_reason is not None)
    right: Optional[bool]
    if case.expect == "topic":
        right = answered_expected and not wrong
    elif case.expect == "topics":
        # at least two of the questions answered (fewer when fewer topics are asked), or "which one first"
        enough = len(set(reply.answered) & expected) >= min(case.questions, len(expected))
        right = (enough or reply.clarified) and not wrong
    elif case.expect in PERSON_KINDS:
        right = reply.person and not wrong
    elif case.expect == "small_talk":
        right = bool(set(reply.small_talk) & expected) and not wrong
    elif case.expect == "other_language":
        right = None
    else:  # out_of_scope, unclear: anything but a topic answer
        right = not reply.answered
    return Outcome(case, reply, confident_wrong, right)


# -- running the bot -----------------------------------------------------------------------------------
@contextlib.contextmanager
def action_server(code: Path, workdir: Path, customer_key: str) -> Iterator[Tuple[str, str]]:
    """``python -m actions.server`` of the checkout ``code`` on a free port: yields (webhook URL, token)."""
    from stack.processes import Process, free_port, wait_ready

    port = free_port()
    token = secrets.token_hex(24)
    env = {
        **os.environ,
        "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1",
        "LUMO_ENV": "demo",  # the fictional demo customers are seeded
        "ACTION_SERVER_TOKEN": token,
        "LUMO_JWT_KEY": secrets.token_hex(32),
        "LUMO_CUSTOMER_ID_KEY": customer_key,
        "LUMO_ACCOUNTS_DATABASE_URL": f"sqlite:///{workdir}/accounts.sqlite",
    }
    env.pop("LUMO_LIVEAGENT_URL", None)  # no service: a person is available (actions/clients/liveagent.py)
    process = Process("actions", [sys.executable, "-m", "actions.server", "--port", str(port)], env,
                      f"http://127.0.0.1:{port}/health", workdir / "actions.log", cwd=code).start()
    try:
        wait_ready([process], 120)
        yield f"http://127.0.0.1:{port}/webhook", token
    finally:
        process.stop()


@contextlib.contextmanager
def quiet_rasa() -> Iterator[None]:
    """Rasa's debug logging (structlog) off while the messages run (it would print every turn); the
    previous logging set-up is restored after."""
    import structlog

    previous = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        yield
    finally:
        structlog.configure(**previous)


def converse(model: Path, code: Path, cases: Sequence[Case]) -> List[Reply]:
    """Each case as the first message of a new conversation with the whole bot; what it did with each."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.utils.endpoints import EndpointConfig

    from lumo_shared.identity import CUSTOMER_METADATA_KEY, sign_customer_id

    customer_key = secrets.token_hex(CUSTOMER_KEY_BYTES)
    with (tempfile.TemporaryDirectory() as workdir, action_server(code, Path(workdir), customer_key) as (url, token),
          quiet_rasa()):
        endpoint = EndpointConfig(url, headers={"Authorization": f"Bearer {token}"})
        agent = Agent.load(str(model), action_endpoint=endpoint)

        async def run_all() -> List[Reply]:
            replies = []
            for index, case in enumerate(cases):
                sender = f"messy-{index}"
                metadata = ({CUSTOMER_METADATA_KEY: sign_customer_id(case.customer, sender, customer_key)}
                            if case.customer else {})
                await agent.handle_message(UserMessage(case.text, CollectingOutputChannel(), sender, metadata=metadata))
                tracker = await agent.tracker_store.retrieve(sender)
                replies.append(reply_of([event.as_dict() for event in tracker.events]))
            return replies

        return asyncio.run(run_all())


def evaluate(model: Path, code: Path = ROOT, cases: Optional[Sequence[Case]] = None) -> List[Outcome]:
    cases = list(cases) if cases is not None else load_cases()
    return [judge(case, reply) for case, reply in zip(cases, converse(model, code, cases), strict=True)]


# -- figures -------------------------------------------------------------------------------------------
def summary(outcomes: Sequence[Outcome]) -> Dict[str, Any]:
    total = len(outcomes)
    by_kind: Dict[str, Dict[str, Any]] = {}
    for kind in KINDS:
        mine = [o for o in outcomes if o.case.expect == kind]
        if not mine:
            continue
        scored = [o for o in mine if o.right is not None]
        entry: Dict[str, Any] = {"total": len(mine), "confident_wrong": sum(o.confident_wrong for o in mine),
                                 "right": sum(bool(o.right) for o in scored) if scored else None}
        if kind in PERSON_KINDS:
            entry["person"] = sum(o.reply.person for o in mine)
        if kind == "topics":
            entry["several_answered"] = sum(len(set(o.reply.answered) & set(o.case.topics)) >= 2 for o in mine)
            entry["asked_which"] = sum("utter_several_topics_ask" in o.reply.responses for o in mine)
        by_kind[kind] = entry
    person_cases = [o for o in outcomes if o.case.expect in PERSON_KINDS]
    scored = [o for o in outcomes if o.right is not None]
    return {
        "total": total,
        "confident_wrong": sum(o.confident_wrong for o in outcomes),
        "confident_wrong_share": sum(o.confident_wrong for o in outcomes) / max(1, total),
        "right": sum(bool(o.right) for o in scored),
        "scored": len(scored),
        "person_offered": sum(o.reply.person for o in person_cases),
        "person_cases": len(person_cases),
        "by_kind": by_kind,
    }


def meets_targets(figures: Dict[str, Any]) -> bool:
    return (figures["confident_wrong_share"] <= MAX_CONFIDENT_WRONG
            and figures["person_offered"] == figures["person_cases"])


def describe(outcome: Outcome) -> str:
    reply = outcome.reply
    did = ", ".join(reply.responses) or "(nothing)"
    extra = " +person" if reply.person else ""
    return (f"[{outcome.case.expect}] {outcome.case.text[:90]!r}: intent {reply.intent}; {did}{extra}"
            f" (expected {', '.join(outcome.case.topics) or '-'})")


def percent(part: int, whole: int) -> str:
    return f"{100.0 * part / max(1, whole):.1f} %"


def table(columns: Sequence[Tuple[str, Dict[str, Any]]]) -> List[str]:
    names = [name for name, _figures in columns]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]

    def row(title: str, cell) -> None:
        lines.append(f"| {title} | " + " | ".join(cell(figures) for _name, figures in columns) + " |")

    row("**confident wrong answers**",
        lambda f: f"**{f['confident_wrong']} of {f['total']} ({percent(f['confident_wrong'], f['total'])})**")
    row("upset or lost visitors offered a person",
        lambda f: f"{f['person_offered']} of {f['person_cases']}")
    row("right kind of answer (other languages not scored)",
        lambda f: f"{f['right']} of {f['scored']} ({percent(f['right'], f['scored'])})")
    kinds = [kind for kind in KINDS if any(kind in f["by_kind"] for _n, f in columns)]
    for kind in kinds:
        def cell(f: Dict[str, Any], kind: str = kind) -> str:
            entry = f["by_kind"].get(kind)
            if not entry:
                return "-"
            parts = [f"wrong {entry['confident_wrong']}"]
            if entry["right"] is not None:
                parts.append(f"right {entry['right']}")
            if "person" in entry:
                parts.append(f"person {entry['person']}")
            if "several_answered" in entry:
                parts.append(f"2+ answered {entry['several_answered']}, asked which {entry['asked_which']}")
            return f"{entry['total']}: " + ", ".join(parts)
        row(f"{kind}", cell)
    return lines


# -- BEFORE: another revision's code and model ---------------------------------------------------------
def checkout(ref: str, target: Path) -> Path:
    """The files of git revision ``ref`` in ``target`` (git archive: no worktree, nothing of ours touched)."""
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def train(code: Path) -> Path:
    """Trains ``code``'s model from its own data, config and domain as `make train` does; returns it."""
    env = {**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1", "RASA_TELEMETRY_ENABLED": "false"}
    subprocess.run([sys.executable, "-m", "rasa_runtime.train", "--config", "config.yml", "--domain", "domain.yml",
                    "--data", "data", "--out", "models", "--fixed-model-name", "lumo"],
                   cwd=code, env=env, check=True, stdout=subprocess.DEVNULL)
    return code / "models" / "lumo.tar.gz"


def parse_cpu(model: Path, texts: Sequence[str]) -> Tuple[float, float]:
    """Median and 95th percentile CPU milliseconds of one NLU parse (the process's CPU time, so a busy
    machine inflates it less than wall time), each text parsed alone after a warm-up."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    times: List[float] = []

    async def run_all() -> None:
        for text in texts[:20]:
            await agent.parse_message(text)
        for text in texts:
            started = time.process_time()
            await agent.parse_message(text)
            times.append(1000.0 * (time.process_time() - started))

    with quiet_rasa():
        asyncio.run(run_all())
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(0.95 * len(times)))]


def timing_texts() -> Dict[str, List[str]]:
    """One-question messages (the held-out file) and the messy set's several-question and long messages."""
    from bench.nlu_eval import HELDOUT, load_examples

    several = [case.text for case in load_cases() if case.expect == "topics" or len(case.text) > 300]
    return {"one question (held-out, 380)": [text for text, _label in load_examples(HELDOUT)],
            f"several questions or long (messy, {len(several)})": several}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "lumo.tar.gz")
    parser.add_argument("--baseline-ref", help="git revision whose code and (freshly trained) model are BEFORE")
    parser.add_argument("--baseline-model", type=Path, help="BEFORE's model (with --baseline-code)")
    parser.add_argument("--baseline-code", type=Path, help="a checkout of BEFORE's code (its actions)")
    parser.add_argument("--errors", action="store_true", help="print every message that was not right")
    args = parser.parse_args()
    from rasa_runtime import no_tensorflow

    no_tensorflow.install()  # as the Rasa server runs our model (the tests load it with TensorFlow, as the gate does)
    sets = {"tests/nlu/messy.yml": load_cases(MESSY), "tests/nlu/messy_unseen.yml": load_cases(MESSY_UNSEEN),
            "tests/nlu/messy_unseen2.yml": load_cases(MESSY_UNSEEN2)}
    runs: List[Tuple[str, Path, Path]] = []  # (column name, model, code)
    with tempfile.TemporaryDirectory() as scratch:
        if args.baseline_ref:
            code = checkout(args.baseline_ref, Path(scratch) / "baseline")
            runs.append((f"before ({args.baseline_ref})", train(code), code))
        elif args.baseline_model:
            if args.baseline_code is None:
                parser.error("--baseline-model needs --baseline-code")
            runs.append(("before", args.baseline_model, args.baseline_code))
        runs.append(("after (this checkout)", args.model, ROOT))
        tables: Dict[str, List[str]] = {}
        after_figures: Dict[str, Any] = {}
        for set_name, cases in sets.items():
            columns = []
            for name, model, code in runs:
                outcomes = evaluate(model, code, cases)
                columns.append((name, summary(outcomes)))
                if args.errors:
                    print(f"{set_name}, {name}: not right")
                    print("\n".join(describe(o) for o in outcomes if o.right is False or o.confident_wrong))
            tables[set_name] = table(columns)
            after_figures[set_name] = columns[-1][1]
            print(set_name)
            print("\n".join(tables[set_name]))
        texts = timing_texts()
        cpu = {name: {kind: parse_cpu(model, batch) for kind, batch in texts.items()} for name, model, _code in runs}
    cpu_lines = ["| parse CPU ms, median / p95 | " + " | ".join(texts) + " |", "|---|" + "---:|" * len(texts)]
    cpu_lines += [f"| {name} | " + " | ".join(f"{cpu[name][kind][0]:.1f} / {cpu[name][kind][1]:.1f}" for kind in texts)
                  + " |" for name, _model, _code in runs]
    print("\n".join(cpu_lines))
    target = after_figures["tests/nlu/messy.yml"]
    print(json.dumps({"after": target, "targets_met": meets_targets(target)}))
    if len(runs) > 1:
        from bench.report import write_section

        counts = Counter(case.expect for case in sets["tests/nlu/messy.yml"])
        command = "python bench/messy.py " + " ".join(sys.argv[1:])
        write_section("Messy messages", "\n".join([
            f"Generated by `{command.strip()}`. Each message is the first message of a new conversation with "
            "the whole bot (model, rules, the real action server; logged-in messages as their demo customer). "
            f"tests/nlu/messy.yml: {len(sets['tests/nlu/messy.yml'])} messages "
            f"({', '.join(f'{counts[k]} {k}' for k in KINDS if counts[k])}), written before the work and then "
            "used for its error analysis; tests/nlu/messy_unseen.yml: "
            f"{len(sets['tests/nlu/messy_unseen.yml'])} messages written after the first round's tuning, scored "
            "once, then looked at in the second round (life events, feelings beside a topic); "
            f"tests/nlu/messy_unseen2.yml: {len(sets['tests/nlu/messy_unseen2.yml'])} messages written after the "
            "second round and scored once, the honest estimate for messages nobody tuned for.", "",
            "**tests/nlu/messy.yml** (the target set)", "", *tables["tests/nlu/messy.yml"], "",
            "**tests/nlu/messy_unseen.yml** (written after the first round, looked at in the second)", "",
            *tables["tests/nlu/messy_unseen.yml"], "",
            "**tests/nlu/messy_unseen2.yml** (written after the second round, scored once)", "",
            *tables["tests/nlu/messy_unseen2.yml"], "",
            "Cost of reading a message clause by clause (components/segments.py), NLU only:", "", *cpu_lines, "",
            f"Targets (issue 15), on tests/nlu/messy.yml: at most {MAX_CONFIDENT_WRONG:.0%} confident wrong answers, "
            "every upset or lost visitor offered a person (tests/nlu/test_messy.py). A confident wrong answer: the "
            "bot gave the answer of a topic (an FAQ answer, the account lookup including \"log in first\", "
            "\"I am a bot\", the goodbye) that is not one of the message's expected topics; asking back, refusing, "
            "small talk and a person are not topic answers (docs/nlu.md, \"Messy messages\"). Per kind: wrong = "
            "confident wrong answers, right = the right kind of answer, person = a person offered, 2+ answered = "
            "several questions of which at least two were answered, asked which = \"which one first?\".",
        ]))
    return 0 if meets_targets(target) else 1


if __name__ == "__main__":
    sys.exit(main())
