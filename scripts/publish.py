"""`make publish`: validate, train, run the regression gate and load the new model into the running bot.

The same pipeline as the editor view's "Julkaise" button (content/publish.py). The Rasa server of
`make run` is found through .env (LIVEAGENT_RASA_URL, RASA_JWT_SECRET). If no Rasa is running, the
model that passed every gate becomes models/lumo.tar.gz and answers from the next `make run`.
`make publish ROLLBACK=1` goes back to the previous model.
Progress and failures are printed in Finnish, as editors see them; exit code 0 on success.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content.publish import Progress, Publisher, PublishFailed  # noqa: E402
from liveagent.rasa_client import RasaClient, RasaUnavailable  # noqa: E402


class CliLoader:
    """Loads into the running Rasa; when none is running, the files alone make the switch."""

    def __init__(self, client: RasaClient) -> None:
        self.client = client

    async def load(self, model_path: Path) -> None:
        try:
            await self.client.load_model(str(model_path.resolve()))
        except RasaUnavailable as error:
            if "unreachable" not in str(error):
                raise
            print("Rasa is not running: this model answers from the next `make run`.", flush=True)


async def run(rollback: bool) -> int:
    env = {**{k: v for k, v in dotenv_values(ROOT / ".env").items() if v is not None}, **os.environ}
    replicas = env.get("LIVEAGENT_RASA_URL", "http://127.0.0.1:5005").split(",")  # the model goes to every one
    client = RasaClient(replicas, env.get("RASA_JWT_SECRET", ""), 5)
    await client.open()
    publisher = Publisher(ROOT, CliLoader(client))
    last = ""

    async def show(progress: Progress) -> None:
        nonlocal last
        if progress.detail != last:
            last = progress.detail
            print(f"[{progress.percent:3d} %] {progress.detail}", flush=True)

    try:
        if rollback:
            await publisher.rollback()
            print("Edellinen malli on taas käytössä.")
        else:
            await publisher.publish(show)
        return 0
    except PublishFailed as failure:
        print(failure.message, file=sys.stderr)
        for line in failure.details:
            print(f"  - {line}", file=sys.stderr)
        return 1
    finally:
        await client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollback", action="store_true", help="go back to the previous model")
    return asyncio.run(run(parser.parse_args().rollback))


if __name__ == "__main__":
    sys.exit(main())
