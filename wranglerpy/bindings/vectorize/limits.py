"""Vectorize's documented limits and the errors its binding raises.

Figures come from Cloudflare's limits page (developers.cloudflare.com/vectorize/platform/limits/,
source: cloudflare/cloudflare-docs ``src/content/docs/vectorize/platform/limits.mdx``) and the
client API page (``vectorize/reference/client-api.mdx``, "topK"); the filter rules from
``vectorize/reference/metadata-filtering.mdx``.
"""

from __future__ import annotations

from wranglerpy.errors import BindingError

MAX_DIMENSIONS = 1536
MAX_ID_BYTES = 64
MAX_METADATA_BYTES = 10 * 1024
MAX_TOP_K = 100
MAX_TOP_K_WITH_VALUES_OR_METADATA = 20  # returnValues=true or returnMetadata="all"
DEFAULT_TOP_K = 5
MAX_WORKER_BATCH = 1000  # vectors per insert/upsert from a Worker
MAX_HTTP_BATCH = 5000  # vectors per upload batch through the API (wrangler's --batch-size cap)
MAX_INDEX_NAME_BYTES = 64
MAX_NAMESPACE_BYTES = 64
MAX_NAMESPACES = 50_000  # per index, Workers Paid
MAX_VECTORS_PER_INDEX = 10_000_000
MAX_METADATA_INDEXES = 10
MAX_INDEXED_STRING_BYTES = 64  # string metadata indexes keep the first 64 bytes
MAX_FILTER_JSON_BYTES = 2048  # the compact JSON of a filter must be *less* than this
MAX_FILTER_KEY_CHARS = 512
MAX_LIST_PAGE = 1000

METRICS = ("cosine", "euclidean", "dot-product")
METADATA_TYPES = ("string", "number", "boolean")
# wrangler's --preset choices and what each configures (packages/wrangler/src/vectorize/create.ts;
# dimensions from each model's card).
PRESETS: dict[str, tuple[int, str]] = {
    "@cf/baai/bge-small-en-v1.5": (384, "cosine"),
    "@cf/baai/bge-base-en-v1.5": (768, "cosine"),
    "@cf/baai/bge-large-en-v1.5": (1024, "cosine"),
    "openai/text-embedding-ada-002": (1536, "cosine"),
    "cohere/embed-multilingual-v2.0": (768, "cosine"),
}


class VectorizeError(BindingError):
    """An operation Vectorize rejects. The text follows workerd's binding, which prefixes the
    server's message with the operation (``VECTOR_QUERY_ERROR: ...``; workerd
    ``src/cloudflare/internal/vectorize-api.ts``, ``_send``)."""

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(f"{operation}_ERROR: {message}")
        self.operation = operation
        self.reason = message


class VectorizeOptionError(BindingError, ValueError):
    """A bad option the binding rejects before any request (workerd throws these in the
    isolate, e.g. an unknown ``returnMetadata`` level)."""


class IndexNotFoundError(BindingError):
    """The index a binding or command names does not exist locally."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f'Vectorize index "{name}" does not exist locally. Create it with '
            f"`wranglerpy vectorize create {name} --dimensions N --metric cosine` "
            "(or --preset MODEL)."
        )
        self.name = name


QUERY = "VECTOR_QUERY"
INSERT = "VECTOR_INSERT"
UPSERT = "VECTOR_UPSERT"
GET = "VECTOR_GET"
DELETE = "VECTOR_DELETE"
INDEX_GET = "INDEX_GET"
