"""End-to-end: disk encryption sets and managed disks (Microsoft.Compute) driven by the real Azure
CLI (Debian's azure-cli 2.45: api-versions 2022-03-02 for disk encryption sets, 2022-07-02 for
disks), following the issue's walkthrough: a vault with purge protection, a key, `az
disk-encryption-set create --source-vault $keyVaultId --key-url $keyVaultKeyUrl`, its identity
from `show --query "[identity.principalId]" -o tsv`, `az keyvault set-policy` for it, `az disk
create --size-gb 4 --disk-encryption-set D --encryption-type EncryptionAtRestWithCustomerKey`,
show/list/update/delete, manual rotation (`update --key-url`), automatic rotation
(`--enable-auto-key-rotation` + `byok clock advance`), and the refusals: no access policy
(KeyVaultAccessForbidden), a caller without read on the DES (LinkedAuthorizationFailed), a vault
without purge protection, deleting a DES in use. `byok audit` shows the DES identity's
wrapKey/unwrapKey calls.

az is slow (1-4 s per command), so the class shares one server and one login.
"""
import json
import re
import unittest

from harness import BYOK, AzureCli, ByokServerTestCase, create_service_principal, credentials, run

LOCATION = "westeurope"
CUSTOMER = "EncryptionAtRestWithCustomerKey"
KID = re.compile(r"^https://([a-z0-9-]+)\.vault\.localhost:(\d+)/keys/([A-Za-z0-9-]+)/([0-9a-f]{32})$")


