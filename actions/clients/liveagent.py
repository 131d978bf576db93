"""Asks the live-agent service whether a human can take a chat now.

The escalation action must not promise a human outside service hours, with nobody online or with
a full queue. Without a configured service (the assistant alone, e.g. over REST) a human is
assumed available; an unreachable service is logged and treated the same way, because the
handoff signal is then the best the bot can do.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Optional

import aiohttp

from lumo_shared.handoff import AVAILABILITY_PATH, Availability

logger = logging.getLogger(__name__)


async def human_availability(base_url: Optional[str], timeout_seconds: float = 1.5) -> Availability:
    if not base_url:
        return Availability(True)
    try:
        timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(f"{base_url.rstrip('/')}{AVAILABILITY_PATH}") as response:
                data = await response.json(content_type=None)
        answer = Availability.from_json(data)
        if response.status == 200 and answer is not None:
            return answer
        logger.warning("Live-agent availability answered %s", response.status)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as error:
        logger.warning("Live-agent service unreachable: %s", type(error).__name__)
    return Availability(True)
