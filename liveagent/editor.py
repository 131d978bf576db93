"""The editor side of the service: content changes with a change log, the missed-messages inbox,
and publishing in the background.

The blueprint (blueprints/editor_api.py) only translates HTTP; this module decides. Content files
are changed only through content.repository; models only through content.publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from content import copy as content_copy
from content.checks import check_project
from content.missed import group_similar, missed_in_tracker
from content.publish import Progress, Publisher, PublishFailed, label_title
from content.repository import Change, ContentRepository
from content.topics import turns_in_tracker
from liveagent import copy
from liveagent.rasa_client import RasaClient, RasaUnavailable
from liveagent.store import Store
from liveagent.store.content import PublishRun, RunInProgress

logger = logging.getLogger(__name__)


USAGE_DAYS = 30  # the editors' topic list: answers and feedback of the last 30 days
FAQ_PREFIX = "faq/"  # an FAQ topic's label ("faq/login") is the prefix and the topic's name
MISSED_ORDERS = ("frequent", "newest")  # the missed inbox: most often missed first, or latest first

class RasaModelLoader:
    """content.publish.ModelLoader for the Rasa server the service talks to."""

    def __init__(self, rasa: RasaClient) -> None:
        self._rasa = rasa

    async def load(self, model_path: Path) -> None:
        await self._rasa.load_model(str(model_path.resolve()))


class EditorService:
    def __init__(self, store: Store, rasa: RasaClient, root: Path, harvest_idle_seconds: float,
                 publisher: Optional[Publisher] = None) -> None:
        self.store = store
        self.rasa = rasa
        self.repository = ContentRepository(root)
        self.root = root
        self.publisher = publisher or Publisher(root, RasaModelLoader(rasa))
        self.harvest_idle = dt.timedelta(seconds=harvest_idle_seconds)
        self._task: Optional[asyncio.Task] = None

    async def start(self) -> None:
        interrupted = await self.store.content.fail_interrupted_runs(copy.text("editor.run_interrupted"))
        if interrupted:
            logger.warning("Marked %d publish runs cut off by a restart as failed", interrupted)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # -- content changes -----------------------------------------------------------------------------
    async def _log(self, agent: Any, change: Change) -> Dict[str, Any]:
        await self.store.content.record_change(agent.id, change.topic, change.path, change.summary, change.diff)
        return {"summary": change.summary, "diff": change.diff, "version": change.version}

    async def update_answer(self, agent: Any, name: str, text: str, version: str,
                            title: Optional[str] = None) -> Dict[str, Any]:
        change = await asyncio.to_thread(self.repository.update_answer, name, text, version, title)
        return await self._log(agent, change)

    async def add_examples(self, agent: Any, name: str, examples: List[str], version: str,
                           missed_ids: Sequence[int] = ()) -> Dict[str, Any]:
        if missed_ids:  # messages from the inbox that the topic already has are handled, not an error
            topic = await asyncio.to_thread(self.repository.topic, name)
            known = {" ".join(e.casefold().split()) for e in topic.examples}
            if all(" ".join(e.casefold().split()) in known for e in examples):
                await self.store.content.resolve_missed(missed_ids, "added", agent.id, name)
                return {"summary": copy.text("editor.already_examples"), "diff": "", "version": topic.version}
        change = await asyncio.to_thread(self.repository.add_examples, name, examples, version)
        if missed_ids:
            await self.store.content.resolve_missed(missed_ids, "added", agent.id, name)
        return await self._log(agent, change)

    async def remove_example(self, agent: Any, name: str, example: str, version: str) -> Dict[str, Any]:
        change = await asyncio.to_thread(self.repository.remove_example, name, example, version)
        return await self._log(agent, change)

    async def create_topic(self, agent: Any, name: str, title: str, answer: str, examples: List[str],
                           missed_ids: Sequence[int] = ()) -> Dict[str, Any]:
        change = await asyncio.to_thread(self.repository.create_topic, name, title, answer, examples)
        if missed_ids:
            await self.store.content.resolve_missed(missed_ids, "added", agent.id, name)
        return await self._log(agent, change)

    async def findings(self) -> List[Dict[str, Any]]:
        """The editors' content checks (quick, no Rasa): what would block or weaken a publish."""
        found = await asyncio.to_thread(check_project, self.root)
        return [{"severity": f.severity, "path": f.path, "line": f.line, "message": f.message} for f in found]

    # -- what the bot missed ---------------------------------------------------------------------------
    async def harvest(self, conversation_id: str) -> int:
        """Collect the conversation's missed messages, its topic and the bot's turns from its Rasa tracker
        (idempotent: the topic and turns are replaced by what the whole tracker says now)."""
        events = await self.rasa.tracker_events(conversation_id)
        added = await self.store.content.add_missed(missed_in_tracker(conversation_id, events))
        await self.store.content.mark_harvested(conversation_id, turns_in_tracker(events))
        return added

    async def harvest_sweep(self, now: dt.datetime) -> int:
        added = 0
        for conversation_id in await self.store.content.conversations_to_harvest(now - self.harvest_idle):
            try:
                added += await self.harvest(conversation_id)
            except RasaUnavailable as error:
                logger.info("Harvest paused, Rasa unavailable: %s", error)
                break
        return added

    async def topic_usage(self, now: Optional[dt.datetime] = None) -> Dict[str, Dict[str, Any]]:
        """Each FAQ topic's bot answers in the last USAGE_DAYS days and how visitors rated them, by the
        topic's name ("login" for the answers labelled "faq/login")."""
        since = (now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=USAGE_DAYS)
        usage = {}
        for row in await self.store.feedback.by_topic(since):
            if row.topic.startswith(FAQ_PREFIX):
                usage[row.topic[len(FAQ_PREFIX):]] = {
                    "answers": row.answers, "rated": row.rated, "helpful": row.helpful,
                    "helpful_rate": row.helpful / row.rated if row.rated else None}
        return usage

    async def missed_groups(self, order: str = "frequent") -> List[Dict[str, Any]]:
        items = await self.store.content.open_missed()
        by_id = {item.id: item for item in items}
        groups = await asyncio.to_thread(group_by_language, items)
        result = []
        for group in groups:
            members = [by_id[i] for i in group.member_ids]
            reasons = Counter((m.reason, m.language) for m in members)
            languages = Counter(m.language for m in members if m.language)
            result.append({
                "representative": group.representative, "count": group.count, "ids": list(group.member_ids),
                "texts": list(group.texts), "guess": group.guess,
                "guess_topic": group.guess[len("faq/"):] if group.guess and group.guess.startswith("faq/") else None,
                # an intent's Finnish description ("botin aihepiirin ulkopuolella"), not its label
                "guess_title": label_title(group.guess) if group.guess else None,
                "reasons": [{"reason": r, "language": language, "count": n, "label": reason_label(r, language)}
                            for (r, language), n in reasons.most_common()],
                "languages": [{"language": language, "label": language_label(language), "count": n}
                              for language, n in languages.most_common()],
                "last_seen": max(m.written_at for m in members),
            })
        # the most often missed first (ties: the latest), or the latest first
        if order == "newest":
            result.sort(key=lambda g: (g["last_seen"], g["count"]), reverse=True)
        else:
            result.sort(key=lambda g: (g["count"], g["last_seen"]), reverse=True)
        for group in result:
            group["last_seen"] = group["last_seen"].isoformat()
        return result

    async def dismiss(self, agent: Any, ids: Sequence[int]) -> int:
        return await self.store.content.resolve_missed(ids, "dismissed", agent.id)

    # -- publishing ------------------------------------------------------------------------------------
    async def start_publish(self, agent: Any, kind: str = "publish") -> PublishRun:
        """Starts a publish (or rollback) in the background; RunInProgress if one is running."""
        stage = "validate" if kind == "publish" else "load"
        detail = content_copy.text("stage.validate" if kind == "publish" else "stage.rollback")
        run = await self.store.content.start_run(kind, agent.id, stage, detail)
        self._task = asyncio.create_task(self._run(run.id, kind))
        return run

    async def _run(self, run_id: int, kind: str) -> None:
        async def progress(step: Progress) -> None:
            await self.store.content.update_run(run_id, stage=step.stage, percent=step.percent, detail=step.detail)

        try:
            if kind == "publish":
                await self.publisher.publish(progress, run_id=f"run{run_id}")
                message = content_copy.text("stage.published")
            else:
                await self.publisher.rollback()
                message = content_copy.text("stage.rolled_back")
            await self.store.content.update_run(run_id, state="succeeded", stage="done", percent=100,
                                                detail=message, message=message)
        except PublishFailed as failure:
            # The final state replaces the last progress line ("Testataan uutta mallia…"): nothing is running.
            await self.store.content.update_run(run_id, state="failed", stage=failure.stage, detail=failure.message,
                                                message=failure.message, details=failure.details)
        except Exception:  # noqa: BLE001 - the run must end in a state the editor sees
            logger.exception("Publish run %s broke", run_id)
            message = copy.text("editor.run_broke")
            await self.store.content.update_run(run_id, state="failed", detail=message, message=message)

    async def runs(self) -> Dict[str, Any]:
        runs = await self.store.content.runs()
        return {"runs": [run_json(run) for run in runs],
                "can_rollback": self.publisher.files.previous.exists()}


