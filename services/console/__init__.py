"""The web console: the built front end, served with a strict CSP, and same-origin API access."""
