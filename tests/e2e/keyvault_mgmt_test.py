"""End-to-end: the Key Vault management plane (Microsoft.KeyVault/vaults, deletedVaults) driven by
the real Azure CLI (Debian's azure-cli 2.45, api-version 2022-07-01): create with purge
protection, show without a resource group (the CLI finds it through the generic resources
listing), list, update, set-policy/delete-policy, soft delete, list-deleted, recover, purge and
its refusal under purge protection, name reuse refused while a deleted vault holds the name, the
retention the vault was created with, and the scheduled purge after `byok clock advance`.

az is slow (1-2 s per command), so each class shares one server and one login.
"""
import json
import unittest

from harness import BYOK, AzureCli, ByokServerTestCase, credentials, run

OTHER_OBJECT_ID = "99999999-2222-3333-4444-555555555555"


class KeyVaultMgmtTest(ByokServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.creds = credentials(cls.data_dir)
        cls.sub = cls.creds["subscription"]
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()
        cls.rg = "rg-kv"
        cls.group = None
        if cls.cli.env is not None:
            cls.group = cls.cli.az("group", "create", "-n", cls.rg, "-l", "eastus", "-o", "none")

    def setUp(self):
        self.check(self.cli.setup_run)
        self.check(self.group)

    def az(self, *args):
        return self.cli.az_json(*args)

    def vault_id(self, name):
        return "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}".format(
            self.sub, self.rg, name)

    def create(self, name, *extra):
        return self.az("keyvault", "create", "--name", name, "--resource-group", self.rg,
                       "--location", "eastus", *extra)

    def deleted_names(self):
        return [d["name"] for d in self.az("keyvault", "list-deleted")]

    def test_create_show_list_update_and_policies(self):
        name = "kv-e2e-main"
        v = self.create(name, "--enable-purge-protection", "true")
        p = v["properties"]
        self.assertEqual(v["id"], self.vault_id(name), v)
        self.assertEqual(p["vaultUri"],
                         "https://{}.vault.localhost:{}/".format(name, self.server.port), v)
        self.assertEqual(p["enablePurgeProtection"], True, v)
        self.assertEqual(p["enableSoftDelete"], True, v)
        self.assertEqual(p["softDeleteRetentionInDays"], 90, v)
        self.assertEqual(p["enableRbacAuthorization"], False, v)
        self.assertEqual(p["provisioningState"], "Succeeded", v)
        self.assertEqual(p["sku"], {"family": "A", "name": "standard"}, v)
        self.assertEqual(p["tenantId"], self.creds["tenant"], v)
        # The CLI gives its caller every permission.
        self.assertEqual([a["objectId"] for a in p["accessPolicies"]], [self.creds["objectId"]], v)

        # No -g: the CLI finds the group through /resources?$filter=resourceType eq '...'.
        r = self.check(self.cli.az("keyvault", "show", "--name", name, "--query", "[id]",
                                   "-o", "tsv"))
        self.assertEqual(r.out.strip(), self.vault_id(name), r.explain())
        self.assertIn(name, [x["name"] for x in self.az("keyvault", "list")])

        policies = self.az("keyvault", "set-policy", "--name", name, "--resource-group", self.rg,
                           "--object-id", OTHER_OBJECT_ID, "--key-permissions", "wrapkey",
                           "unwrapkey", "get")["properties"]["accessPolicies"]
        added = [a for a in policies if a["objectId"] == OTHER_OBJECT_ID]
        self.assertEqual(len(added), 1, policies)
        self.assertEqual(sorted(added[0]["permissions"]["keys"]),
                         ["get", "unwrapKey", "wrapKey"], policies)
        self.assertEqual(added[0]["tenantId"], self.creds["tenant"], policies)
        policies = self.az("keyvault", "delete-policy", "--name", name, "--resource-group",
                           self.rg, "--object-id", OTHER_OBJECT_ID)["properties"]["accessPolicies"]
        self.assertEqual([a["objectId"] for a in policies], [self.creds["objectId"]], policies)

        updated = self.az("keyvault", "update", "--name", name, "--enable-rbac-authorization",
                          "true")
        self.assertEqual(updated["properties"]["enableRbacAuthorization"], True, updated)
        self.assertEqual(updated["properties"]["enablePurgeProtection"], True, updated)
        # Purge protection and the retention are for life.
        self.check_fails(self.cli.az("keyvault", "update", "--name", name,
                                     "--enable-purge-protection", "false"),
                         'The property "enablePurgeProtection" cannot be set to false.')
        self.check_fails(self.cli.az("keyvault", "update", "--name", name, "--retention-days",
                                     "30"), "softDeleteRetentionInDays")

    def test_soft_delete_recover_and_purge_protection(self):
        name = "kv-e2e-protected"
        self.create(name, "--enable-purge-protection", "true")
        self.check(self.cli.az("keyvault", "delete", "--name", name))
        self.check_fails(self.cli.az("keyvault", "show", "--name", name, "-g", self.rg),
                         "ResourceNotFound")
        deleted = {d["name"]: d for d in self.az("keyvault", "list-deleted")}
        self.assertIn(name, deleted)
        d = deleted[name]["properties"]
        self.assertEqual(d["vaultId"], self.vault_id(name), d)
        self.assertEqual(d["location"], "eastus", d)
        self.assertEqual(d["purgeProtectionEnabled"], True, d)
        self.assertTrue(d["deletionDate"] and d["scheduledPurgeDate"], d)

        # The deleted vault holds the name, in any resource group.
        r = self.check_fails(self.create_raw(name), "ConflictError")
        self.assertIn("A vault with the same name already exists in deleted state", r.err,
                      r.explain())
        # Purge protection: the purge is refused with Azure's code and message.
        r = self.check_fails(self.cli.az("keyvault", "purge", "--name", name), "MethodNotAllowed")
        self.assertIn("Operation 'DeletedVaultPurge' is not allowed.", r.err, r.explain())
        self.assertIn(name, self.deleted_names())

        recovered = self.az("keyvault", "recover", "--name", name)
        self.assertEqual(recovered["id"], self.vault_id(name), recovered)
        self.assertEqual(recovered["properties"]["enablePurgeProtection"], True, recovered)
        self.assertNotIn(name, self.deleted_names())
        r = self.check(self.cli.az("keyvault", "show", "--name", name, "--query", "[id]",
                                   "-o", "tsv"))
        self.assertEqual(r.out.strip(), self.vault_id(name), r.explain())

    def create_raw(self, name, *extra):
        return self.cli.az("keyvault", "create", "--name", name, "--resource-group", self.rg,
                           "--location", "eastus", *extra)

    def test_purge_without_protection_frees_the_name(self):
        name = "kv-e2e-free"
        v = self.create(name, "--retention-days", "7")
        self.assertEqual(v["properties"]["softDeleteRetentionInDays"], 7, v)
        self.assertIsNone(v["properties"]["enablePurgeProtection"], v)  # as Azure: not set
        self.check(self.cli.az("keyvault", "delete", "--name", name))
        shown = self.az("keyvault", "show-deleted", "--name", name)
        self.assertEqual(shown["properties"]["vaultId"], self.vault_id(name), shown)
        self.check(self.cli.az("keyvault", "purge", "--name", name))
        self.assertNotIn(name, self.deleted_names())
        again = self.create(name)
        self.assertEqual(again["properties"]["softDeleteRetentionInDays"], 90, again)

    def test_invalid_requests(self):
        self.check_fails(self.create_raw("1-bad"), "VaultNameNotValid")
        self.check_fails(self.create_raw("kv--bad"), "VaultNameNotValid")
        r = self.check_fails(self.cli.az("keyvault", "create", "--name", "kv-e2e-moon",
                                         "--resource-group", self.rg, "--location", "moon"),
                             "LocationNotAvailableForResourceType")
        self.check_fails(self.create_raw("kv-e2e-r91", "--retention-days", "91"), "BadRequest")
        self.check_fails(self.create_raw("kv-e2e-pp", "--enable-purge-protection", "false"),
                         'The property "enablePurgeProtection" cannot be set to false.')
        self.assertEqual(self.az("keyvault", "list", "--query", "[?name=='kv-e2e-moon']"), [],
                         r.explain())


class KeyVaultScheduledPurgeTest(ByokServerTestCase):
    """Deleted vaults are purged when their retention ends on byokd's clock, protected or not."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()

    def test_clock_advance_purges_expired_deleted_vaults(self):
        self.check(self.cli.setup_run)
        self.check(self.cli.az("group", "create", "-n", "rg-sched", "-l", "westeurope",
                               "-o", "none"))
        for name, extra in [("kv-e2e-week", ["--retention-days", "7",
                                             "--enable-purge-protection", "true"]),
                            ("kv-e2e-quarter", [])]:
            self.check(self.cli.az("keyvault", "create", "--name", name, "-g", "rg-sched",
                                   "--location", "westeurope", "-o", "none", *extra))
            self.check(self.cli.az("keyvault", "delete", "--name", name))
        names = lambda: sorted(d["name"] for d in self.cli.az_json("keyvault", "list-deleted"))
        self.assertEqual(names(), ["kv-e2e-quarter", "kv-e2e-week"])
        self.check(run([BYOK, "clock", "advance", "8d", "--data-dir", self.data_dir]))
        self.assertEqual(names(), ["kv-e2e-quarter"])
        self.check(run([BYOK, "clock", "advance", "P83D", "--data-dir", self.data_dir]))
        self.assertEqual(names(), [])
        # Both names are free again.
        self.check(self.cli.az("keyvault", "create", "--name", "kv-e2e-week", "-g", "rg-sched",
                               "--location", "westeurope", "-o", "none"))


if __name__ == "__main__":
    unittest.main()
