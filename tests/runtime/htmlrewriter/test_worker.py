"""A worker shaped like Cloudflare's 11-opengraph example, run end to end through the app.

The example fetches example.com; here the page comes from a local Response (no network),
streamed in small chunks so the rewrite happens across chunk boundaries.
"""

OPENGRAPH_WORKER = """
from html import escape
from urllib.parse import urlparse

from js import HTMLRewriter, ReadableStream, TextEncoder
from pyodide.ffi import create_proxy
from workers import Response, WorkerEntrypoint

PAGE = (
    "<!doctype html><html><head><title>Example</title>"
    '<meta property="og:title" content="Old">'
    '<meta name="twitter:card" content="old">'
    '<meta charset="utf-8"></head><body><h1>Example</h1></body></html>'
)


class MetaTagInjector:
    def __init__(self, og_data):
        self.og_data = og_data
        self.injected = False

    def element(self, element):
        if not self.injected:
            for prop in ("title", "url"):
                value = escape(self.og_data[prop], quote=True)
                element.prepend(f'<meta property="og:{prop}" content="{value}" />', html=True)
            self.injected = True


class ExistingMetaRemover:
    def element(self, element):
        element.remove()


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        og_data = {"title": f"Page <{path}>", "url": f"https://yoursite.com{path}"}

        encoder = TextEncoder.new()
        pieces = iter([PAGE[i : i + 7] for i in range(0, len(PAGE), 7)])

        def pull(controller):
            piece = next(pieces, None)
            if piece is None:
                controller.close()
            else:
                controller.enqueue(encoder.encode(piece))

        upstream = ReadableStream.new(pull=create_proxy(pull))
        response = Response(upstream, headers={"content-type": "text/html; charset=utf-8"})
        rewriter = HTMLRewriter.new()
        meta_remover = create_proxy(ExistingMetaRemover())
        rewriter.on('meta[property^="og:"]', meta_remover)
        rewriter.on('meta[name^="twitter:"]', meta_remover)
        rewriter.on("head", create_proxy(MetaTagInjector(og_data)))
        return rewriter.transform(response.js_object)
"""


async def test_opengraph_worker_rewrites_the_page(harness) -> None:
    async with harness.build(OPENGRAPH_WORKER) as client:
        response = await client.get("/blog/hello")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == (
        "<!doctype html><html><head>"
        '<meta property="og:url" content="https://yoursite.com/blog/hello" />'
        '<meta property="og:title" content="Page &lt;/blog/hello&gt;" />'
        "<title>Example</title>"
        '<meta charset="utf-8"></head><body><h1>Example</h1></body></html>'
    )
