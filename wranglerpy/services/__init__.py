"""Local services beside the workers, on one extra port: R2's S3-compatible API for the local
buckets (``s3``) and an OpenAI-compatible API for the local models (``openai``). ``server``
starts and stops the process that serves them; see README.md here."""
