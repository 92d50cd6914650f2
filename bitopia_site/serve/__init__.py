"""The dev server: build into a folder of its own, serve it, watch the site, live reload."""

from bitopia_site.serve.server import DevServer, inject_livereload

__all__ = ["DevServer", "inject_livereload"]
