"""Shared helpers for byok's end-to-end tests.

Each test starts its own byokd on a fresh data directory and port 0, drives it with real
clients (curl, openssl, later az and kubectl) and, when a client fails, shows the client's own
output in the assertion message.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

BYOKD = os.environ.get("BYOKD", "byokd")
BYOK = os.environ.get("BYOK", "byok")


class Run:
    """A finished client command: exit code and output."""

    def __init__(self, argv, proc):
        self.argv = argv
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def explain(self):
        return "command: {}\nexit: {}\nstdout:\n{}\nstderr:\n{}".format(
            " ".join(self.argv), self.code, self.out, self.err)


def run(argv, timeout=120, env=None, input=None):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                          input=input)
    return Run(argv, proc)


class Byokd:
    """A byokd child process on its own data directory."""

    def __init__(self, data_dir, extra=()):
        self.data_dir = data_dir
        self.argv = [BYOKD, "--data-dir", data_dir, "--listen", "127.0.0.1:0",
                     "--log-level", "info", *extra]
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.stdout_lines = []
        self.stderr_lines = []
        self._ready = threading.Event()
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout_lines, True),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines, False),
                         daemon=True).start()
        if not self._ready.wait(60):
            self.kill()
            raise AssertionError("byokd did not start:\n" + self.output())
        text = "\n".join(self.stdout_lines)
        m = re.search(r"listening on https://([^:\s]+):(\d+)", text)
        c = re.search(r"^ca: (.+)$", text, re.M)
        if not m or not c:
            raise AssertionError("byokd start lines missing:\n" + self.output())
        self.host, self.port, self.ca = m.group(1), int(m.group(2)), c.group(1).strip()
        self.url = "https://localhost:{}".format(self.port)

    def _pump(self, stream, sink, is_stdout):
        for line in stream:
            sink.append(line.rstrip("\n"))
            if is_stdout and line.startswith("ca: "):
                self._ready.set()
        if is_stdout:
            self._ready.set()

    def output(self):
        return "byokd stdout:\n{}\nbyokd stderr:\n{}".format(
            "\n".join(self.stdout_lines), "\n".join(self.stderr_lines[-200:]))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("byokd did not exit after signal {}\n{}".format(sig, self.output()))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except Exception:
                pass


class ByokTestCase(unittest.TestCase):
    """Gives each test a temp dir and a running byokd (self.server)."""

    start_server = True

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="byok-e2e-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.server = Byokd(self.data_dir) if self.start_server else None

    def tearDown(self):
        if self.server:
            self.server.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def check(self, r, code=0):
        """Asserts a client's exit code, printing its own output when it differs."""
        server_out = self.server.output() if self.server else ""
        self.assertEqual(r.code, code, r.explain() + "\n" + server_out)
        return r

    def curl(self, *args, host="localhost"):
        url_args = [a.replace("{url}", "https://{}:{}".format(host, self.server.port))
                    for a in args]
        return run(["curl", "-sS", "--cacert", self.server.ca, *url_args])
