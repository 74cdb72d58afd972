"""`python -m bot` is the `firststep` command (pyproject's console script calls main)."""

import gc


def main() -> None:
    # Start-up makes a few hundred thousand objects (modules, classes, tables) that live
    # as long as the process; the collector walking them again and again while they are
    # made was about a sixth of `firststep run`'s start-up (issue 16). It is off while
    # the command line loads; `run` keeps it off until the bot is ready (bot.cli.run).
    gc.disable()
    try:
        from bot.cli import main as cli_main
    finally:
        gc.enable()
    cli_main()


if __name__ == "__main__":
    main()
