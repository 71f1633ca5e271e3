"""End-to-end: the disk data path. Managed disks created with the real Azure CLI (Key Vault with
purge protection, a disk encryption set whose identity has get/wrapKey/unwrapKey, a
customer-key disk), attached with `byok disk attach` and driven by real NBD clients (qemu-io,
qemu-img, nbdinfo, fio's nbd engine, nbdfuse): data round trip, no plaintext in the raw file,
restart, detach, guessed exports, an independent decryption (openssl + python3-cryptography's
AES-XTS) of a raw sector, double encryption, a SIGKILL during a flushed write workload, and a
file system over nbdfuse where FUSE works.

az is slow (1-4 s per command), so the class shares one server and one login.
"""
import base64
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BYOK, AzureCli, Byokd, ByokServerTestCase, run

LOCATION = "westeurope"
URI = re.compile(r"^nbd://127\.0\.0\.1:(\d+)/([A-Za-z0-9_-]{43})$")
UNIX_URI = re.compile(r"^nbd\+unix:///([A-Za-z0-9_-]{43})\?socket=(.+)$")
GiB = 1 << 30
CUSTOMER = "EncryptionAtRestWithCustomerKey"
DOUBLE = "EncryptionAtRestWithPlatformAndCustomerKeys"


def byok(*args, timeout=120):
    return run([BYOK, *args], timeout=timeout)


def allocated_segments(path):
    """(offset, length) of the data segments of a sparse file (SEEK_DATA/SEEK_HOLE)."""
    out = []
    with open(path, "rb") as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        pos = 0
        while pos < size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            out.append((data, hole - data))
            pos = hole
    return out


def raw_contains(path, needles):
    """Which of `needles` (bytes) occur anywhere in the allocated parts of the raw file."""
    found = set()
    longest = max(len(n) for n in needles)
    with open(path, "rb") as f:
        for off, length in allocated_segments(path):
            f.seek(off)
            tail = b""
            left = length
            while left > 0:
                chunk = f.read(min(left, 8 << 20))
                if not chunk:
                    break
                left -= len(chunk)
                buf = tail + chunk
                for n in needles:
                    if n in buf:
                        found.add(n)
                tail = buf[-(longest - 1):] if longest > 1 else b""
    return found


