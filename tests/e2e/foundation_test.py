"""End-to-end: byokd start/stop/status, TLS, routing and limits, with curl and openssl."""
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
import unittest

from harness import BYOK, BYOKD, ByokTestCase, Byokd, run


class ServerBasicsTest(ByokTestCase):

    def test_unknown_path_is_an_azure_error_with_request_id(self):
        r = self.check(self.curl("-i", "{url}/does-not-exist"))
        head, _, body = r.out.replace("\r\n", "\n").partition("\n\n")
        self.assertRegex(head, r"^HTTP/1.1 404", r.explain())
        self.assertRegex(head.lower(), r"x-ms-request-id: [0-9a-f-]{36}", r.explain())
        err = json.loads(body)["error"]
        self.assertTrue(err["code"], body)
        self.assertTrue(err["message"], body)

    def test_vault_host_names_complete_the_handshake(self):
        port = self.server.port
        r = self.check(run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{ssl_verify_result}",
                            "--cacert", self.server.ca, "--resolve",
                            "myvault.vault.localhost:{}:127.0.0.1".format(port),
                            "https://myvault.vault.localhost:{}/".format(port)]))
        code, verify = r.out.split()
        self.assertEqual(verify, "0", r.explain())
        self.assertNotEqual(code, "000", r.explain())

    def test_certificate_names(self):
        r = self.check(run(["openssl", "x509", "-in", self.server.ca, "-noout", "-subject"]))
        server_cert = os.path.join(self.data_dir, "tls", "server.crt")
        r = self.check(run(["openssl", "x509", "-in", server_cert, "-noout", "-ext",
                            "subjectAltName"]))
        for name in ["DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1",
                     "DNS:*.localhost", "DNS:*.vault.localhost"]:
            self.assertIn(name, r.out, r.explain())
        self.check(run(["openssl", "verify", "-CAfile", self.server.ca, server_cert]))

    def test_127_0_0_1_is_a_valid_name(self):
        self.check(self.curl("-o", "/dev/null", "{url}/x", host="127.0.0.1"))

    def test_no_h2_and_no_old_tls(self):
        r = self.check(self.curl("--http2", "-o", "/dev/null", "-w", "%{http_version}", "{url}/"))
        self.assertEqual(r.out, "1.1", r.explain())
        r = run(["curl", "-sS", "--cacert", self.server.ca, "--tlsv1.1", "--tls-max", "1.1",
                 "https://localhost:{}/".format(self.server.port)])
        self.assertNotEqual(r.code, 0, r.explain())

    def test_keep_alive_reuses_one_connection(self):
        url = "https://localhost:{}/a".format(self.server.port)
        r = self.check(run(["curl", "-sS", "-v", "--cacert", self.server.ca, "-o", "/dev/null",
                            url, "-o", "/dev/null", url]))
        self.assertIn("Re-using existing connection", r.err, r.explain())

    def test_ten_mib_body_is_refused_and_others_are_served(self):
        big = os.path.join(self.tmp, "big")
        with open(big, "wb") as f:
            f.write(os.urandom(10 * 1024 * 1024))
        r = self.check(self.curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT",
                                 "-H", "Content-Type: application/json",
                                 "--data-binary", "@" + big, "{url}/subscriptions/x"))
        self.assertEqual(r.out, "413", r.explain())
        r = self.check(self.curl("-o", "/dev/null", "-w", "%{http_code}", "{url}/y"))
        self.assertEqual(r.out, "404", r.explain())

    def _tls_socket(self):
        ctx = ssl.create_default_context(cafile=self.server.ca)
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        return ctx.wrap_socket(raw, server_hostname="localhost")

    def test_malformed_request_line_gets_400_and_close(self):
        s = self._tls_socket()
        s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 400"), data[:200])
        self.assertIn(b"x-ms-request-id", data.lower())

    def test_slow_loris_does_not_block_others_and_is_cut_off(self):
        s = self._tls_socket()
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        start = time.monotonic()
        # Another client is served while the slow one dribbles.
        for _ in range(3):
            r = self.check(self.curl("-o", "/dev/null", "-w", "%{http_code}", "{url}/z"))
            self.assertEqual(r.out, "404", r.explain())
        closed = False
        s.settimeout(1)
        while time.monotonic() - start < 25:
            try:
                s.sendall(b"X-Drip: 1\r\n")
                chunk = s.recv(4096)
                if chunk == b"" or chunk.startswith(b"HTTP/1.1 408"):
                    closed = True
                    break
            except socket.timeout:
                continue
            except (ConnectionError, ssl.SSLError, OSError):
                closed = True
                break
        self.assertTrue(closed, "a slow-loris connection stayed open for 25 s")
        self.assertLess(time.monotonic() - start, 20)

    def test_access_log_has_no_secrets(self):
        self.check(self.curl("-o", "/dev/null", "-H", "Authorization: Bearer SECRET-TOKEN-123",
                             "{url}/subscriptions?client_secret=SECRET-QUERY-456"))
        time.sleep(0.2)
        log = "\n".join(self.server.stderr_lines)
        self.assertIn("/subscriptions", log)
        self.assertNotIn("SECRET-TOKEN-123", log)
        self.assertNotIn("SECRET-QUERY-456", log)


