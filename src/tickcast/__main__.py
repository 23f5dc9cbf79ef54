"""`python -m tickcast` runs the CLI."""

from tickcast.cli.app import main

main()
