"""The web app (FastAPI): server-rendered pages and a JSON API over the same services."""
