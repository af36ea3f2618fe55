"""``queues`` and ``workflows`` config: defaults (Cloudflare's: batch of 10, 5 s, 3 retries),
bounds (workers-sdk packages/miniflare/src/workers/queues/schemas.ts), and clear errors."""

import pytest

from tests.config.conftest import Write
from wranglerpy.config.load import load_worker
from wranglerpy.config.queues import QueueConsumer
from wranglerpy.errors import ConfigError


def test_producers_and_consumers(write: Write) -> None:
    w = load_worker(
        write(
            "wrangler.toml",
            """
            name = "w"
            compatibility_date = "2025-09-01"
            [[queues.producers]]
            binding = "JOBS"
            queue = "jobs"
            delivery_delay = 30
            [[queues.consumers]]
            queue = "jobs"
            [[queues.consumers]]
            queue = "other"
            max_batch_size = 50
            max_batch_timeout = 0.5
            max_retries = 0
            dead_letter_queue = "other-dlq"
            retry_delay = 10
            max_concurrency = 2
            """,
        )
    )
    (producer,) = w.queue_producers
    assert (producer.binding, producer.queue, producer.delivery_delay) == ("JOBS", "jobs", 30)
    assert w.queue_consumers == (
        QueueConsumer("jobs"),
        QueueConsumer("other", 50, 0.5, 0, "other-dlq", 10, 2),
    )
    assert QueueConsumer("jobs").max_batch_size == 10 and QueueConsumer("x").max_retries == 3
    assert "JOBS" in w.binding_names() and not w.warnings


@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        ('[[queues.consumers]]\nqueue = "q"\nmax_batch_size = 101', "max_batch_size",
         "between 1 and 100"),
        ('[[queues.consumers]]\nqueue = "q"\nmax_batch_timeout = 61', "max_batch_timeout",
         "between 0 and 60"),
        ('[[queues.consumers]]\nqueue = "q"\ndead_letter_queue = "q"', "dead_letter_queue",
         "cannot be its own dead-letter queue"),
        ('[[queues.producers]]\nbinding = "Q"\nqueue = "q"\ndelivery_delay = -1', "delivery_delay",
         "between 0 and 86400"),
        ('[[queues.producers]]\nbinding = "Q"', "queue", "is required"),
    ],
)  # fmt: skip
def test_queue_mistakes_name_the_key(write: Write, table: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", f'name = "w"\n{table}\n'))
    assert info.value.key is not None and info.value.key.endswith(key)
    assert message in str(info.value)


def test_a_queue_consumed_twice_by_one_worker(write: Write) -> None:
    text = 'name = "w"\n[[queues.consumers]]\nqueue = "q"\n[[queues.consumers]]\nqueue = "q"\n'
    with pytest.raises(ConfigError, match='queue "q" already has a consumer'):
        load_worker(write("wrangler.toml", text))


def test_http_pull_consumers_are_not_run(write: Write) -> None:
    text = 'name = "w"\n[[queues.consumers]]\nqueue = "q"\ntype = "http_pull"\n'
    w = load_worker(write("wrangler.toml", text))
    assert w.queue_consumers == ()
    assert any("http_pull" in x for x in w.warnings)


def test_workflows(write: Write) -> None:
    w = load_worker(
        write(
            "wrangler.jsonc",
            """
            {"name": "w", "workflows": [
              {"name": "dag-workflow", "binding": "MY_WORKFLOW", "class_name": "DAGWorkflow"},
              {"name": "other", "binding": "OTHER", "class_name": "Other", "script_name": "x",
               "limits": {"steps": 50}}
            ]}
            """,
        )
    )
    first, second = w.workflows
    assert (first.name, first.binding, first.class_name, first.script_name) == (
        "dag-workflow", "MY_WORKFLOW", "DAGWorkflow", None,
    )  # fmt: skip
    assert (second.script_name, second.step_limit) == ("x", 50)


def test_workflow_mistakes(write: Write) -> None:
    bad_name = 'name = "w"\n[[workflows]]\nname = "-x"\nbinding = "W"\nclass_name = "C"\n'
    with pytest.raises(ConfigError, match="invalid workflow name"):
        load_worker(write("wrangler.toml", bad_name))
    clash = (
        'name = "w"\n[vars]\nW = "1"\n[[workflows]]\nname = "x"\nbinding = "W"\nclass_name = "C"\n'
    )
    with pytest.raises(ConfigError, match='binding name "W" is already used'):
        load_worker(write("wrangler.toml", clash))


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ('compatibility_date = "2024-03-18"', "json"),
        ('compatibility_date = "2024-01-01"', "v8"),
        (
            'compatibility_date = "2024-01-01"\ncompatibility_flags = ["queues_json_messages"]',
            "json",
        ),
        (
            'compatibility_date = "2025-01-01"\ncompatibility_flags = ["no_queues_json_messages"]',
            "v8",
        ),
    ],
)
def test_default_content_type_follows_compatibility(
    write: Write, settings: str, expected: str
) -> None:
    """workerd src/workerd/io/compatibility-date.capnp: ``queuesJsonMessages`` from 2024-03-18."""
    text = f'name = "w"\n{settings}\n[[queues.producers]]\nbinding = "Q"\nqueue = "q"\n'
    (producer,) = load_worker(write("wrangler.toml", text)).queue_producers
    assert producer.default_content_type == expected
