"""The one worker host, shared by ``dev`` (``wranglerpy.supervisor``) and the local edge
(``wranglerpy.deploy``): worker processes and their pools, spares, sockets and crons.
See README.md in this folder."""
