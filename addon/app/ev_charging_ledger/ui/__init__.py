"""Templates (Jinja2), static files and server-rendered SVG charts of the web UI."""
