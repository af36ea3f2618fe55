"""ray.toml: replicas, ongoing requests and resources of each deployment."""

import pytest

from wranglerpy.errors import ConfigError
from wranglerpy.ray.placement import DEFAULT_AI_ONGOING, load_placement


def test_a_missing_file_means_one_replica_of_each_anywhere(tmp_path):
    placement = load_placement(tmp_path / "ray.toml")
    assert placement.worker("api").replicas == 1
    assert placement.worker("api").resources == {}
    assert placement.ai.max_ongoing_requests == DEFAULT_AI_ONGOING > 5  # Ray's default is 5


def test_workers_ai_and_ingress_are_read(tmp_path):
    path = tmp_path / "ray.toml"
    path.write_text(
        "[ai]\nreplicas = 2\nmax_ongoing_requests = 32\nresources = { node_a = 1 }\n"
        "[workers.inference-ui-streaming]\nreplicas = 2\nresources = { node_b = 0.5 }\n"
        "[ingress]\nreplicas = 3\n"
    )
    placement = load_placement(path)
    assert placement.ai.replicas == 2 and placement.ai.resources == {"node_a": 1.0}
    streaming = placement.worker("inference-ui-streaming")
    assert (streaming.replicas, streaming.resources) == (2, {"node_b": 0.5})
    options = streaming.deployment_options()
    assert options["num_replicas"] == 2
    assert options["ray_actor_options"] == {"num_cpus": 0.0, "resources": {"node_b": 0.5}}
    assert options["max_surge_percent"] == 100  # new replicas start before old ones stop
    assert placement.ingress.replicas == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[workers.api]\nreplicas = 0\n", r"\[workers.api\] replicas must be a number >= 1"),
        ("[workers.api]\nreplicas = 1.5\n", r"replicas must be a whole number"),
        ("[workers.api]\nresources = { a = -1 }\n", r"resources must map names to positive"),
        ("[ai]\ngpus = 1\n", r"\[ai\] has unknown key\(s\): gpus"),
        ("[cluster]\n", r"unknown section\(s\): cluster"),
        ("[ai\n", r"ray.toml: "),
    ],
)
def test_bad_placement_is_a_one_line_error_naming_the_key(tmp_path, text, message):
    path = tmp_path / "ray.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_placement(path)
