#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and plays a script of keys to it.

Usage: pty_run.py COLS ROWS STEPS_JSON -- COMMAND ARGS...

STEPS_JSON is a list of steps, each ["expect", TEXT] (wait until TEXT
appears in what the command wrote since the last step, then until it has
been quiet for a moment: the screen is drawn) or ["send", KEYS] (write KEYS
to the terminal, e.g. "\x1b[B" for down, "\r" for Enter, "\x1b" for Esc).

Prints one JSON object: "screens", what the command wrote during each
expect step (escape sequences and carriage returns removed), "rest", what
it wrote after the last step, and "status", its exit status (128 + the
signal when a signal ended it, as a shell reports it). A step that waits
more than 60 s fails the run: "failed" names it.
"""

import fcntl
import json
import os
import pty
import re
import select
import struct
import sys
import termios
import time

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>78]")
QUIET = 0.4
WAIT = 60.0


def plain(data):
    """The text a person reads: no escape sequences, no carriage returns."""
    return ESCAPES.sub("", data.decode("utf-8", "replace")).replace("\r", "")


def read_some(fd, timeout):
    """Bytes the command wrote within timeout; b"" when none; None at its end."""
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return b""
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the command closed the terminal
        return None
    return data if data else None


def expect(fd, text):
    """What the command writes until text appears and it falls quiet."""
    seen = b""
    deadline = time.monotonic() + WAIT
    while text not in plain(seen):
        if time.monotonic() > deadline:
            return seen, False
        data = read_some(fd, 0.2)
        if data is None:
            return seen, text in plain(seen)
        seen += data
    while True:
        data = read_some(fd, QUIET)
        if not data:
            return seen, True
        seen += data


def main():
    cols, rows, steps = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    command = sys.argv[sys.argv.index("--") + 1 :]
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.execvp(command[0], command)
    screens, failed = [], None
    for kind, text in steps:
        if kind == "send":
            os.write(fd, text.encode())
            continue
        seen, found = expect(fd, text)
        screens.append(plain(seen))
        if not found:
            failed = f"expected {text!r}, saw {plain(seen)!r}"
            break
    rest = b""
    while failed is None:
        data = read_some(fd, WAIT)
        if not data:
            break
        rest += data
    if failed is not None:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({
        "screens": screens,
        "rest": plain(rest),
        "status": 128 - code if code < 0 else code,
        "failed": failed,
    }))


main()