class ComputeCliTest(ByokServerTestCase):

    rg = "rg-compute"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.creds = credentials(cls.data_dir)
        cls.sub = cls.creds["subscription"]
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()
        cls.group = None
        if cls.cli.env is not None:
            cls.group = cls.cli.az("group", "create", "-n", cls.rg, "-l", LOCATION, "-o", "none")

    def setUp(self):
        self.check(self.cli.setup_run)
        self.check(self.group)

    def az(self, *args):
        return self.cli.az_json(*args)

    def tsv(self, *args, cli=None):
        return self.check((cli or self.cli).az(*args, "-o", "tsv")).out.strip()

    def des_id(self, name, rg=None):
        return ("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/"
                "diskEncryptionSets/{}").format(self.sub, rg or self.rg, name)

    def vault_with_key(self, vault, key, *extra):
        """The walkthrough's first steps; returns (keyVaultId, keyVaultKeyUrl)."""
        self.check(self.cli.az("keyvault", "create", "--name", vault, "--resource-group", self.rg,
                               "--location", LOCATION, "-o", "none", *extra))
        vault_id = self.tsv("keyvault", "show", "--name", vault, "--query", "[id]")
        self.check(self.cli.az("keyvault", "key", "create", "--vault-name", vault, "--name", key,
                               "--protection", "software", "-o", "none"))
        key_url = self.tsv("keyvault", "key", "show", "--vault-name", vault, "--name", key,
                           "--query", "[key.kid]")
        self.assertTrue(KID.match(key_url), key_url)
        return vault_id, key_url

    def create_des(self, name, vault_id, key_url, *extra):
        return self.cli.az("disk-encryption-set", "create", "--name", name, "--location",
                           LOCATION, "--resource-group", self.rg, "--source-vault", vault_id,
                           "--key-url", key_url, "-o", "json", *extra)

    def des_identity(self, name):
        return self.tsv("disk-encryption-set", "show", "--name", name, "--resource-group", self.rg,
                        "--query", "[identity.principalId]")

    def grant(self, vault, principal):
        self.check(self.cli.az("keyvault", "set-policy", "-n", vault, "-g", self.rg,
                               "--object-id", principal, "--key-permissions", "wrapkey",
                               "unwrapkey", "get", "-o", "none"))

    def test_walkthrough_rotation_and_refusals(self):
        vault = "kv-cmp-e2e"
        vault_id, key_url = self.vault_with_key(vault, "cmk", "--enable-purge-protection", "true")
        des = json.loads(self.check(self.create_des("des-e2e", vault_id, key_url)).out)
        self.assertEqual(des["id"], self.des_id("des-e2e"), des)
        self.assertEqual(des["activeKey"]["keyUrl"], key_url, des)
        self.assertEqual(des["activeKey"]["sourceVault"]["id"], vault_id, des)
        self.assertEqual(des["encryptionType"], CUSTOMER, des)
        self.assertEqual(des["identity"]["type"], "SystemAssigned", des)
        self.assertEqual(des["provisioningState"], "Succeeded", des)
        des_identity = self.des_identity("des-e2e")
        self.assertEqual(des_identity, des["identity"]["principalId"])
        self.assertRegex(des_identity, r"^[0-9a-f-]{36}$")

        # Without an access policy for the DES identity the disk is refused with Azure's error.
        r = self.check_fails(self.cli.az("disk", "create", "-g", self.rg, "-n", "disk-denied",
                                         "--size-gb", "4", "--disk-encryption-set", "des-e2e",
                                         "--encryption-type", CUSTOMER),
                             "KeyVaultAccessForbidden")
        self.assertIn("Please grant get, wrap and unwrap key permissions to disk encryption set "
                      "'des-e2e'", r.err, r.explain())

        self.grant(vault, des_identity)
        disk = self.az("disk", "create", "-g", self.rg, "-n", "disk1", "--size-gb", "4",
                       "--disk-encryption-set", "des-e2e", "--encryption-type", CUSTOMER)
        self.assertEqual(disk["encryption"]["type"], CUSTOMER, disk)
        self.assertEqual(disk["encryption"]["diskEncryptionSetId"].lower(),
                         self.des_id("des-e2e").lower(), disk)
        self.assertEqual(disk["diskSizeGb"], 4, disk)
        self.assertEqual(disk["diskState"], "Unattached", disk)
        self.assertEqual(disk["provisioningState"], "Succeeded", disk)
        self.assertRegex(disk["uniqueId"], r"^[0-9a-f-]{36}$")
        self.assertEqual(disk["location"], LOCATION, disk)
        shown = self.az("disk", "show", "-g", self.rg, "-n", "disk1")
        self.assertEqual(shown["uniqueId"], disk["uniqueId"], shown)
        self.assertIn("disk1", [d["name"] for d in self.az("disk", "list", "-g", self.rg)])
        self.assertIn("disk1", [d["name"] for d in self.az("disk", "list")])
        self.assertIn("des-e2e", [d["name"] for d in self.az("disk-encryption-set", "list")])
        self.assertIn("des-e2e", [d["name"] for d in self.az("disk-encryption-set", "list", "-g",
                                                            self.rg)])

        # The DES identity unwrapped the disk's key as itself: it is in the audit log.
        audit = self.check(run([BYOK, "audit", "--json", "--vault", vault,
                                "--data-dir", self.data_dir]))
        ops = {json.loads(line)["operation"] for line in audit.out.splitlines()
               if json.loads(line).get("callerObjectId") == des_identity}
        self.assertTrue({"KeyWrap", "KeyUnwrap"} <= ops, audit.explain())

        # Resize: grow only.
        grown = self.az("disk", "update", "-g", self.rg, "-n", "disk1", "--size-gb", "8")
        self.assertEqual(grown["diskSizeGb"], 8, grown)
        self.check_fails(self.cli.az("disk", "update", "-g", self.rg, "-n", "disk1",
                                     "--size-gb", "4"), "OperationNotAllowed")

        # A DES in use cannot be deleted.
        self.check_fails(self.cli.az("disk-encryption-set", "delete", "-n", "des-e2e", "-g",
                                     self.rg), "OperationNotAllowed")

        # Manual rotation: a new key version; the disk is re-wrapped, previousKeys emptied.
        new_url = self.tsv("keyvault", "key", "rotate", "--vault-name", vault, "--name", "cmk",
                           "--query", "[key.kid]")
        self.assertNotEqual(new_url, key_url)
        updated = self.az("disk-encryption-set", "update", "-n", "des-e2e", "-g", self.rg,
                          "--key-url", new_url)
        self.assertEqual(updated["activeKey"]["keyUrl"], new_url, updated)
        shown = self.az("disk-encryption-set", "show", "-n", "des-e2e", "-g", self.rg)
        self.assertEqual(shown["previousKeys"], [], shown)
        self.assertEqual(shown["activeKey"]["keyUrl"], new_url, shown)

        # Automatic rotation: the key's next version becomes active within the emulated hour.
        auto = self.az("disk-encryption-set", "update", "-n", "des-e2e", "-g", self.rg,
                       "--enable-auto-key-rotation", "true")
        self.assertTrue(auto["rotationToLatestKeyVersionEnabled"], auto)
        newest = self.tsv("keyvault", "key", "rotate", "--vault-name", vault, "--name", "cmk",
                          "--query", "[key.kid]")
        self.check(run([BYOK, "clock", "advance", "1h", "--data-dir", self.data_dir]))
        shown = self.az("disk-encryption-set", "show", "-n", "des-e2e", "-g", self.rg)
        self.assertEqual(shown["activeKey"]["keyUrl"], newest, shown)
        self.assertEqual(shown["previousKeys"], [], shown)
        self.assertIsNone(shown.get("autoKeyRotationError"), shown)

        # Delete the disk, then the DES.
        self.check(self.cli.az("disk", "delete", "-g", self.rg, "-n", "disk1", "--yes"))
        self.check_fails(self.cli.az("disk", "show", "-g", self.rg, "-n", "disk1"),
                         "ResourceNotFound")
        self.check(self.cli.az("disk-encryption-set", "delete", "-n", "des-e2e", "-g", self.rg))
        self.assertNotIn("des-e2e", [d["name"] for d in self.az("disk-encryption-set", "list")])

    def test_vault_without_purge_protection_is_refused(self):
        vault_id, key_url = self.vault_with_key("kv-cmp-nopp", "cmk")
        r = self.check_fails(self.create_des("des-nopp", vault_id, key_url), "InvalidParameter")
        self.assertIn("purge protection", r.err, r.explain())

    def test_caller_without_read_on_the_des(self):
        vault = "kv-cmp-linked"
        vault_id, key_url = self.vault_with_key(vault, "cmk", "--enable-purge-protection", "true")
        self.check(self.create_des("des-linked", vault_id, key_url))
        self.grant(vault, self.des_identity("des-linked"))
        other_rg = "rg-compute-user"
        self.check(self.cli.az("group", "create", "-n", other_rg, "-l", LOCATION, "-o", "none"))
        sp = create_service_principal(self.data_dir, "disk-user")
        self.check(self.cli.az("role", "assignment", "create", "--role", "Contributor",
                               "--assignee-object-id", sp["objectId"],
                               "--assignee-principal-type", "ServicePrincipal", "--scope",
                               "/subscriptions/{}/resourceGroups/{}".format(self.sub, other_rg),
                               "-o", "none"))
        user = AzureCli(self.server, self.data_dir, self.tmp, name="az-disk-user")
        self.check(user.setup())
        self.check(user.login_service_principal(sp["appId"], sp["password"], sp["tenant"],
                                                allow_no_subscriptions=True))
        args = ("disk", "create", "-g", other_rg, "-n", "disk-linked", "--size-gb", "4",
                "--location", LOCATION, "--disk-encryption-set", self.des_id("des-linked"),
                "--encryption-type", CUSTOMER, "--subscription", self.sub, "-o", "json")
        r = self.check_fails(user.az(*args), "LinkedAuthorizationFailed")
        self.assertIn("'Microsoft.Compute/diskEncryptionSets/read' on the linked scope(s)",
                      r.err, r.explain())
        # Read on the DES is enough.
        self.check(self.cli.az("role", "assignment", "create", "--role", "Reader",
                               "--assignee-object-id", sp["objectId"],
                               "--assignee-principal-type", "ServicePrincipal", "--scope",
                               self.des_id("des-linked"), "-o", "none"))
        disk = json.loads(self.check(user.az(*args)).out)
        self.assertEqual(disk["encryption"]["type"], CUSTOMER, disk)


if __name__ == "__main__":
    unittest.main()
