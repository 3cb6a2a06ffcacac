"""``python -m sarlang1m.cli``: the `sarlang1m` command."""

from . import main

main()
