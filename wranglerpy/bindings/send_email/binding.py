"""``env.<EMAIL>.send(message)``: an ``EmailMessage`` (sender, recipient, raw MIME) or the
structured form (``{"from", "to", "subject", "text"/"html", ...}``).

Checks follow miniflare's emulation (cloudflare/workers-sdk ``packages/miniflare/src/workers/
email/send_email.worker.ts``): the sender and every ``to`` address must be allowed by the
binding's ``allowed_sender_addresses`` / ``destination_address`` /
``allowed_destination_addresses``; a raw message must parse, carry a ``Message-ID``, have a
``From:`` address equal to the envelope sender, and no ``Received:`` header. The result is
``{"messageId": "<36 random characters@sender domain>"}`` as production returns.
"""

from __future__ import annotations

import email
import email.policy
import json
import secrets
import sqlite3
import string
import time
import uuid
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from wranglerpy.bindings._sqlite import SQLiteStore
from wranglerpy.config.schema import SendEmail
from wranglerpy.errors import BindingError
from wranglerpy.jsobject import JSObject

MAX_RECIPIENTS = 50  # Email Service: "to ... Max 50 recipients"
SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    sent_at REAL NOT NULL,
    binding TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,      -- JSON list
    subject TEXT NOT NULL,
    message_id TEXT NOT NULL,
    kind TEXT NOT NULL,            -- raw | builder
    body BLOB NOT NULL             -- the raw MIME, or the builder's JSON
);
CREATE INDEX IF NOT EXISTS messages_sent_at ON messages (sent_at);
"""
_ALPHABET = string.ascii_letters + string.digits


class SendEmailError(BindingError):
    """A message Cloudflare would refuse (a JS ``Error`` there)."""


class EmailMessage:
    """``new EmailMessage(from, to, raw)`` from ``cloudflare:email``: the envelope sender and
    recipient and the raw MIME message (str or bytes)."""

    def __init__(self, sender: str, recipient: str, raw: str | bytes) -> None:
        self.sender = sender
        self.to = recipient
        self.raw = raw

    @classmethod
    def new(cls, sender: str, recipient: str, raw: str | bytes) -> EmailMessage:
        return cls(sender, recipient, raw)

    def __getattr__(self, name: str) -> Any:
        if name == "from":  # getattr(message, "from"), as JS spells it
            return self.sender
        raise AttributeError(name)


def _address(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("email", "")
    if not isinstance(value, str):
        raise SendEmailError(f"invalid email address: {value!r}")
    return parseaddr(value)[1] or value.strip()


def _message_id(sender: str) -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(36))
    return f"<{body}@{sender.rsplit('@', 1)[-1]}>"


def _setup(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


class SendEmailBinding:
    def __init__(self, path: Path, config: SendEmail) -> None:
        self._store = SQLiteStore(path, _setup)
        self._config = config

    def __repr__(self) -> str:
        return f"<SendEmail {self._config.binding}>"

    def close(self) -> None:
        self._store.close()

    def _check_sender(self, sender: str) -> None:
        allowed = self._config.allowed_sender_addresses
        if allowed is not None and sender not in allowed:
            raise SendEmailError(f"email from {sender} not allowed")

    def _check_recipient(self, recipient: str) -> None:
        only = self._config.destination_address
        if only is not None and recipient != only:
            raise SendEmailError(f"email to {recipient} not allowed")
        allowed = self._config.allowed_destination_addresses
        if allowed is not None and recipient not in allowed:
            raise SendEmailError(f"email to {recipient} not allowed")

    async def send(self, message: Any) -> JSObject:
        if hasattr(message, "to_py") and not isinstance(message, EmailMessage):
            message = message.to_py()
        if isinstance(message, Mapping):
            row = self._builder(message)
        elif hasattr(message, "raw") and hasattr(message, "to"):
            row = self._raw(message)
        else:
            raise SendEmailError(
                "send() takes an EmailMessage or an object with from, to and subject"
            )
        await self._store.run(
            lambda c: c.execute(
                "INSERT INTO messages (id, sent_at, binding, sender, recipients, subject, "
                "message_id, kind, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        )
        return JSObject({"messageId": row[6]})

    def _raw(self, message: Any) -> tuple[Any, ...]:
        sender = _address(getattr(message, "from", None) or getattr(message, "sender", None))
        recipient = _address(message.to)
        self._check_sender(sender)
        self._check_recipient(recipient)
        raw = message.raw
        if hasattr(raw, "to_py"):
            raw = raw.to_py()
        data = raw.encode() if isinstance(raw, str) else bytes(raw)
        try:
            parsed = email.message_from_bytes(data, policy=email.policy.compat32)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the user's message
            raise SendEmailError(f"could not parse email: {exc}") from None
        if parsed.defects or not parsed.keys():
            raise SendEmailError("could not parse email: no headers found")
        if not parsed.get("Message-ID"):
            raise SendEmailError("invalid message-id")
        if parseaddr(parsed.get("From", ""))[1] != sender:
            raise SendEmailError("From: header does not match mail from")
        if parsed.get("Received") is not None:
            raise SendEmailError("invalid headers set")
        subject = str(parsed.get("Subject", ""))
        return (
            str(uuid.uuid4()),
            time.time(),
            self._config.binding,
            sender,
            json.dumps([recipient]),
            subject,
            _message_id(sender),
            "raw",
            data,
        )

    def _builder(self, message: Mapping[str, Any]) -> tuple[Any, ...]:
        if "from" not in message or "to" not in message:
            raise SendEmailError('the message needs "from" and "to"')
        sender = _address(message["from"])
        to = message["to"]
        recipients = [to] if isinstance(to, (str, Mapping)) else list(to)
        if not recipients or len(recipients) > MAX_RECIPIENTS:
            raise SendEmailError(f'"to" takes 1 to {MAX_RECIPIENTS} recipients')
        addresses = [_address(r) for r in recipients]
        self._check_sender(sender)
        for address in addresses:
            self._check_recipient(address)
        subject = message.get("subject")
        if not isinstance(subject, str):
            raise SendEmailError('the message needs a "subject" string')
        if not message.get("text") and not message.get("html"):
            raise SendEmailError('the message needs "text", "html" or both')
        body = json.dumps(dict(message), default=str, ensure_ascii=False).encode()
        return (
            str(uuid.uuid4()),
            time.time(),
            self._config.binding,
            sender,
            json.dumps(addresses),
            subject,
            _message_id(sender),
            "builder",
            body,
        )


def list_messages(path: Path, limit: int = 50) -> list[dict[str, Any]]:
    """The most recent recorded messages, newest first (for the CLI)."""
    if not path.is_file():
        return []
    store = SQLiteStore(path, _setup)
    try:
        rows = store.call(
            lambda c: c.execute(
                "SELECT id, sent_at, binding, sender, recipients, subject, message_id, kind "
                "FROM messages ORDER BY sent_at DESC, rowid DESC LIMIT ?",
                (limit,),
            ).fetchall()
        )
    finally:
        store.close()
    keys = ("id", "sent_at", "binding", "from", "to", "subject", "message_id", "kind")
    out = [dict(zip(keys, row, strict=True)) for row in rows]
    for item in out:
        item["to"] = json.loads(item["to"])
    return out


def read_message(path: Path, message: str) -> tuple[str, bytes] | None:
    """``(kind, body)`` of one recorded message, by its id (a unique prefix will do)."""
    if not path.is_file():
        return None
    store = SQLiteStore(path, _setup)
    try:
        rows = store.call(
            lambda c: c.execute(
                "SELECT kind, body FROM messages WHERE id LIKE ? ESCAPE '\\' LIMIT 2",
                (message.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",),
            ).fetchall()
        )
    finally:
        store.close()
    if len(rows) != 1:
        return None
    return str(rows[0][0]), bytes(rows[0][1])
