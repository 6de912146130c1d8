"""`python -m hyperfleet` runs the CLI."""

from hyperfleet.cli.entry import main

main()
