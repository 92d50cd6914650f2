"""`python -m bitopia_site` runs the command line."""

from bitopia_site.cli import run

run()
