"""`python -m exchange` runs the command-line tool."""

from exchange.cli import main

main()
