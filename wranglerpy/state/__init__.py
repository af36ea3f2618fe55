"""State backends: where KV and R2 data live when several processes or machines share them.

The binding classes (``wranglerpy.bindings.kv``, ``wranglerpy.bindings.r2``) hold every
Cloudflare rule once; they call a small store interface (``KVStore``, ``R2Store``) that this
package implements on real servers: Redis for KV (:mod:`.redis_kv`), any S3-compatible
endpoint for R2 (:mod:`.s3_r2`). :mod:`.backends` turns the backend URLs into stores.
"""

from wranglerpy.state.backends import (
    KV_ENV,
    R2_ENV,
    StateBackends,
    activate,
    parse_kv_url,
    parse_r2_url,
    redact,
)

__all__ = [
    "KV_ENV",
    "R2_ENV",
    "StateBackends",
    "activate",
    "parse_kv_url",
    "parse_r2_url",
    "redact",
]
