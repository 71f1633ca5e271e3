"""End-to-end: AKS node OS disks, driven by the real Azure CLI (clusters from the seed's
`az aks create --node-osdisk-diskencryptionset-id ... --generate-ssh-keys --node-osdisk-type ...`)
and observed with `byok node list` and `byok disk inspect`:

- a node's OS disk, Managed (a managed disk in the node resource group) or Ephemeral (a host-local
  file), decrypts with the independent method of the disk issue: this test parses the raw file's
  header itself (docs/formats/disk.md), unwraps the data key with `openssl pkeyutl` and the
  customer's private key (imported into the vault with `az keyvault key import --pem-file`), and
  decrypts the boot record's sector with python3-cryptography's AES-XTS; the node name is not in
  the raw file (`byok disk inspect --pattern` for the managed disk, a scan of the ephemeral file);
- revocation: with the key disabled — and, separately, with the DES identity's access policy
  removed — the nodes keep running through the grace period (one hour of byokd's clock, moved
  with `byok clock advance`) and are Stopped after it; restored, they boot again (Ready);
- ephemeral rotation: after `az disk-encryption-set update --key-url <new version>`, the managed
  OS disks are re-wrapped but an ephemeral User pool's nodes still report the old key version;
  `az aks nodepool scale --node-count 0` then `--node-count 2` gives nodes on the new version.

az is slow (1-4 s per command), so the class shares one server and one login; each test has its
own key, disk encryption set and cluster.
"""
import base64
import hashlib
import json
import os
import struct
import subprocess
import unittest

from harness import BYOK, AzureCli, ByokServerTestCase, credentials, run

LOCATION = "westeurope"
SLOT_SIZE = 65536
SECTOR = 4096


def byok(*args, timeout=120):
    return run([BYOK, *args], timeout=timeout)


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def read_header(path):
    """The header in force of a byok disk file, parsed from the raw bytes as docs/formats/disk.md
    defines it (two 64 KiB slots: magic, version, body length, generation, reserved, JSON body,
    SHA-256 checksum; the valid slot with the highest generation wins)."""
    best = None
    with open(path, "rb") as f:
        for slot in range(2):
            f.seek(slot * SLOT_SIZE)
            raw = f.read(SLOT_SIZE)
            if raw[:8] != b"BYOKDISK":
                continue
            version, length, generation, reserved = struct.unpack_from("<IIQQ", raw, 8)
            if version != 1 or reserved != 0 or 64 + length > SLOT_SIZE:
                continue
            if hashlib.sha256(raw[:32 + length]).digest() != raw[32 + length:64 + length]:
                continue
            body = json.loads(raw[32:32 + length].decode())
            if best is None or generation > best[0]:
                best = (generation, body)
    if best is None:
        raise AssertionError("no valid header slot in " + path)
    return best[1]


def raw_contains(path, needle):
    """Whether `needle` (no zero bytes at its ends) occurs in the raw file: its allocated parts
    (SEEK_DATA/SEEK_HOLE; holes read as zeros and a 128 GiB OS disk is mostly hole)."""
    with open(path, "rb") as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        pos = 0
        while pos < size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:  # no data after pos
                return False
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            f.seek(data)
            tail = b""
            left = hole - data
            while left > 0:
                chunk = f.read(min(left, 8 << 20))
                if not chunk:
                    break
                left -= len(chunk)
                if needle in tail + chunk:
                    return True
                tail = chunk[-(len(needle) - 1):]
            pos = hole
    return False


