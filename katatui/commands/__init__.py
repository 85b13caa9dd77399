"""Subcommands of the ``katatui`` CLI, one module each.

Each module exposes ``add_parser(subparsers)`` which registers its parser and sets
``func=run`` where ``run(args: argparse.Namespace) -> int`` returns the exit status.
"""
