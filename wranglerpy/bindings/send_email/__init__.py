"""``[[send_email]]``, locally: mail is checked as Cloudflare checks it and recorded in
``<persist_dir>/send_email/outbox.sqlite`` instead of being sent; ``wranglerpy email list``
and ``wranglerpy email show ID`` read it back.
"""

from __future__ import annotations

from pathlib import Path

from wranglerpy.bindings._sqlite import state_dir
from wranglerpy.bindings.send_email.binding import EmailMessage, SendEmailBinding, SendEmailError
from wranglerpy.config.schema import SendEmail

__all__ = ["EmailMessage", "SendEmailBinding", "SendEmailError", "create", "outbox_path"]

DB_FILE = "outbox.sqlite"


def outbox_path(persist_dir: Path) -> Path:
    return state_dir(persist_dir, "send_email", "outbox") / DB_FILE


def create(config: SendEmail, persist_dir: Path) -> SendEmailBinding:
    return SendEmailBinding(outbox_path(persist_dir), config)