def group_by_language(items: Sequence[Any]) -> List[Any]:
    """content.missed.group_similar within each language: an English question and a Swedish one that
    share letters ("log in", "logga in") are different work for an editor. Largest groups first."""
    by_language: Dict[Optional[str], List[Any]] = {}
    for item in items:
        by_language.setdefault(item.language, []).append(item)
    groups = [group for members in by_language.values()
              for group in group_similar([(m.id, m.text, m.guess) for m in members])]
    groups.sort(key=lambda group: (-group.count, group.representative, group.member_ids))
    return groups


def language_label(language: str) -> str:
    """The Finnish name of a missed message's language ("sv" -> "ruotsi"); the code itself if the copy has none."""
    return copy.lookup(f"editor.languages.{language}") or language


def reason_label(reason: str, language: Optional[str]) -> str:
    """The inbox tag: why the bot missed the message, and its language when it is not Finnish."""
    label = copy.text(f"editor.reasons.{reason}")
    if not language:
        return label
    return copy.text("editor.reason_in_language", reason=label, language=language_label(language))


def run_json(run: PublishRun) -> Dict[str, Any]:
    return {"id": run.id, "kind": run.kind, "state": run.state, "stage": run.stage, "percent": run.percent,
            "detail": run.detail, "message": run.message, "details": run.details or [],
            "created_at": run.created_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None}


__all__ = ["EditorService", "RasaModelLoader", "RunInProgress", "run_json"]
