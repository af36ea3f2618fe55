"""inference-ui-streaming: AI answers over Server-Sent Events (a WorkerEntrypoint worker)."""
