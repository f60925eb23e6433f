"""The web server: sign-in, roles, sessions, CSRF, the shared page assets, OpenAPI."""
