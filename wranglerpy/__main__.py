"""``python -m wranglerpy``: the same as the ``wranglerpy`` command."""

from wranglerpy.cli.main import run

run()
