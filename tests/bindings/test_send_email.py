"""send_email, against miniflare's emulation (cloudflare/workers-sdk
``packages/miniflare/src/workers/email/send_email.worker.ts``)."""

from pathlib import Path

import pytest

from wranglerpy.bindings import send_email
from wranglerpy.bindings.send_email.binding import (
    EmailMessage,
    SendEmailError,
    list_messages,
    read_message,
)
from wranglerpy.config.schema import SendEmail

RAW = (
    "From: Sender <sender@example.com>\r\n"
    "To: you@example.org\r\n"
    "Subject: Hello\r\n"
    "Message-ID: <abc@example.com>\r\n"
    "\r\n"
    "Hi there\r\n"
)


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return send_email.outbox_path(tmp_path)


async def test_raw_message_is_recorded(tmp_path: Path, outbox: Path) -> None:
    binding = send_email.create(SendEmail("EMAIL"), tmp_path)
    try:
        result = await binding.send(EmailMessage.new("sender@example.com", "you@example.org", RAW))
    finally:
        binding.close()
    assert result.messageId.startswith("<") and result.messageId.endswith("@example.com>")
    assert len(result.messageId) == len("<@example.com>") + 36
    (listed,) = list_messages(outbox)
    assert listed["from"] == "sender@example.com" and listed["to"] == ["you@example.org"]
    assert listed["subject"] == "Hello" and listed["binding"] == "EMAIL"
    assert read_message(outbox, listed["id"][:8]) == ("raw", RAW.encode())


async def test_builder_message_is_recorded(tmp_path: Path, outbox: Path) -> None:
    binding = send_email.create(SendEmail("EMAIL"), tmp_path)
    try:
        await binding.send(
            {
                "from": {"email": "a@x.com", "name": "A"},
                "to": ["b@y.com", "c@y.com"],
                "subject": "S",
                "text": "body",
            }
        )
    finally:
        binding.close()
    (listed,) = list_messages(outbox)
    assert listed["to"] == ["b@y.com", "c@y.com"] and listed["kind"] == "builder"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (RAW.replace("Message-ID: <abc@example.com>\r\n", ""), "invalid message-id"),
        (RAW.replace("sender@example.com>", "other@example.com>"), "does not match mail from"),
        ("Received: from x\r\n" + RAW, "invalid headers set"),
    ],
)
async def test_raw_message_checks(tmp_path: Path, outbox: Path, raw: str, message: str) -> None:
    binding = send_email.create(SendEmail("EMAIL"), tmp_path)
    try:
        with pytest.raises(SendEmailError, match=message):
            await binding.send(EmailMessage("sender@example.com", "you@example.org", raw))
    finally:
        binding.close()
    assert list_messages(outbox) == []


async def test_allowed_addresses(tmp_path: Path) -> None:
    config = SendEmail(
        "EMAIL",
        destination_address="you@example.org",
        allowed_sender_addresses=("sender@example.com",),
    )
    binding = send_email.create(config, tmp_path)
    try:
        with pytest.raises(SendEmailError, match="email to them@example.org not allowed"):
            await binding.send(EmailMessage("sender@example.com", "them@example.org", RAW))
        with pytest.raises(SendEmailError, match="email from x@example.com not allowed"):
            await binding.send(
                {"from": "x@example.com", "to": "you@example.org", "subject": "s", "text": "t"}
            )
        await binding.send(EmailMessage("sender@example.com", "you@example.org", RAW))
    finally:
        binding.close()


async def test_builder_checks(tmp_path: Path) -> None:
    binding = send_email.create(SendEmail("EMAIL"), tmp_path)
    try:
        with pytest.raises(SendEmailError, match='"text", "html" or both'):
            await binding.send({"from": "a@x.com", "to": "b@y.com", "subject": "s"})
        with pytest.raises(SendEmailError, match="1 to 50 recipients"):
            await binding.send(
                {
                    "from": "a@x.com",
                    "to": [f"{i}@y.com" for i in range(51)],
                    "subject": "s",
                    "text": "t",
                }
            )
    finally:
        binding.close()
