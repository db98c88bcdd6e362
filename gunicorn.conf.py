"""gunicorn reads this file from the working directory (`make run`, the benchmark).

The arbiter starts this server's background process (the search indexer, the job runner,
a warm PDF renderer: casestudies/background/) when it is ready, starts it again if it
dies, and stops it on exit. Web workers only answer requests: they never index and never
run jobs.
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


def when_ready(server: Any) -> None:
    from casestudies.background.supervisor import Supervisor

    if os.environ.get("EVERY_SEAT_BACKGROUND", "") == "separate":
        server.log.info("The background process runs separately (EVERY_SEAT_BACKGROUND=separate)")
        return

    server.every_seat_background = Supervisor(getattr(server.app, "app_uri", None) or "app:create_app()", server.log)
    server.every_seat_background.start()


def on_reload(server: Any) -> None:
    supervisor = getattr(server, "every_seat_background", None)
    if supervisor is not None:
        supervisor.restart()


def on_exit(server: Any) -> None:
    supervisor = getattr(server, "every_seat_background", None)
    if supervisor is not None:
        supervisor.stop()


# gunicorn 27 opens a control socket at one path in the home directory by default, so two
# servers on one machine (two PORTs, two SEARCH_INDEX_DIRs) would collide: none is needed.
control_socket_disable = True
