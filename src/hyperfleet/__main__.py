"""`python -m hyperfleet` runs the CLI."""

from hyperfleet.cli.main import main

main()
