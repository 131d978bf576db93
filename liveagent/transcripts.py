"""A conversation as a file to keep: readable Finnish text or a standalone HTML page, with the time of
every message (Europe/Helsinki) and who wrote it. Internal notes are never in it: the messages come
from ``Messages.transcript(visible_to="visitor")``, and notes are dropped here again, so no caller can
put one in.

The visitor downloads their own from the widget (they are "Sinä"); agents and supervisors download
any conversation they may see (the visitor is "Asiakas"), with the same text the console shows them
(docs/agent-api.md, "Transcripts"). In HTML every text is escaped: what a visitor wrote is always
text, never markup. Pure functions over the store's records; the Finnish words are liveagent/copy_fi.yml
``transcript``.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence
from zoneinfo import ZoneInfo

from liveagent import copy
from liveagent.store import Message

ZONE = ZoneInfo("Europe/Helsinki")
FORMATS = {"text": ("txt", "text/plain; charset=utf-8"), "html": ("html", "text/html; charset=utf-8")}
STYLE = ("body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
         "line-height:1.5;color:#1a1a1a}ol{list-style:none;padding:0}li{margin:0 0 1rem;padding:.5rem .75rem;"
         "border-left:4px solid #767676}li.visitor{border-color:#0b5cad}li.agent{border-color:#1f7a3a}"
         ".who{font-weight:bold}.when{color:#555}.text{white-space:pre-wrap;margin:.25rem 0 0}"
         ".buttons{color:#333;margin:.25rem 0 0}")


@dataclass(frozen=True)
class Line:
    """One message as the transcript shows it."""

    at: dt.datetime
    sender: str  # visitor, bot, agent, system
    who: str
    text: str
    buttons: List[str]


def local_time(moment: dt.datetime) -> str:
    """"5.12.2026 klo 14.07" in Finnish time."""
    local = moment.astimezone(ZONE)
    return copy.text("transcript.time", day=local.day, month=local.month, year=local.year,
                     hour=local.hour, minute=f"{local.minute:02d}")


def _shown_text(message: Message, earlier: Sequence[Message]) -> str:
    """A quick reply's "/payload" as the button title the visitor clicked (as the console shows it)."""
    if message.sender != "visitor" or not message.text.startswith("/"):
        return message.text
    for previous in reversed(earlier):
        for reply in (previous.payload or {}).get("quick_replies", []) or []:
            if isinstance(reply, dict) and reply.get("payload") == message.text and reply.get("title"):
                return str(reply["title"])
    return message.text


def lines(messages: Sequence[Message], agent_names: Dict[int, str], for_visitor: bool) -> List[Line]:
    """The transcript's lines: every message but internal notes, in order, with who wrote it."""
    shown = [m for m in messages if m.kind != "note"]
    found = []
    for index, message in enumerate(shown):
        if message.sender == "visitor":
            who = copy.text("transcript.visitor_self" if for_visitor else "transcript.visitor")
        elif message.sender == "agent":
            name = agent_names.get(message.agent_id or 0)
            who = copy.text("transcript.agent", agent_name=name) if name else copy.text("transcript.agent_unnamed")
        elif message.sender == "system":
            who = copy.text("transcript.system")
        else:
            who = copy.text("transcript.bot")
        buttons = [str(reply.get("title")) for reply in (message.payload or {}).get("quick_replies", []) or []
                   if isinstance(reply, dict) and reply.get("title")]
        found.append(Line(message.created_at, message.sender, who, _shown_text(message, shown[:index]), buttons))
    return found


def filename(messages: Sequence[Message], extension: str, now: dt.datetime) -> str:
    first = messages[0].created_at if messages else now
    return f"{copy.text('transcript.filename', date=first.astimezone(ZONE).date().isoformat())}.{extension}"


def as_text(transcript: Sequence[Line], conversation_id: Optional[str], now: dt.datetime) -> str:
    head = [copy.text("transcript.title"), copy.text("transcript.note"),
            copy.text("transcript.downloaded", time=local_time(now))]
    if conversation_id:
        head.append(copy.text("transcript.conversation", id=conversation_id))
    body = []
    for line in transcript:
        entry = [f"{local_time(line.at)} {line.who}:", line.text]
        if line.buttons:
            entry.append(f"[{copy.text('transcript.buttons')}: {' · '.join(line.buttons)}]")
        body.append("\n".join(entry))
    if not body:
        body.append(copy.text("transcript.empty"))
    return "\n".join(head) + "\n\n" + "\n\n".join(body) + "\n"


def as_html(transcript: Sequence[Line], conversation_id: Optional[str], now: dt.datetime) -> str:
    e = html.escape  # every text, quotes too: visitor text is always text
    title = e(copy.text("transcript.title"))
    head = [f"<h1>{title}</h1>", f"<p>{e(copy.text('transcript.note'))}</p>",
            f"<p>{e(copy.text('transcript.downloaded', time=local_time(now)))}</p>"]
    if conversation_id:
        head.append(f"<p>{e(copy.text('transcript.conversation', id=conversation_id))}</p>")
    items = []
    for line in transcript:
        buttons = (f'<p class="buttons">{e(copy.text("transcript.buttons"))}: {e(" · ".join(line.buttons))}</p>'
                   if line.buttons else "")
        items.append(f'<li class="{e(line.sender)}"><p><span class="who">{e(line.who)}</span> '
                     f'<time class="when" datetime="{e(line.at.isoformat())}">{e(local_time(line.at))}</time></p>'
                     f'<p class="text">{e(line.text)}</p>{buttons}</li>')
    body = f"<ol>{''.join(items)}</ol>" if items else f"<p>{e(copy.text('transcript.empty'))}</p>"
    return ('<!DOCTYPE html>\n<html lang="fi">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(head) + "\n" + body + "\n</main>\n</body>\n</html>\n")


def render(messages: Sequence[Message], agent_names: Dict[int, str], kind: str, *, for_visitor: bool,
           conversation_id: Optional[str], now: dt.datetime) -> str:
    transcript = lines(messages, agent_names, for_visitor)
    return as_html(transcript, conversation_id, now) if kind == "html" else as_text(transcript, conversation_id, now)
