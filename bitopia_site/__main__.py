"""`python -m bitopia_site` runs the command line."""

from bitopia_site.cli import main

main()
