"""Shared helpers for byok's end-to-end tests.

Each test starts its own byokd on a fresh data directory and port 0, drives it with real
clients (curl, openssl, later az and kubectl) and, when a client fails, shows the client's own
output in the assertion message.
"""
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

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

    def __init__(self, data_dir, extra=(), listen="127.0.0.1:0", nbd_listen="127.0.0.1:0"):
        self.data_dir = data_dir
        self.argv = [BYOKD, "--data-dir", data_dir, "--listen", listen,
                     "--nbd-listen", nbd_listen, "--log-level", "info", *extra]
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
        # The NBD server of attached disks ("nbd: nbd://HOST:PORT", "nbd socket: PATH").
        n = re.search(r"^nbd: nbd://(\S+):(\d+)$", text, re.M)
        u = re.search(r"^nbd socket: (.+)$", text, re.M)
        self.nbd_port = int(n.group(2)) if n else None
        self.nbd_socket = u.group(1).strip() if u else None

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


# --- Shared servers and HTTP helpers ----------------------------------------------------------

class ByokServerTestCase(unittest.TestCase):
    """One byokd (cls.server) and temp dir (cls.tmp) for the whole class: for slow clients like
    az, where a server and a login per test would not fit the time budget."""

    server = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="byok-e2e-")
        cls.data_dir = os.path.join(cls.tmp, "data")
        cls.server = Byokd(cls.data_dir)

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.kill()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check(self, r, code=0):
        """Asserts a client's exit code, printing its own output when it differs."""
        self.assertEqual(r.code, code, r.explain() + "\n" + self.server.output())
        return r

    def check_fails(self, r, needle):
        """Asserts a client failed and its output says `needle` (e.g. an Azure error code)."""
        self.assertNotEqual(r.code, 0, "expected a failure\n" + r.explain())
        self.assertIn(needle, r.out + r.err, r.explain())
        return r


def credentials(data_dir):
    """The bootstrap credentials byokd wrote at first start:
    {"tenant","subscription","appId","password","objectId","displayName"}."""
    with open(os.path.join(data_dir, "credentials.json")) as f:
        return json.load(f)


def create_service_principal(data_dir, name=None):
    """`byok sp create`: {"appId","password","tenant","objectId","displayName"}."""
    argv = [BYOK, "sp", "create", "--data-dir", data_dir]
    if name:
        argv += ["--display-name", name]
    r = run(argv)
    if r.code != 0:
        raise AssertionError("byok sp create failed\n" + r.explain())
    return json.loads(r.out)


class HttpResult:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # an email.message.Message: case-insensitive get()
        self.body = body

    def json(self):
        return json.loads(self.body)

    def explain(self):
        return "HTTP {}\n{}\n{}".format(self.status, self.headers, self.body)


def https(server, method, path, headers=None, body=None, host="localhost", timeout=60):
    """One HTTPS request to the server (trusting its CA). Never raises for HTTP error statuses."""
    ctx = ssl.create_default_context(cafile=server.ca)
    url = "https://{}:{}{}".format(host, server.port, path)
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=timeout) as resp:
            return HttpResult(resp.status, resp.headers, resp.read().decode())
    except urllib.error.HTTPError as e:
        return HttpResult(e.code, e.headers, e.read().decode())


def client_credentials_token(server, client_id, secret,
                             scope="https://management.core.windows.net//.default"):
    """An access token from the ADFS-style token endpoint, as MSAL asks for it."""
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id,
                                   "client_secret": secret, "scope": scope})
    r = https(server, "POST", "/adfs/oauth2/token",
              {"Content-Type": "application/x-www-form-urlencoded"}, form)
    if r.status != 200:
        raise AssertionError("token request failed\n" + r.explain())
    return r.json()["access_token"]


# --- The real Azure CLI -----------------------------------------------------------------------

