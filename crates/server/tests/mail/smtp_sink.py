"""An SMTP server for the e-mail channel tests (aiosmtpd, from PyPI).

Listens on a free port of 127.0.0.1 (another, when another process takes the one picked
first), asks for a login (USER and PASSWORD below), and writes each message it takes to FOLDER
as NNNN.eml, with NNNN.json beside it naming the envelope's sender and
recipients. The .eml is renamed into place last, so a reader never sees half a message. Prints
the port once it listens; stops when its standard input closes.

    python smtp_sink.py FOLDER USER PASSWORD [CERT KEY]

With CERT and KEY it offers STARTTLS and takes nothing before it.
"""

import json
import logging
import os
import pathlib
import socket
import ssl
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        stem = self.folder / f"{self.count:04}"
        meta = {"from": envelope.mail_from, "to": envelope.rcpt_tos}
        stem.with_suffix(".json").write_text(json.dumps(meta))
        partial = stem.with_suffix(".part")
        partial.write_bytes(envelope.original_content)
        os.replace(partial, stem.with_suffix(".eml"))
        return "250 Message accepted"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return check


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    # Login without TLS is what a loopback test server is for; the warning says so each time.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    folder, user, password = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    tls = {}
    if len(sys.argv) == 6:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[4], sys.argv[5])
        tls = {"tls_context": context, "require_starttls": True}
    for attempt in range(5):
        port = free_port()
        controller = Controller(
            Sink(folder),
            hostname="127.0.0.1",
            port=port,
            authenticator=authenticator(user, password),
            auth_required=True,
            auth_require_tls=False,
            **tls,
        )
        try:
            controller.start()
            break
        except Exception:
            if attempt == 4:
                raise
    print(port, flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
