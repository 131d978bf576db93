"""Load new models off the event loop.

Publishing a model (`PUT /model`, content/publish.py) would make Rasa build the new model's
TensorFlow graphs on its event loop: every visitor waits ~8 s. Here Rasa loads a model file in a
worker thread instead; the old model answers until the new one is ready and the swap is one
assignment, so a publish costs no downtime.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Optional


def install() -> None:
    """Makes `PUT /model` load the model file in a worker thread."""
    import rasa.core.agent
    import rasa.server
    from rasa.server import ErrorResponse

    original = rasa.server._load_agent

    async def load_agent(model_path: Optional[str] = None, model_server: Any = None, remote_storage: Any = None,
                         endpoints: Any = None) -> rasa.core.agent.Agent:
        if not model_path or model_server is not None or remote_storage is not None or (
            endpoints is not None and endpoints.model
        ):
            return await original(model_path, model_server, remote_storage, endpoints)
        if not os.path.isfile(model_path):
            raise ErrorResponse(400, "BadRequest", f"No model file at '{model_path}'.")
        agent = await rasa.core.agent.load_agent(endpoints=endpoints)  # stores and endpoints, no model yet
        try:
            await asyncio.get_running_loop().run_in_executor(None, agent.load_model, model_path)
        except Exception as error:  # noqa: BLE001 - reported to the caller as Rasa reports load errors
            raise ErrorResponse(500, "LoadingError", f"Could not load '{model_path}': {error}") from error
        if not agent.is_ready():
            raise ErrorResponse(400, "BadRequest", f"Agent with name '{model_path}' could not be loaded.")
        return agent

    rasa.server._load_agent = load_agent