class AksNodesTest(ByokServerTestCase):

    rg = "rg-aks-nodes"
    vault = "kv-aks-nodes-e2e"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sub = credentials(cls.data_dir)["subscription"]
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()
        cls.prepare_error = None
        if cls.cli.env is None:
            return
        try:
            cls.az("group", "create", "-n", cls.rg, "-l", LOCATION)
            cls.vault_id = cls.az("keyvault", "create", "--name", cls.vault, "--resource-group",
                                  cls.rg, "--location", LOCATION, "--enable-purge-protection",
                                  "true")["id"]
        except AssertionError as e:
            cls.prepare_error = str(e)

    def setUp(self):
        self.check(self.cli.setup_run)
        if self.prepare_error:
            self.fail("class setup failed:\n" + self.prepare_error)

    # ---- helpers ----

    @classmethod
    def az(cls, *args):
        return cls.cli.az_json(*args)

    def create_des(self, name, key_url):
        """The seed's DES steps: create it, grant its identity get/wrapKey/unwrapKey. Returns
        (DES id, identity principal id)."""
        self.az("disk-encryption-set", "create", "--name", name, "--location", LOCATION,
                "--resource-group", self.rg, "--source-vault", self.vault_id, "--key-url",
                key_url)
        principal = self.check(self.cli.az(
            "disk-encryption-set", "show", "--name", name, "--resource-group", self.rg,
            "--query", "[identity.principalId]", "-o", "tsv")).out.strip()
        self.set_policy(principal)
        des_id = self.check(self.cli.az(
            "disk-encryption-set", "show", "--name", name, "--resource-group", self.rg,
            "--query", "[id]", "-o", "tsv")).out.strip()
        return des_id, principal

    def set_policy(self, principal):
        self.az("keyvault", "set-policy", "--name", self.vault, "--resource-group", self.rg,
                "--object-id", principal, "--key-permissions", "wrapkey", "unwrapkey", "get")

    def create_cluster(self, name, des_id, *extra):
        return json.loads(self.check(self.cli.az(
            "aks", "create", "--name", name, "--resource-group", self.rg,
            "--node-osdisk-diskencryptionset-id", des_id, "--generate-ssh-keys",
            "--node-osdisk-type", "Managed", "--node-count", "1", *extra, "-o", "json",
            timeout=600)).out)

    def add_ephemeral_pool(self, cluster, pool, count):
        return self.az("aks", "nodepool", "add", "--cluster-name", cluster, "--resource-group",
                       self.rg, "--name", pool, "--node-osdisk-type", "Ephemeral",
                       "--node-vm-size", "Standard_DS3_v2", "--mode", "User", "--node-count",
                       str(count))

    def nodes(self, cluster_id, pool=None):
        r = self.check(byok("node", "list", "--cluster", cluster_id, "--json", "--data-dir",
                            self.data_dir))
        nodes = json.loads(r.out)
        return [n for n in nodes if pool is None or n["poolName"] == pool]

    def node_table(self, cluster_id):
        return self.check(byok("node", "list", "--cluster", cluster_id, "--data-dir",
                               self.data_dir)).out

    def clock_advance(self, duration):
        doc = json.loads(self.check(byok("clock", "advance", duration, "--data-dir",
                                         self.data_dir)).out)
        self.assertNotIn("housekeepingError", doc, doc)
        return doc

    def assert_states(self, cluster_id, state, reason_part=None):
        nodes = self.nodes(cluster_id)
        table = self.node_table(cluster_id)
        self.assertTrue(nodes)
        for n in nodes:
            self.assertEqual(n["state"], state, table)
            if reason_part is not None:
                self.assertIn(reason_part, n["reason"], table)
        return nodes

    def disk_path(self, node):
        return os.path.join(self.data_dir, "disks", node["osDiskUniqueId"] + ".disk")

    # ---- tests ----

    def test_node_os_disks_decrypt_independently_and_are_ciphertext_at_rest(self):
        # The customer's key, known to this test: generated here, imported into the vault.
        pem = os.path.join(self.tmp, "node-key.pem")
        self.check(run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", pem]))
        kid = self.az("keyvault", "key", "import", "--vault-name", self.vault, "-n", "node-key",
                      "--pem-file", pem)["key"]["kid"]
        des_id, _ = self.create_des("des-nodes", kid)
        c = self.create_cluster("aks-disks", des_id)
        self.add_ephemeral_pool("aks-disks", "eph", 1)
        nodes = self.nodes(c["id"])
        self.assertEqual(sorted((n["poolName"], n["osDiskType"]) for n in nodes),
                         [("eph", "Ephemeral"), ("nodepool1", "Managed")], nodes)
        table = self.node_table(c["id"])
        self.assertIn("KEY-VERSION", table)
        for n in nodes:
            self.assertEqual(n["state"], "Ready", table)
            self.assertEqual(n["bootCount"], 1, n)
            self.assertEqual(n["keyUrl"], kid, n)
            self.assertEqual(n["keyVersion"], kid.rsplit("/", 1)[1], n)
            self.assertIn(n["name"], table)
            self.assertRegex(n["name"], r"^aks-(nodepool1|eph)-\d{8}-vmss000000$")

        managed = [n for n in nodes if n["osDiskType"] == "Managed"][0]
        ephemeral = [n for n in nodes if n["osDiskType"] == "Ephemeral"][0]
        # The managed OS disk is a customer-key managed disk in the node resource group.
        disk = self.az("disk", "show", "--ids", managed["osDiskId"])
        self.assertEqual(disk["encryption"]["type"], "EncryptionAtRestWithCustomerKey", disk)
        self.assertEqual(disk["encryption"]["diskEncryptionSetId"].lower(), des_id.lower(), disk)
        self.assertEqual(disk["diskState"], "Attached", disk)
        self.assertIn("/virtualMachineScaleSets/", disk["managedBy"], disk)
        self.assertEqual(disk["resourceGroup"].lower(), c["nodeResourceGroup"].lower(), disk)
        # Ciphertext at rest: the boot record names the node; the raw file does not.
        doc = json.loads(self.check(byok("disk", "inspect", "--data-dir", self.data_dir,
                                         managed["osDiskId"], "--json", "--pattern",
                                         managed["name"])).out)
        self.assertFalse(doc["proof"]["pattern"]["found"], doc["proof"])
        self.assertEqual(os.path.realpath(doc["path"]), os.path.realpath(self.disk_path(managed)))
        self.assertFalse(raw_contains(self.disk_path(ephemeral), ephemeral["name"].encode()))

        # The independent decryption of sector 0 (the boot record) of both OS disks.
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        for n in (managed, ephemeral):
            path = self.disk_path(n)
            header = read_header(path)
            self.assertEqual(header["cipher"], "AES-256-XTS", header)
            self.assertEqual([l["layer"] for l in header["layers"]], ["customer"], header)
            layer = header["layers"][0]
            self.assertEqual((layer["key_id"], layer["algorithm"]), (kid, "RSA-OAEP-256"), header)
            wrapped_path = os.path.join(self.tmp, "wrapped-" + n["poolName"])
            with open(wrapped_path, "wb") as f:
                f.write(b64url(layer["wrapped"]))
            dek = subprocess.run(["openssl", "pkeyutl", "-decrypt", "-inkey", pem, "-in",
                                  wrapped_path, "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt",
                                  "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"],
                                 capture_output=True)
            self.assertEqual(dek.returncode, 0, dek.stderr)
            self.assertEqual(len(dek.stdout), 64)
            with open(path, "rb") as f:
                f.seek(header["data_offset"])
                raw = f.read(SECTOR)
            self.assertNotEqual(raw, bytes(SECTOR))
            d = Cipher(algorithms.AES(dek.stdout), modes.XTS((0).to_bytes(16, "little"))).decryptor()
            plain = d.update(raw) + d.finalize()
            record = json.loads(plain.decode().rstrip(" "))
            self.assertEqual((record["node"], record["pool"], record["bootCount"]),
                             (n["name"], n["poolName"], 1), record)
            self.assertEqual(record["cluster"].lower(), c["id"].lower(), record)

        # az aks stop/start: the nodes are deallocated, then boot again (the boot count grows).
        self.check(self.cli.az("aks", "stop", "--name", "aks-disks", "--resource-group", self.rg))
        self.assert_states(c["id"], "Deallocated")
        self.check(self.cli.az("aks", "start", "--name", "aks-disks", "--resource-group",
                               self.rg))
        for n in self.assert_states(c["id"], "Ready"):
            self.assertEqual(n["bootCount"], 2, n)

    def test_revoked_key_stops_nodes_after_the_grace_period(self):
        kid = self.az("keyvault", "key", "create", "--vault-name", self.vault, "-n",
                      "revoke-key", "--kty", "RSA", "--size", "2048")["key"]["kid"]
        des_id, principal = self.create_des("des-revoke", kid)
        c = self.create_cluster("aks-revoke", des_id)
        self.add_ephemeral_pool("aks-revoke", "eph", 1)
        self.assert_states(c["id"], "Ready")

        # 1. The key disabled: still running within the grace period, stopped after it.
        self.az("keyvault", "key", "set-attributes", "--vault-name", self.vault, "-n",
                "revoke-key", "--enabled", "false")
        self.clock_advance("30m")
        nodes = self.assert_states(c["id"], "Ready")
        for n in nodes:
            self.assertNotEqual(n["keyUnavailableSince"], "", n)
        self.clock_advance("31m")
        self.assert_states(c["id"], "Stopped", "revoke-key")
        table = self.node_table(c["id"])
        self.assertIn("Stopped", table)
        self.assertIn("des-revoke", table)
        self.az("keyvault", "key", "set-attributes", "--vault-name", self.vault, "-n",
                "revoke-key", "--enabled", "true")
        self.clock_advance("1m")
        for n in self.assert_states(c["id"], "Ready"):
            self.assertEqual((n["bootCount"], n["keyUnavailableSince"], n["reason"]), (2, "", ""),
                             n)

        # 2. The DES identity's access policy removed: the same timeline.
        self.az("keyvault", "delete-policy", "--name", self.vault, "--resource-group", self.rg,
                "--object-id", principal)
        self.clock_advance("59m")
        self.assert_states(c["id"], "Ready")
        self.clock_advance("2m")
        self.assert_states(c["id"], "Stopped", "Forbidden")
        self.set_policy(principal)
        self.clock_advance("1m")
        for n in self.assert_states(c["id"], "Ready"):
            self.assertEqual((n["bootCount"], n["reason"]), (3, ""), n)

    def test_ephemeral_pool_keeps_the_old_key_version_until_scaled_to_zero(self):
        old = self.az("keyvault", "key", "create", "--vault-name", self.vault, "-n",
                      "rotate-key", "--kty", "RSA", "--size", "2048")["key"]["kid"]
        des_id, _ = self.create_des("des-rotate", old)
        c = self.create_cluster("aks-rotate", des_id)
        self.add_ephemeral_pool("aks-rotate", "userpool", 2)
        before = self.nodes(c["id"], "userpool")
        self.assertEqual([n["keyUrl"] for n in before], [old, old], before)

        # Rotate: a new key version, the DES moved to it (its managed disks are re-wrapped).
        new = self.az("keyvault", "key", "create", "--vault-name", self.vault, "-n",
                      "rotate-key", "--kty", "RSA", "--size", "2048")["key"]["kid"]
        self.assertNotEqual(new, old)
        des = self.az("disk-encryption-set", "update", "--name", "des-rotate",
                      "--resource-group", self.rg, "--key-url", new)
        self.assertEqual(des["activeKey"]["keyUrl"], new, des)
        table = self.node_table(c["id"])
        old_version, new_version = old.rsplit("/", 1)[1], new.rsplit("/", 1)[1]
        for n in self.nodes(c["id"], "nodepool1"):
            self.assertEqual(n["keyVersion"], new_version, table)
        for n in self.nodes(c["id"], "userpool"):
            self.assertEqual((n["keyVersion"], n["state"]), (old_version, "Ready"), table)
        self.assertIn(old_version, table)

        # The documented procedure: scale the pool to 0, then back up.
        scale = ("aks", "nodepool", "scale", "--cluster-name", "aks-rotate", "--resource-group",
                 self.rg, "--name", "userpool", "--node-count")
        self.assertEqual(self.az(*scale, "0")["count"], 0)
        self.assertEqual(self.nodes(c["id"], "userpool"), [])
        self.assertEqual(self.az(*scale, "2")["count"], 2)
        after = self.nodes(c["id"], "userpool")
        table = self.node_table(c["id"])
        self.assertEqual(len(after), 2, table)
        for n in after:
            self.assertEqual((n["keyVersion"], n["state"]), (new_version, "Ready"), table)
        # New instances: scale-set instance numbers only grow.
        self.assertEqual(sorted(n["name"][-6:] for n in after), ["000002", "000003"], table)
        for n in after:
            self.assertEqual(read_header(self.disk_path(n))["layers"][0]["key_id"], new)


if __name__ == "__main__":
    unittest.main()
