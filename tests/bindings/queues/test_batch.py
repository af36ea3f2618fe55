"""ack/retry bookkeeping of a delivered batch: the first decision wins, later conflicting
calls warn (texts from workerd src/workerd/api/queue.c++ ``QueueMessage::ack``/``retry``)."""

from wranglerpy.bindings.queues.batch import MessageBatch
from wranglerpy.bindings.queues.store import StoredMessage


def batch(*ids: str) -> tuple[MessageBatch, list[str]]:
    warnings: list[str] = []
    stored = [StoredMessage(i, 1_800_000_000_000, "text", i.encode(), 1) for i in ids]
    return MessageBatch("jobs", stored, warnings.append), warnings


def test_message_fields() -> None:
    b, _ = batch("a")
    (m,) = b.messages
    assert (b.queue, m.id, m.body, m.attempts) == ("jobs", "a", "a", 1)
    assert m.timestamp.year == 2027


def test_unanswered_messages_are_acked_when_the_handler_succeeds() -> None:
    b, _ = batch("a", "b", "c")
    b.messages[1].retry(delaySeconds=9)
    acked, retried = b.decide(handler_failed=False, retry_delay=2)
    assert acked == {"a", "c"} and retried == {"b": 9}


def test_a_failed_handler_retries_all_but_explicit_acks() -> None:
    b, _ = batch("a", "b")
    b.messages[0].ack()
    acked, retried = b.decide(handler_failed=True, retry_delay=2)
    assert acked == {"a"} and retried == {"b": 2}


def test_retry_all_with_delay_and_ack_all() -> None:
    b, _ = batch("a", "b")
    b.retryAll(delaySeconds=4)
    assert b.decide(False, 0) == (set(), {"a": 4, "b": 4})
    b2, _ = batch("a")
    b2.ackAll()
    assert b2.decide(True, 0) == ({"a"}, {})


def test_conflicting_calls_warn_and_change_nothing() -> None:
    b, warnings = batch("a")
    (m,) = b.messages
    m.ack()
    m.retry()
    assert "Received a call to retry() on message a after ack() was already called." in warnings[0]
    b.retryAll()
    b2, warnings2 = batch("b")
    b2.ackAll()
    b2.retryAll()
    assert warnings2 == [
        "Received a call to retryAll() after ackAll() was already called. "
        "Calling retryAll() after calling ackAll() has no effect."
    ]
