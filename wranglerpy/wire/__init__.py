"""The one wire protocol between wranglerpy processes (router, supervisor, workers).

Every call from one process to a worker process travels over the worker's unix socket as
**frames**: a 4-byte big-endian payload length, a 1-byte kind, then the payload.

A call starts with one *head* frame whose kind says what the call is; its payload is a CBOR
array of the head's typed fields (see ``frames``: one dataclass per kind). Every head carries
the call's metadata as fields, never as HTTP headers:

========  =======================  ==============================================================
kind      head                     what the worker does
========  =======================  ==============================================================
``0x01``  ``FetchHead``            public HTTP request (the edge router): the worker's ``fetch``
``0x02``  ``ServiceFetchHead``     ``env.SVC.fetch(...)`` from another worker: ``fetch`` of the
                                   binding's entrypoint
``0x03``  ``RpcHead``              ``env.SVC.method(*args, **kwargs)``: a method of the entrypoint
``0x04``  ``ScheduledHead``        a cron trigger: the ``scheduled`` handler
``0x05``  ``QueueHead``            a batch of queue messages: the ``queue`` handler
``0x06``  ``DurableObjectHead``    a Durable Object's RPC or fetch, to the process owning it
``0x07``  reserved                 Durable Object alarms
``0x08``  ``WebSocketHead``        a WebSocket handshake; once accepted, messages both ways
``0x09``  ``ControlHead``          the CLI asking the edge daemon (status, deploy, trigger,
                                   delete, stop): ``op`` and the operation's fields, answered by
                                   a RESULT (``deploy/control.py``; no other kind is served there)
========  =======================  ==============================================================

Common head fields: ``trace`` (one id for a request and every call it makes, so tails line
up), ``caller`` (the calling worker's name), ``entrypoint`` (which ``WorkerEntrypoint``
class answers), ``deadline`` (unix seconds after which the caller no longer waits; a call
that arrives late is refused instead of run).

Fetch kinds are followed by the request body as ``DATA`` frames and one ``END`` frame, and
answered by a ``RESPONSE`` head (status, headers, ``buffered``), ``DATA`` frames and ``END``.
A ``buffered`` answer is complete before it is sent (it can be read in one go); otherwise it
streams chunk by chunk as the worker produces it. Other kinds are answered by one ``RESULT``
frame: ``[true, value]`` or ``[false, error type name, message]``, so an exception keeps its
type name across the hop.

Values that are not HTTP bodies (RPC arguments and results, queue message bodies) are CBOR
(RFC 8949, via ``cbor2``): bytes, datetimes, integers of any size, nested lists and maps
survive the trip, which JSON would not give.

A worker that will not run a call answers ``NOT_TAKEN`` (``0x22``, empty payload) instead:

========  ================  =================================================================
kind      answer            when
========  ================  =================================================================
``0x20``  ``ResponseHead``   the head of a fetch's answer
``0x21``  ``Result``         the answer to any other call
``0x22``  ``NOT_TAKEN``      the worker is draining or stopping and runs nothing more on this
                             connection; the connection closes after it. Sent only between
                             calls, so none of the call sent (or about to be sent) has run
========  ================  =================================================================

One call at a time per connection; connections are pooled and reused (``client``). A
connection is free for its next call once the answer is out, even while the handler goes on
(``ctx.waitUntil`` work); a drain waits for that work but declines the next call. Closing
a connection in the middle of a call cancels it: the worker sees its caller go away and
stops producing a stream nobody reads. ``server`` dispatches each head to the one handler
registered for its kind.

Delivery: the client sends a call again (on a fresh connection) only when it provably did
not reach a handler: a ``NOT_TAKEN`` answer (a reload drains the old process; the call goes
to the new one on the shared socket), a failed connect, or a send that failed at once. A
connection that closes after the call went out and before its answer began raises
``CallLost``: the worker may have run the call (it died mid-call), and Cloudflare never
replays a request into a worker that received it. A streamed request body that began to be
sent is never sent twice (``NotTaken`` then).
"""
