"""inference-ui-api: the public API worker of the Inference UI example (a Quart app)."""
