"""End-to-end: what happens to attached customer-key disks when the customer withdraws the key,
driven by the real Azure CLI and qemu-io. A disabled key or a removed access policy makes new
unlocks (attach, a new NBD connection) fail at once with Key Vault's reason, while connections
already open keep working until the grace period (one hour of byokd's emulated clock, moved by
`byok clock advance`) ends, after which their I/O fails with EIO; I/O resumes when the key is
usable again. `byok audit` shows the DES identity's wrapKey/unwrapKey calls. Key rotation
re-wraps the data key (data intact; the old version can then be disabled, the new one cannot);
a purged key makes the disk permanently unreadable and `byok disk inspect` says so.
"""
import json
import re
import unittest

from disk_nbd_test import DiskCase
from harness import BYOK, run

EIO = "Input/output error"


def clock_advance(data_dir, duration):
    r = run([BYOK, "clock", "advance", duration, "--data-dir", data_dir])
    if r.code != 0:
        raise AssertionError("byok clock advance failed\n" + r.explain())
    return json.loads(r.out)


class DiskRevocationTest(DiskCase):

    vault = "kv-disks-revoke"

    def advance(self, duration):
        doc = clock_advance(self.data_dir, duration)
        self.assertNotIn("housekeepingError", doc, doc)

    def set_enabled(self, key, enabled, version=None):
        argv = ["keyvault", "key", "set-attributes", "--vault-name", self.vault, "-n", key,
                "--enabled", "true" if enabled else "false"]
        if version:
            argv += ["--version", version]
        self.az(*argv)

    def assert_new_connection_refused(self, uri, needle):
        r = self.qemu_io(uri, "read 0 4k", ok=False)
        self.assertNotEqual(r.code, 0, r.explain())
        self.assertIn(needle, r.out + r.err, r.explain())

    def assert_reads(self, session, pattern, ok=True):
        out = session.cmd("read -P {} 0 64k".format(pattern))
        if ok:
            self.assertNotRegex(out, "failed|error", out + "\n" + self.server.output())
        else:
            self.assertIn(EIO, out, out + "\n" + self.server.output())

    def test_disabled_key_and_removed_policy(self):
        kid = self.create_key("revoke-key")
        des_id, principal = self.create_des("des-revoke", kid)
        disk_id = self.create_disk("disk-revoke", "des-revoke")
        spare_id = self.create_disk("disk-revoke-spare", "des-revoke")
        uri = self.attach(disk_id)
        s = self.session(uri)
        self.assertNotRegex(s.cmd("write -P 0x5a 0 64k"), "failed|error")
        self.assert_reads(s, "0x5a")

        # 1. The key is disabled.
        self.set_enabled("revoke-key", False)
        r = run([BYOK, "disk", "attach", "--data-dir", self.data_dir, spare_id])
        self.assertNotEqual(r.code, 0, r.explain())
        self.assertIn("KeyDisabled", r.err, r.explain())
        self.assertEqual(r.out, "", r.explain())
        self.assert_new_connection_refused(uri, "KeyDisabled")
        self.assert_reads(s, "0x5a")  # the open connection: grace period
        doc = self.inspect(disk_id)
        self.assertFalse(doc["keyStatus"]["usable"], doc)
        self.assertIn("KeyDisabled", doc["keyStatus"]["status"], doc)
        self.advance("30m")
        self.assert_reads(s, "0x5a")
        self.advance("31m")
        self.assert_reads(s, "0x5a", ok=False)
        self.assertIn(EIO, s.cmd("write -P 0x77 0 4k"))
        self.set_enabled("revoke-key", True)
        self.advance("1m")
        self.assert_reads(s, "0x5a")
        self.qemu_io(uri, "read -P 0x5a 0 64k")

        # 2. The DES identity's access policy is removed, then restored.
        self.az("keyvault", "delete-policy", "--name", self.vault, "--object-id", principal)
        self.assert_new_connection_refused(uri, "Forbidden")
        r = run([BYOK, "disk", "attach", "--data-dir", self.data_dir, spare_id])
        self.assertNotEqual(r.code, 0, r.explain())
        self.assertIn("Forbidden", r.err, r.explain())
        self.assert_reads(s, "0x5a")
        self.advance("1h")
        self.assert_reads(s, "0x5a", ok=False)
        self.az("keyvault", "set-policy", "--name", self.vault, "--object-id", principal,
                "--key-permissions", "wrapkey", "unwrapkey", "get")
        self.advance("1m")
        self.assert_reads(s, "0x5a")
        self.assertEqual(self.inspect(disk_id)["keyStatus"]["status"], "usable")

        # The audit log shows the DES identity wrapping and unwrapping.
        r = self.check(run([BYOK, "audit", "--json", "--vault", self.vault, "--data-dir",
                            self.data_dir]))
        records = [json.loads(line) for line in r.out.splitlines()]
        ops = {(x["operation"], x["status"]) for x in records
               if x.get("callerObjectId") == principal}
        self.assertIn(("KeyWrap", 200), {(o, int(st)) for o, st in ops}, r.out)
        self.assertIn(("KeyUnwrap", 200), {(o, int(st)) for o, st in ops}, r.out)
        self.assertTrue(any(o == "KeyUnwrap" and int(st) in (401, 403) for o, st in ops), r.out)
        s.close()
        self.detach(disk_id)

    def test_rotation_then_disable_old_and_new_versions(self):
        kid = self.create_key("rotate-key")
        self.create_des("des-rotate", kid)
        disk_id = self.create_disk("disk-rotate", "des-rotate")
        uri = self.attach(disk_id)
        s = self.session(uri)
        self.assertNotRegex(s.cmd("write -P 0x6b 0 64k"), "failed|error")
        old_version = kid.rsplit("/", 1)[1]

        new_kid = self.az("keyvault", "key", "rotate", "--vault-name", self.vault, "-n",
                          "rotate-key")["key"]["kid"]
        new_version = new_kid.rsplit("/", 1)[1]
        self.assertNotEqual(new_version, old_version)
        self.az("disk-encryption-set", "update", "--name", "des-rotate", "--resource-group",
                self.rg, "--key-url", new_kid, "--source-vault", self.vault_id)
        doc = self.inspect(disk_id)
        self.assertEqual(doc["layers"][0]["key_version"], new_version, doc)
        self.assertEqual(doc["layers"][0]["key_id"], new_kid, doc)
        self.assert_reads(s, "0x6b")
        self.qemu_io(uri, "read -P 0x6b 0 64k")

        # The old version is no longer needed...
        self.set_enabled("rotate-key", False, version=old_version)
        self.qemu_io(uri, "read -P 0x6b 0 64k")
        self.advance("2h")
        self.assert_reads(s, "0x6b")
        # ... the new one is.
        self.set_enabled("rotate-key", False, version=new_version)
        self.assert_new_connection_refused(uri, "KeyDisabled")
        self.advance("1h")
        self.assert_reads(s, "0x6b", ok=False)
        self.set_enabled("rotate-key", True, version=new_version)
        self.advance("1m")
        self.assert_reads(s, "0x6b")
        s.close()
        self.detach(disk_id)

    def test_purged_key_makes_the_disk_unrecoverable(self):
        kid = self.create_key("purge-key")
        self.create_des("des-purge", kid)
        disk_id = self.create_disk("disk-purge", "des-purge")
        uri = self.attach(disk_id)
        s = self.session(uri)
        self.assertNotRegex(s.cmd("write -P 0x21 0 64k"), "failed|error")
        self.az("keyvault", "key", "delete", "--vault-name", self.vault, "-n", "purge-key")
        # Purge protection: the key is purged when its retention ends (90 days).
        self.advance("91d")
        self.assert_reads(s, "0x21", ok=False)
        doc = self.inspect(disk_id)
        self.assertTrue(doc["keyStatus"]["status"].startswith("purged: data unrecoverable"), doc)
        human = self.check(run([BYOK, "disk", "inspect", "--data-dir", self.data_dir,
                                disk_id])).out
        self.assertIn("purged: data unrecoverable", human)
        self.assert_new_connection_refused(uri, "unrecoverable")
        s.close()
        self.detach(disk_id)
        r = run([BYOK, "disk", "attach", "--data-dir", self.data_dir, disk_id])
        self.assertNotEqual(r.code, 0, r.explain())
        self.assertIn("unrecoverable", r.err, r.explain())
        self.assertEqual(r.out, "")


if __name__ == "__main__":
    unittest.main()
