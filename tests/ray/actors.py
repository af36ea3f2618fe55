"""Where a test cluster's actors live: the node name (its custom resource) of each live actor.

The cluster tests assert placement (replicas, the primary, Durable Object actors) through these.
"""

from __future__ import annotations

from typing import Any

NODE_NAMES = ("head", "node_a", "node_b")


def live_actors() -> list[tuple[dict[str, Any], str]]:
    """Each live actor's state record with the name of the node it runs on ("?" if unknown)."""
    import ray
    from ray._private import state

    names = {}
    for node in ray.nodes():
        if node.get("Alive"):
            names[node["NodeID"]] = next((r for r in node["Resources"] if r in NODE_NAMES), "?")
    return [
        (actor, names.get(actor["Address"]["NodeID"], "?"))
        for actor in state.actors().values()
        if actor.get("State") == "ALIVE"
    ]


def replica_nodes() -> dict[str, list[str]]:
    """Serve app name (and ``wranglerpy-primary``) -> the node of each live replica, sorted."""
    found: dict[str, list[str]] = {}
    for actor, node in live_actors():
        cls = actor.get("ActorClassName") or ""
        if cls.startswith("ServeReplica:"):
            found.setdefault(cls.split(":")[1], []).append(node)
        elif cls.endswith("StatePrimary"):
            found.setdefault("wranglerpy-primary", []).append(node)
    return {app: sorted(nodes) for app, nodes in found.items()}
