"""Email: Jinja2 rendering, message building, send providers."""
