"""Chat cards: the custom-notification format AWS Chatbot (Amazon Q Developer in chat
applications) renders in Slack and Microsoft Teams channels.

Chatbot is subscribed to the topic over HTTPS and renders only messages in this format, so when a
channel is configured (CHAT_NOTIFICATIONS=true) each notification is published per protocol:
"default" and "email" keep the e-mail text, "https" carries the card (`per_protocol`). The fields
are capped here, each at a bound of our own (docs/functions.md, "Chat cards"): a card stays short
enough to read in a channel, and the full details stay in the e-mail and the stored record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

VERSION = "1.0"
SOURCE = "custom"
TEXT_TYPE = "client-markdown"
MAX_TITLE = 250
MAX_DESCRIPTION = 4000
MAX_NEXT_STEPS = 5
MAX_STEP = 500
MAX_KEYWORDS = 5
MAX_KEYWORD = 75
MAX_FIELD = 1000  # one value of the description, before the whole is capped
ELLIPSIS = "..."


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS


def card(
    title: str,
    fields: Sequence[tuple[str, str]],
    next_steps: Iterable[str],
    keywords: Iterable[str],
    thread: str | None = None,
) -> dict[str, Any]:
    """A custom notification: `fields` become the description's bold-labelled lines."""
    lines = [f"*{label}:* {shorten(_one_line(value), MAX_FIELD)}" for label, value in fields]
    content: dict[str, Any] = {
        "textType": TEXT_TYPE,
        "title": shorten(_one_line(title), MAX_TITLE),
        "description": shorten("\n".join(lines), MAX_DESCRIPTION),
        "nextSteps": [shorten(_one_line(s), MAX_STEP) for s in next_steps if s][:MAX_NEXT_STEPS],
        "keywords": list(dict.fromkeys(shorten(_one_line(k), MAX_KEYWORD) for k in keywords if k))[
            :MAX_KEYWORDS
        ],
    }
    document: dict[str, Any] = {"version": VERSION, "source": SOURCE, "content": content}
    if thread:
        # Updates of one rule and resource thread together where the channel allows threads.
        document["metadata"] = {"threadId": shorten(thread, MAX_FIELD)}
    return document


def link(url: str, text: str) -> str:
    """A Markdown link when the runbook is on the web; the repository path as it is otherwise."""
    return f"[{text}]({url})" if url.startswith("https://") else url


def per_protocol(text: str, chat_card: Mapping[str, Any]) -> str:
    """The Message of a MessageStructure=json publish: text for e-mail and every protocol without
    a key of its own (SQS, Lambda, email-json), the card for HTTPS subscribers (Chatbot)."""
    return json.dumps(
        {
            "default": text,
            "email": text,
            "https": json.dumps(chat_card, ensure_ascii=False, sort_keys=True),
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
