"""The ASGI application for uvicorn or any other server: ``uvicorn govshare.asgi:app``."""

from govshare.app import create_app

app = create_app(worker=True)  # the worker loop runs in-process where the settings say so (SQLite by default)