AZ = os.environ.get("AZ", "/usr/bin/az")
_EXPORT = re.compile(r"^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def parse_exports(text):
    """Parses `export K='v'` lines (as byok prints them) into a dict. Every line must be one."""
    env = {}
    for line in text.splitlines():
        m = _EXPORT.match(line)
        if not m:
            raise ValueError("not an export line: {!r}".format(line))
        value = m.group(2)
        if not (len(value) >= 2 and value[0] == "'" and value[-1] == "'"):
            raise ValueError("export value not single-quoted: {!r}".format(line))
        env[m.group(1)] = value[1:-1].replace("'\\''", "'")
    return env


class AzureCli:
    """The Debian Azure CLI pointed at a byokd by `byok azure-cli setup`, with its own config dir
    and HOME (never the user's ~/.azure)."""

    def __init__(self, server, data_dir, base_dir, name="az"):
        self.server = server
        self.data_dir = data_dir
        self.config_dir = os.path.join(base_dir, name + "-config")
        self.home = os.path.join(base_dir, name + "-home")
        os.makedirs(self.home, exist_ok=True)
        self.setup_run = None
        self.exports = {}
        self.env = None

    def base_env(self):
        env = dict(os.environ)
        env["HOME"] = self.home
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def setup(self):
        """Runs `byok azure-cli setup` and adopts its exports. Returns the Run."""
        argv = [BYOK, "azure-cli", "setup", "--data-dir", self.data_dir,
                "--config-dir", self.config_dir]
        r = run(argv, timeout=300, env=self.base_env())
        self.setup_run = r
        if r.code == 0:
            self.exports = parse_exports(r.out)
            self.env = self.base_env()
            self.env.update(self.exports)
        return r

    def az(self, *args, timeout=180, input=None):
        """Runs az with this environment; returns the Run (stdout, stderr, exit code)."""
        if self.env is None:
            raise AssertionError("AzureCli.setup() did not succeed:\n" +
                                 (self.setup_run.explain() if self.setup_run else "not run"))
        return run([AZ, *args], timeout=timeout, env=self.env, input=input)

    def az_json(self, *args):
        """Runs az with -o json; returns the parsed output (raises with az's output on failure)."""
        r = self.az(*args, "-o", "json")
        if r.code != 0:
            raise AssertionError(r.explain() + "\n" + self.server.output())
        return json.loads(r.out) if r.out.strip() else None

    def login_service_principal(self, app_id, password, tenant, allow_no_subscriptions=False):
        """Logs this config dir in as another principal (the secret goes through a 0600 file)."""
        fd, path = tempfile.mkstemp(dir=self.home)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(password)
            argv = ["login", "--service-principal", "-u", app_id, "-p", "@" + path,
                    "--tenant", tenant, "-o", "none"]
            if allow_no_subscriptions:
                argv.append("--allow-no-subscriptions")
            return self.az(*argv)
        finally:
            os.unlink(path)


class AzureCliTestCase(ByokServerTestCase):
    """A ByokServerTestCase with the real Azure CLI logged in to the class's byokd (cls.cli,
    cls.creds, cls.sub) and resources made once per class by set_up_az(), each command through
    cls.step(): the first failure ends the chain, and setUp then fails every test with that
    command's own output."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.creds = credentials(cls.data_dir)
        cls.sub = cls.creds["subscription"]
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()
        cls.steps = []
        if cls.cli.env is not None:
            cls.set_up_az()

    @classmethod
    def set_up_az(cls):
        """The class's resources (override); every command goes through cls.step."""

    @classmethod
    def step(cls, r):
        """Records a set-up command; True if it succeeded."""
        cls.steps.append(r)
        return r.code == 0

    def setUp(self):
        self.check(self.cli.setup_run)
        for r in self.steps:
            self.check(r)

    @classmethod
    def create_customer_key_des(cls, rg, vault, des, location):
        """The seed's customer-key set-up in `rg`: a purge-protected vault with an RSA key "cmk",
        a disk encryption set on it, and an access policy letting the set's identity get, wrap
        and unwrap with the key. True if every command succeeded."""
        az = cls.cli.az
        ok = cls.step(az("keyvault", "create", "--name", vault, "--resource-group", rg,
                         "--location", location, "--enable-purge-protection", "true",
                         "-o", "none"))
        ok = ok and cls.step(az("keyvault", "key", "create", "--vault-name", vault, "--name",
                                "cmk", "--protection", "software", "-o", "none"))
        if not ok:
            return False
        vault_id = az("keyvault", "show", "--name", vault, "--query", "[id]", "-o", "tsv")
        key_url = az("keyvault", "key", "show", "--vault-name", vault, "--name", "cmk",
                     "--query", "[key.kid]", "-o", "tsv")
        ok = cls.step(vault_id) and cls.step(key_url)
        ok = ok and cls.step(az("disk-encryption-set", "create", "--name", des, "--location",
                                location, "--resource-group", rg, "--source-vault",
                                vault_id.out.strip(), "--key-url", key_url.out.strip(),
                                "-o", "none"))
        if not ok:
            return False
        des_identity = az("disk-encryption-set", "show", "--name", des, "--resource-group", rg,
                          "--query", "[identity.principalId]", "-o", "tsv")
        return cls.step(des_identity) and cls.step(
            az("keyvault", "set-policy", "--name", vault, "--resource-group", rg, "--object-id",
               des_identity.out.strip(), "--key-permissions", "wrapkey", "unwrapkey", "get",
               "-o", "none"))

    @classmethod
    def create_aks_cluster(cls, rg, cluster, location):
        """A one-node AKS cluster and its credentials (`az aks get-credentials`) in the
        KUBECONFIG of cls.kube_env. True if both commands succeeded."""
        cls.kube_env = dict(cls.cli.env)
        cls.kube_env["KUBECONFIG"] = os.path.join(cls.tmp, "kube", "config")
        ok = cls.step(cls.cli.az("aks", "create", "--name", cluster, "--resource-group", rg,
                                 "--location", location, "--node-count", "1",
                                 "--generate-ssh-keys", "-o", "none", timeout=600))
        return ok and cls.step(run([AZ, "aks", "get-credentials", "--name", cluster,
                                    "--resource-group", rg], timeout=180, env=cls.kube_env))
