"""``python -m orderscope``: the command line."""

from orderscope.cli import main

main()
