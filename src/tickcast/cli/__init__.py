"""The `tickcast` command line: one Typer app over the step functions."""