class LifecycleTest(ByokTestCase):

    def byok(self, *args, **kw):
        return run([BYOK, *args, "--data-dir", self.data_dir], **kw)

    def test_status_env_stop(self):
        r = self.check(self.byok("status"))
        self.assertIn("https://127.0.0.1:{}".format(self.server.port), r.out, r.explain())

        r = self.check(self.byok("env"))
        lines = [l for l in r.out.splitlines() if l.strip()]
        self.assertTrue(all(l.startswith("export ") for l in lines), r.explain())
        r = self.check(run(["bash", "-c", 'eval "$({} env --data-dir {})"; '
                            'echo "$REQUESTS_CA_BUNDLE|$SSL_CERT_FILE"'.format(BYOK, self.data_dir)]))
        self.assertEqual(r.out.strip(), "{0}|{0}".format(self.server.ca), r.explain())

        r = self.check(self.byok("stop"))
        self.assertEqual(self.server.proc.wait(30), 0, self.server.output())
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, "server.json")))
        r = self.check(self.byok("status"), code=3)

    def test_second_server_on_same_data_dir_refuses(self):
        r = run([BYOKD, "--data-dir", self.data_dir, "--listen", "127.0.0.1:0"], timeout=60)
        self.assertNotEqual(r.code, 0, r.explain())
        self.assertIn("already running", r.err, r.explain())

    def test_sigterm_exits_zero_and_restart_keeps_ca(self):
        with open(self.server.ca) as f:
            ca_before = f.read()
        self.assertEqual(self.server.stop(signal.SIGTERM), 0, self.server.output())
        self.server = Byokd(self.data_dir)
        with open(self.server.ca) as f:
            self.assertEqual(f.read(), ca_before)
        self.assertEqual(self.server.stop(signal.SIGINT), 0, self.server.output())

    def test_status_after_sigkill_is_3(self):
        self.server.stop(signal.SIGKILL)
        r = self.check(self.byok("status"), code=3)
        self.assertIn("not running", r.out + r.err, r.explain())
        # And a new server starts on the same directory (the lock died with the process).
        self.server = Byokd(self.data_dir)
        self.check(self.byok("status"))

    def test_root_key_and_secrets_are_private(self):
        st = os.stat(os.path.join(self.data_dir, "root.key"))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        st = os.stat(self.data_dir)
        self.assertEqual(st.st_mode & 0o077, 0)
        # No private key lies in the data directory in the clear.
        for root, _, files in os.walk(self.data_dir):
            for name in files:
                path = os.path.join(root, name)
                if not os.path.isfile(path):  # the NBD server's unix socket
                    continue
                with open(path, "rb") as f:
                    self.assertNotIn(b"PRIVATE KEY", f.read(), name)

    def test_help_everywhere(self):
        for args in (["--help"], ["serve", "--help"], ["stop", "--help"], ["status", "--help"],
                     ["env", "--help"]):
            r = self.check(run([BYOK, *args]))
            self.assertIn("--data-dir" if args != ["--help"] else "status", r.out, r.explain())
        self.check(run([BYOKD, "--help"]))


if __name__ == "__main__":
    unittest.main()
