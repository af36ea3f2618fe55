from wranglerpy.runtime.htmlrewriter import HTMLRewriter
from wranglerpy.runtime.request_response import Response


async def rewrite(rewriter: HTMLRewriter, html: str | list[str], **headers: str) -> str:
    """The rewritten body of ``html``, given whole or as a list of chunks streamed one by one."""
    body = [c.encode() for c in html] if isinstance(html, list) else html.encode()
    response = Response(body, headers={"content-type": "text/html", **headers})
    return await rewriter.transform(response).text()
