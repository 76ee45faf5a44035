"""The interactive API documentation at /docs (Swagger UI) and /redoc (ReDoc), served whole by
the gateway: pages, scripts, styles and icon, so both render on a network with no way out."""