class QemuIoSession:
    """One long-lived NBD connection: qemu-io reading commands from a pipe."""

    PROMPT = b"qemu-io> "

    def __init__(self, uri):
        self.uri = uri
        self.proc = subprocess.Popen(["qemu-io", "-f", "raw", uri], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.buf = b""
        self.opened = self._until_prompt(30)

    def _until_prompt(self, timeout):
        deadline = time.time() + timeout
        fd = self.proc.stdout.fileno()
        while not self.buf.endswith(self.PROMPT):
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("qemu-io did not answer: " + self.buf.decode(errors="replace"))
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:  # exited
                break
            self.buf += chunk
        text = self.buf.decode(errors="replace")
        self.buf = b""
        return text[:-len(self.PROMPT)] if text.endswith(self.PROMPT.decode()) else text

    def cmd(self, line, timeout=60):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        return self._until_prompt(timeout)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.flush()
                self.proc.wait(10)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except Exception:
                pass


class DiskCase(ByokServerTestCase):
    """One server, the bootstrap principal logged in, a resource group, a purge-protected vault
    with an RSA key, and helpers for disk encryption sets, disks and NBD clients."""

    rg = "rg-disks"
    vault = "kv-disks-e2e"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()
        cls.prepare_error = None
        if cls.cli.env is None:
            return
        try:
            cls.az("group", "create", "-n", cls.rg, "-l", LOCATION)
            vault = cls.az("keyvault", "create", "--name", cls.vault, "--resource-group", cls.rg,
                           "--location", LOCATION, "--enable-purge-protection", "true")
            cls.vault_id = vault["id"]
            cls.prepare()
        except AssertionError as e:
            cls.prepare_error = str(e)

    @classmethod
    def prepare(cls):
        pass

    def setUp(self):
        self.check(self.cli.setup_run)
        if self.prepare_error:
            self.fail("class setup failed:\n" + self.prepare_error)

    # --- az ---

    @classmethod
    def az(cls, *args):
        return cls.cli.az_json(*args)

    @classmethod
    def create_key(cls, name, *extra):
        return cls.az("keyvault", "key", "create", "--vault-name", cls.vault, "-n", name,
                      "--kty", "RSA", "--size", "2048", *extra)["key"]["kid"]

    @classmethod
    def create_des(cls, name, key_url, encryption_type=CUSTOMER):
        """A disk encryption set on key_url whose identity may get/wrap/unwrap: (id, principal)."""
        des = cls.az("disk-encryption-set", "create", "--name", name, "--location", LOCATION,
                     "--resource-group", cls.rg, "--source-vault", cls.vault_id, "--key-url",
                     key_url, "--encryption-type", encryption_type)
        principal = des["identity"]["principalId"]
        cls.az("keyvault", "set-policy", "--name", cls.vault, "--object-id", principal,
               "--key-permissions", "wrapkey", "unwrapkey", "get")
        return des["id"], principal

    @classmethod
    def create_disk(cls, name, des, encryption_type=CUSTOMER, size_gb=4):
        disk = cls.az("disk", "create", "--resource-group", cls.rg, "--name", name, "--size-gb",
                      str(size_gb), "--location", LOCATION, "--disk-encryption-set", des,
                      "--encryption-type", encryption_type)
        return disk["id"]

    def disk_show(self, disk_id):
        return self.az("disk", "show", "--ids", disk_id)

    # --- byok disk ---

    def attach(self, disk_id, unix=False):
        argv = ["disk", "attach", "--data-dir", self.data_dir, disk_id]
        if unix:
            argv.append("--unix")
        r = self.check(byok(*argv))
        lines = r.out.splitlines()
        self.assertEqual(len(lines), 1, r.explain())
        self.assertRegex(lines[0], UNIX_URI if unix else URI, r.explain())
        return lines[0]

    def detach(self, disk_id):
        return self.check(byok("disk", "detach", "--data-dir", self.data_dir, disk_id))

    def inspect(self, disk_id, pattern=None):
        argv = ["disk", "inspect", "--data-dir", self.data_dir, disk_id, "--json"]
        if pattern is not None:
            argv += ["--pattern", pattern]
        return json.loads(self.check(byok(*argv)).out)

    # --- NBD clients ---

    def qemu_io(self, uri, *commands, ok=True):
        argv = ["qemu-io", "-f", "raw"]
        for c in commands:
            argv += ["-c", c]
        r = run(argv + [uri], timeout=300)
        failed = r.code != 0 or re.search(r"failed|error|Pattern verification", r.out + r.err,
                                          re.I)
        if ok:
            self.assertFalse(failed, r.explain() + "\n" + self.server.output())
        return r

    def read_bytes(self, uri, offset, length):
        """The bytes at [offset, offset + length) through NBD (qemu-io's hex dump)."""
        r = self.qemu_io(uri, "read -v {} {}".format(offset, length))
        data = bytearray()
        for line in r.out.splitlines():
            m = re.match(r"^[0-9a-f]{8}:  ((?:[0-9a-f]{2} ){1,16})", line)
            if m:
                data += bytes.fromhex(m.group(1).replace(" ", ""))
        self.assertEqual(len(data), length, r.explain())
        return bytes(data)

    def session(self, uri):
        s = QemuIoSession(uri)
        self.addCleanup(s.close)
        self.assertNotIn("can't open", s.opened, s.opened)
        return s

    def restart(self, sig=signal.SIGTERM):
        """Restarts byokd on the same data directory and ports (the same az cloud, same URIs)."""
        cls = type(self)
        old = cls.server
        if sig != signal.SIGKILL:
            old.stop(sig)
        old.kill()  # (after a stop: closes its pipes)
        cls.server = Byokd(self.data_dir, listen="127.0.0.1:{}".format(old.port),
                           nbd_listen="127.0.0.1:{}".format(old.nbd_port))
        cls.cli.server = cls.server
        return cls.server


class DiskNbdTest(DiskCase):

    @classmethod
    def prepare(cls):
        cls.kid = cls.create_key("disk-key")
        cls.des_id, cls.des_principal = cls.create_des("des1", cls.kid)

    def test_round_trip_no_plaintext_restart_and_detach(self):
        disk_id = self.create_disk("disk1", "des1")
        shown = self.disk_show(disk_id)
        self.assertEqual(shown["diskState"], "Unattached", shown)
        uri = self.attach(disk_id)
        port, export = URI.match(uri).groups()
        self.assertEqual(int(port), self.server.nbd_port)

        info = run(["nbdinfo", "--json", uri])
        self.check(info)
        doc = json.loads(info.out)
        self.assertEqual(doc["exports"][0]["export-size"], 4 * GiB, info.out)

        shown = self.disk_show(disk_id)
        self.assertEqual(shown["diskState"], "Attached", shown)
        self.assertTrue(shown.get("managedBy"), shown)
        # The disk cannot be attached twice, nor deleted while attached.
        r = byok("disk", "attach", "--data-dir", self.data_dir, disk_id)
        self.assertNotEqual(r.code, 0, r.explain())
        self.assertIn("OperationNotAllowed", r.err, r.explain())

        text = "byok-e2e-plaintext-{}|".format(os.urandom(8).hex())
        src = os.path.join(self.tmp, "text.bin")
        with open(src, "wb") as f:
            f.write((text * (4096 // len(text) + 1)).encode()[:4096])
        self.qemu_io(uri, "write -P 0xab 0 1M", "write -s {} 8M 4k".format(src),
                     "write -P 0xcd 3G 64k", "flush")
        self.qemu_io(uri, "read -P 0xab 0 1M", "read -P 0xcd 3G 64k", "read -P 0 2M 64k")
        with open(src, "rb") as g:
            self.assertEqual(self.read_bytes(uri, 8 << 20, 4096), g.read())

        # No plaintext at rest: byok's own scan, then the test reads the raw file itself.
        doc = self.inspect(disk_id, pattern=text)
        self.assertFalse(doc["proof"]["pattern"]["found"], doc)
        self.assertGreater(doc["proof"]["entropy_bits_per_byte"], 7.9, doc)
        self.assertEqual(doc["disk"]["diskState"], "Attached", doc)
        self.assertEqual(doc["keyStatus"]["status"], "usable", doc)
        self.assertEqual([l["layer"] for l in doc["layers"]], ["customer"], doc)
        self.assertEqual(doc["layers"][0]["key_id"], self.kid, doc)
        path = doc["path"]
        self.assertTrue(path.startswith(os.path.join(self.data_dir, "disks")), path)
        found = raw_contains(path, [text.encode(), b"\xab" * 4096, b"\xcd" * 4096])
        self.assertEqual(found, set(), "plaintext found in " + path)
        human = self.check(byok("disk", "inspect", "--data-dir", self.data_dir, disk_id,
                                "--pattern", text)).out
        for needle in ("AES-256-XTS", "RSA-OAEP-256", self.kid.rsplit("/", 1)[1], "not found",
                       path):
            self.assertIn(needle, human)

        # Restart: the same URI serves the same data.
        self.restart()
        self.qemu_io(uri, "read -P 0xab 0 1M", "read -P 0xcd 3G 64k")
        self.assertEqual(self.disk_show(disk_id)["diskState"], "Attached")

        # A guessed export name is refused, with the server's reason.
        guess = "nbd://127.0.0.1:{}/{}".format(self.server.nbd_port, "A" * 43)
        r = self.qemu_io(guess, "read 0 4k", ok=False)
        self.assertNotEqual(r.code, 0, r.explain())
        self.assertIn("unknown export", r.out + r.err, r.explain())
        r = run(["nbdinfo", guess])
        self.assertNotEqual(r.code, 0, r.explain())

        # Detach: the URI is refused, the disk is Unattached; re-attach gives a new name.
        self.detach(disk_id)
        r = self.qemu_io(uri, "read 0 4k", ok=False)
        self.assertNotEqual(r.code, 0, r.explain())
        self.assertEqual(self.disk_show(disk_id)["diskState"], "Unattached")
        unix_uri = self.attach(disk_id, unix=True)
        self.assertNotIn(export, unix_uri)
        self.qemu_io(unix_uri, "read -P 0xab 0 1M")
        r = self.qemu_io(uri, "read 0 4k", ok=False)
        self.assertNotEqual(r.code, 0, r.explain())
        self.detach(disk_id)
        self.az("disk", "delete", "--ids", disk_id, "--yes")

    def test_fio_over_the_unix_socket(self):
        disk_id = self.create_disk("disk-fio", "des1")
        uri = self.attach(disk_id, unix=True)
        m = UNIX_URI.match(uri)
        r = run(["fio", "--name=verify", "--ioengine=nbd", "--uri=" + uri, "--rw=randwrite",
                 "--bs=4k", "--size=32M", "--iodepth=16", "--verify=crc32c", "--do_verify=1",
                 "--verify_fatal=1", "--verify_state_save=0", "--output-format=json"],
                timeout=300)
        self.check(r)
        job = json.loads(r.out[r.out.index("{"):])["jobs"][0]
        self.assertEqual(job["error"], 0, r.out)
        self.assertIsNotNone(m)
        self.detach(disk_id)

    def test_independent_decryption_of_a_raw_sector(self):
        pem = os.path.join(self.tmp, "imported.pem")
        self.check(run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", pem]))
        key = self.az("keyvault", "key", "import", "--vault-name", self.vault, "-n",
                      "imported-key", "--pem-file", pem)
        kid = key["key"]["kid"]
        self.create_des("des-imported", kid)
        disk_id = self.create_disk("disk-proof", "des-imported")
        uri = self.attach(disk_id)
        sector = 5000
        pattern = ("independent proof {} ".format(os.urandom(4).hex()) * 300).encode()[:4096]
        src = os.path.join(self.tmp, "proof.bin")
        with open(src, "wb") as f:
            f.write(pattern)
        self.qemu_io(uri, "write -s {} {} 4k".format(src, sector * 4096), "flush")

        doc = self.inspect(disk_id)
        self.assertEqual(len(doc["layers"]), 1, doc)
        layer = doc["layers"][0]
        self.assertEqual((layer["layer"], layer["algorithm"], layer["key_id"]),
                         ("customer", "RSA-OAEP-256", kid), doc)
        wrapped = base64.urlsafe_b64decode(layer["wrapped"] + "=" * (-len(layer["wrapped"]) % 4))
        wrapped_path = os.path.join(self.tmp, "wrapped.bin")
        with open(wrapped_path, "wb") as f:
            f.write(wrapped)
        dek = subprocess.run(["openssl", "pkeyutl", "-decrypt", "-inkey", pem, "-in",
                              wrapped_path, "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt",
                              "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"],
                             capture_output=True)
        self.assertEqual(dek.returncode, 0, dek.stderr)
        self.assertEqual(len(dek.stdout), 64)

        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        with open(doc["path"], "rb") as f:
            f.seek(doc["data_offset"] + sector * 4096)
            raw = f.read(4096)
        self.assertNotEqual(raw, pattern)
        dec = Cipher(algorithms.AES(dek.stdout), modes.XTS(sector.to_bytes(16, "little")))
        d = dec.decryptor()
        self.assertEqual(d.update(raw) + d.finalize(), pattern)
        self.detach(disk_id)

    def test_double_encryption_round_trip(self):
        kid = self.create_key("double-key")
        self.create_des("des-double", kid, DOUBLE)
        disk_id = self.create_disk("disk-double", "des-double", DOUBLE)
        shown = self.disk_show(disk_id)
        self.assertEqual(shown["encryption"]["type"], DOUBLE, shown)
        uri = self.attach(disk_id)
        self.qemu_io(uri, "write -P 0x3c 0 2M", "flush")
        self.qemu_io(uri, "read -P 0x3c 0 2M")
        doc = self.inspect(disk_id)
        self.assertEqual([(l["layer"], l["algorithm"]) for l in doc["layers"]],
                         [("customer", "RSA-OAEP-256"), ("platform", "A256KW")], doc)
        self.assertEqual(doc["layers"][0]["key_id"], kid, doc)
        self.assertEqual(raw_contains(doc["path"], [b"\x3c" * 4096]), set())
        self.detach(disk_id)

    def test_sigkill_during_a_flushed_write_workload(self):
        disk_id = self.create_disk("disk-crash", "des1")
        uri = self.attach(disk_id)
        # A writer that records each flushed chunk only after its flush was acknowledged.
        log = os.path.join(self.tmp, "acked.txt")
        script = os.path.join(self.tmp, "writer.sh")
        with open(script, "w") as f:
            f.write("set -u\n"
                    "i=0\n"
                    "while [ $i -lt 4000 ]; do\n"
                    "  p=$(( (i % 250) + 1 ))\n"
                    "  qemu-io -f raw -c \"write -P $p $((i * 65536)) 64k\" -c flush '{uri}' "
                    ">/dev/null 2>&1 || exit 0\n"
                    "  echo \"$i $p\" >> '{log}'\n"
                    "  i=$((i + 1))\n"
                    "done\n".format(uri=uri, log=log))
        writer = subprocess.Popen(["bash", script])

        def acked():
            if not os.path.exists(log):
                return []
            with open(log) as f:
                return [tuple(map(int, line.split())) for line in f.read().splitlines()]

        deadline = time.time() + 60
        while time.time() < deadline and len(acked()) < 15:
            time.sleep(0.2)
        self.restart(signal.SIGKILL)
        writer.wait(60)
        acked = acked()
        self.assertGreaterEqual(len(acked), 15)
        # Every write acknowledged by a completed flush reads back intact (the same URI: the
        # attachment survived the crash).
        commands = ["read -P {} {} 64k".format(p, i * 65536) for i, p in acked]
        for k in range(0, len(commands), 100):
            self.qemu_io(uri, *commands[k:k + 100])
        shown = self.disk_show(disk_id)
        self.assertEqual(shown["diskState"], "Attached", shown)
        doc = self.inspect(disk_id)
        self.assertEqual(doc["disk"]["uniqueId"], shown["uniqueId"], doc)
        self.assertIn("in_force", json.dumps(doc["header_slots"]))
        self.detach(disk_id)
        self.assertEqual(self.disk_show(disk_id)["diskState"], "Unattached")

    def test_ext4_over_nbdfuse(self):
        why = fuse_unusable()
        if why:
            self.skipTest(why)
        disk_id = self.create_disk("disk-fs", "des1", size_gb=1)
        uri = self.attach(disk_id, unix=True)
        mnt = os.path.join(self.tmp, "fuse")
        fsdir = os.path.join(self.tmp, "fs")
        os.makedirs(mnt)
        os.makedirs(fsdir)
        files = {"a.txt": os.urandom(100000), "dir/b.bin": os.urandom(3 << 20)}

        def with_device(fn):
            fuse = subprocess.Popen(["nbdfuse", mnt, "--uri", uri])
            try:
                device = os.path.join(mnt, "nbd")
                for _ in range(100):
                    if os.path.exists(device):
                        break
                    time.sleep(0.1)
                loop = self.check(run(["losetup", "--find", "--show", device])).out.strip()
                try:
                    fn(loop)
                finally:
                    run(["losetup", "-d", loop])
            finally:
                run(["fusermount3", "-u", mnt])
                fuse.wait(30)

        def write(loop):
            self.check(run(["mkfs.ext4", "-q", "-F", loop], timeout=300))
            self.check(run(["mount", loop, fsdir]))
            try:
                for name, data in files.items():
                    os.makedirs(os.path.dirname(os.path.join(fsdir, name)), exist_ok=True)
                    with open(os.path.join(fsdir, name), "wb") as f:
                        f.write(data)
            finally:
                self.check(run(["umount", fsdir]))

        def read(loop):
            self.check(run(["mount", "-o", "ro", loop, fsdir]))
            try:
                for name, data in files.items():
                    with open(os.path.join(fsdir, name), "rb") as f:
                        self.assertEqual(f.read(), data, name)
            finally:
                self.check(run(["umount", fsdir]))

        with_device(write)
        self.detach(disk_id)
        uri = self.attach(disk_id, unix=True)
        with_device(read)
        self.detach(disk_id)


def fuse_unusable():
    """Why nbdfuse + loop + mount cannot run here ("" if they can)."""
    for tool in ("nbdfuse", "fusermount3", "losetup", "mkfs.ext4", "mount"):
        if shutil.which(tool) is None:
            return tool + " is not installed"
    if os.geteuid() != 0:
        return "needs root (loop devices, mount)"
    try:
        fd = os.open("/dev/fuse", os.O_RDWR)
        os.close(fd)
    except OSError as e:
        return "/dev/fuse is not usable: {}".format(e)
    r = run(["losetup", "--find"])
    if r.code != 0:
        return "no loop device: " + r.err.strip()
    return ""


if __name__ == "__main__":
    unittest.main()
