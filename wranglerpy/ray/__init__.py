"""The Ray target: the same versions, routing, bindings and wire on a Ray Serve cluster.

A worker is a Serve application with no route (``replica``), the one routed application is
the ingress (``ingress``: by host and path, as the local edge's router), service bindings are
deployment handles (``handles``), the AI binding calls one shared model deployment (``ai``).
``publish`` deploys versions and rolls back; ``placement`` reads ``ray.toml``; ``tail`` keeps
the cluster's request events; ``local_cluster`` starts a cluster of several nodes on this
machine (tests, benchmarks). Needs the ``ray`` extra: ``pip install 'wranglerpy[ray]'``.
"""
