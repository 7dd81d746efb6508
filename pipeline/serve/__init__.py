"""``avatarforge serve``: a local web app that keeps the models loaded and makes avatars one at a time.

``config`` (ServeConfig), ``jobs`` (the FIFO queue and its one worker thread), ``files`` (what may be downloaded),
``work`` (one generation or batch as a job), ``app`` (the FastAPI routes) and ``static/`` (the page, with
three.js vendored by ``scripts/vendor_three.py``).
"""
