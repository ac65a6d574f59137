"""`python -m dynastore` runs the command line."""

from dynastore.cli import main

main()
