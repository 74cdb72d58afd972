"""`python -m bot` is the `firststep` command."""

from bot.cli import main

main()
