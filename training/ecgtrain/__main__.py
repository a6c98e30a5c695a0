"""`python -m ecgtrain`: the command-line entry."""

from .cli import main

main()
