"""The ASGI application for uvicorn or any other server: ``uvicorn govshare.asgi:app``."""

from govshare.app import create_app

app = create_app()
