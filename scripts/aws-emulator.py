"""The AWS API emulator for tests: moto's server, answering one request at a time.

moto keeps no locks, so with a threaded server two conditional writes racing for one item can
both succeed, which DynamoDB never allows. Serving requests one by one gives the emulator the
per-item atomicity the adapters rely on. Usage: aws-emulator.py HOST PORT
"""

import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
