"""bitopia_site: a static site generator for blogs."""

__version__ = "0.1.0"
