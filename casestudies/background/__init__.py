"""Background work, in a process of its own beside the web workers (one per server).

The process (process.py; `flask background` or `python -m casestudies.background`) runs
this server's search indexer (casestudies/indexing/follower.py), its job runner
(casestudies/jobs/runner.py) and a warm PDF renderer (casestudies/guides/warm.py).
gunicorn's arbiter starts it and starts it again if it dies (supervisor.py, from
gunicorn.conf.py); web workers never index and never run jobs. Each of the two loops
holds its server lock while it works (lock.py), so a second background process on the
same server waits instead of doing the work twice; both wait on watch.py between passes.
"""
