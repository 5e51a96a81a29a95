#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""A test SMTP server (aiosmtpd) that delivers every accepted message into the recipient's
Maildir under Dovecot's mail root, so a test can read it back over IMAP.

Started by `MailServers::start()` in loket-channels' `standin::mail`; never used in production.

- AUTH PLAIN/LOGIN is required (without TLS: the server only listens on 127.0.0.1); users and
  passwords come from Dovecot's passwd-file (`user:{PLAIN}password`).
- Unknown recipients get `550 5.1.1`; recipients whose local part starts with "tijdelijk" get
  `451 4.3.0` (to test retries).
- Prints "READY <port>" on stdout once it accepts connections; runs until killed or stdin closes.
"""

import argparse
import os
import socket
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def read_users(path):
    users = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            user, _, rest = line.partition(":")
            password = rest.split(":", 1)[0]
            if password.startswith("{PLAIN}"):
                password = password[len("{PLAIN}"):]
            users[user.lower()] = password
    return users


class Authenticator:
    def __init__(self, users):
        self.users = users

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace").lower()
        password = auth_data.password.decode("utf-8", "replace")
        return AuthResult(success=self.users.get(login) == password, handled=False)


class MaildirHandler:
    def __init__(self, root, users, uid, gid):
        self.root = root
        self.users = users
        self.uid = uid
        self.gid = gid
        self.counter = 0
        self.lock = threading.Lock()

    def _own(self, path):
        if self.uid is not None and os.geteuid() == 0:
            os.chown(path, self.uid, self.gid)

    def _mkdir(self, path):
        if not os.path.isdir(path):
            os.makedirs(path, exist_ok=True)
        self._own(path)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        addr = address.lower()
        if addr.split("@", 1)[0].startswith("tijdelijk"):
            return "451 4.3.0 Tijdelijk niet beschikbaar, probeer later opnieuw"
        if addr not in self.users:
            return "550 5.1.1 Onbekende ontvanger"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def deliver(self, rcpt, mail_from, content):
        user_dir = os.path.join(self.root, rcpt)
        maildir = os.path.join(user_dir, "Maildir")
        for d in (user_dir, maildir):
            self._mkdir(d)
        for sub in ("tmp", "new", "cur"):
            self._mkdir(os.path.join(maildir, sub))
        with self.lock:
            self.counter += 1
            n = self.counter
        name = "%d.M%dP%dQ%d.%s" % (
            int(time.time()), int(time.time() * 1e6) % 1000000, os.getpid(), n, socket.gethostname()
        )
        header = "Return-Path: <%s>\nDelivered-To: %s\n" % (mail_from, rcpt)
        data = header.encode("utf-8") + content.replace(b"\r\n", b"\n")
        tmp = os.path.join(maildir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(data)
        self._own(tmp)
        os.rename(tmp, os.path.join(maildir, "new", name))

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        for rcpt in envelope.rcpt_tos:
            self.deliver(rcpt.lower(), envelope.mail_from or "", content)
        return "250 2.0.0 Bericht afgeleverd"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mail-root", required=True)
    p.add_argument("--users", required=True)
    p.add_argument("--uid", type=int)
    p.add_argument("--gid", type=int)
    args = p.parse_args()

    users = read_users(args.users)
    handler = MaildirHandler(args.mail_root, users, args.uid, args.gid)
    controller = Controller(
        handler,
        hostname=args.host,
        port=args.port,
        authenticator=Authenticator(users),
        auth_required=True,
        auth_require_tls=False,
        server_hostname="smtp.loket.test",
    )
    controller.start()
    print("READY %d" % args.port, flush=True)
    try:
        # Until the parent closes our stdin (or kills us).
        while sys.stdin.read(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
