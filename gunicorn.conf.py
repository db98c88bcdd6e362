"""gunicorn reads this file from the working directory (`make run`, the benchmark).

Each worker starts the app's search indexer thread and job runner; a lock in
SEARCH_INDEX_DIR (JOBS_DIR) lets one of them follow the search journal (run jobs) at a
time, and another takes over if that one dies.
"""

from __future__ import annotations

import os
from typing import Any

import gunicorn.http.wsgi

# Files the server creates (the database, the search index, instance/secret-key) are
# readable by their owner only. gunicorn's own `umask` setting covers only its sockets.
os.umask(0o077)

# gunicorn has no setting for its `Server: gunicorn` header; its responses read the name
# from this module, so an empty one announces no server software.
gunicorn.http.wsgi.SERVER = ""


def post_worker_init(worker: Any) -> None:
    from flask import Flask

    from casestudies.indexing import start_follower
    from casestudies.jobs import start_runner

    if isinstance(worker.wsgi, Flask):
        start_follower(worker.wsgi)
        start_runner(worker.wsgi)


def worker_exit(_server: Any, worker: Any) -> None:
    from flask import Flask

    from casestudies.indexing import stop_follower
    from casestudies.jobs import stop_runner

    if isinstance(getattr(worker, "wsgi", None), Flask):
        stop_follower(worker.wsgi)
        stop_runner(worker.wsgi)


# gunicorn 27 opens a control socket at one path in the home directory by default, so two
# servers on one machine (two PORTs, two SEARCH_INDEX_DIRs) would collide: none is needed.
control_socket_disable = True
