"""End-to-end: the Key Vault keys data plane driven by the real Azure CLI (Debian's azure-cli 2.45,
api-versions 7.4-preview.1 for the track-2 commands and 7.2 for the track-1 ones the compat
directory provides): key create/show/list/list-versions/set-attributes/rotate/delete/recover/
purge (refused under purge protection)/backup/restore, rotation-policy show/update, access
policies with a second principal, an RBAC vault with built-in Key Vault roles, the challenge
answered to a client without a token, and the emulated clock (`byok clock advance`) purging
deleted keys and executing rotation policies.

az is slow (1-4 s per command), so each class shares one server and one login.
"""
import base64
import json
import os
import re
import unittest

from harness import (BYOK, AzureCli, Byokd, ByokServerTestCase, create_service_principal,
                     credentials, run)

LOCATION = "westeurope"
KID = re.compile(r"^https://([a-z0-9-]+)\.vault\.localhost:(\d+)/keys/([A-Za-z0-9-]+)/([0-9a-f]{32})$")
CRYPTO_USER = "Key Vault Crypto User"
CRYPTO_OFFICER = "Key Vault Crypto Officer"


def clock_advance(data_dir, duration):
    r = run([BYOK, "clock", "advance", duration, "--data-dir", data_dir])
    if r.code != 0:
        raise AssertionError("byok clock advance failed\n" + r.explain())
    return json.loads(r.out)


class KeysCliCase(ByokServerTestCase):
    """One server, the bootstrap principal logged in, a resource group and helpers."""

    rg = "rg-kv-keys"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.creds = credentials(cls.data_dir)
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
        r = self.check((cli or self.cli).az(*args, "-o", "tsv"))
        return r.out.strip()

    def create_vault(self, name, *extra):
        return self.az("keyvault", "create", "--name", name, "--resource-group", self.rg,
                       "--location", LOCATION, *extra)

    def create_key(self, vault, name, *extra):
        return self.az("keyvault", "key", "create", "--vault-name", vault, "-n", name, *extra)

    def versions(self, vault, name):
        return self.az("keyvault", "key", "list-versions", "--vault-name", vault, "-n", name)


class KeyVaultKeysCliTest(KeysCliCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vault = "kv-keys-e2e"
        cls.protected = "kv-keys-e2e-pp"
        if cls.group is not None and cls.group.code == 0:
            cls.cli.az("keyvault", "create", "--name", cls.vault, "--resource-group", cls.rg,
                       "--location", LOCATION, "-o", "none")
            cls.cli.az("keyvault", "create", "--name", cls.protected, "--resource-group", cls.rg,
                       "--location", LOCATION, "--enable-purge-protection", "true", "-o", "none")

    def test_create_show_list_rotate_and_attributes(self):
        key = self.create_key(self.vault, "cmk")
        kid = key["key"]["kid"]
        m = KID.match(kid)
        self.assertTrue(m, kid)
        self.assertEqual(m.group(1, 2, 3), (self.vault, str(self.server.port), "cmk"), kid)
        self.assertEqual(key["key"]["kty"], "RSA", key)
        self.assertEqual(sorted(key["key"]["keyOps"]),
                         sorted(["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]))
        self.assertEqual(key["attributes"]["recoveryLevel"], "Recoverable+Purgeable", key)
        self.assertEqual(key["attributes"]["recoverableDays"], 90, key)
        # The seed walkthrough's query.
        self.assertEqual(self.tsv("keyvault", "key", "show", "--vault-name", self.vault, "-n",
                                  "cmk", "--query", "[key.kid]"), kid)

        ec = self.create_key(self.vault, "cmk-ec", "--kty", "EC", "--curve", "P-384")
        self.assertEqual((ec["key"]["kty"], ec["key"]["crv"]), ("EC", "P-384"), ec)
        big = self.create_key(self.vault, "cmk-4096", "--kty", "RSA", "--size", "4096")
        self.assertEqual(len(base64.b64decode(key["key"]["n"])), 256, key)
        self.assertEqual(len(base64.b64decode(big["key"]["n"])), 512, big)
        names = sorted(k["name"] for k in self.az("keyvault", "key", "list", "--vault-name",
                                                   self.vault))
        self.assertTrue({"cmk", "cmk-ec", "cmk-4096"} <= set(names), names)

        rotated = self.az("keyvault", "key", "rotate", "--vault-name", self.vault, "-n", "cmk")
        self.assertNotEqual(rotated["key"]["kid"], kid, rotated)
        self.assertEqual(rotated["key"]["n"] != key["key"]["n"], True)
        kids = sorted(v["kid"] for v in self.versions(self.vault, "cmk"))
        self.assertEqual(kids, sorted([kid, rotated["key"]["kid"]]), kids)

        disabled = self.az("keyvault", "key", "set-attributes", "--vault-name", self.vault, "-n",
                           "cmk", "--enabled", "false")
        self.assertEqual(disabled["attributes"]["enabled"], False, disabled)
        r = self.check_fails(self.cli.az("keyvault", "key", "show", "--vault-name", self.vault,
                                         "-n", "cmk"), "KeyDisabled")
        self.assertIn("Operation get is not allowed on a disabled key.", r.err, r.explain())
        # The older version is still enabled and readable.
        old = self.az("keyvault", "key", "show", "--id", kid)
        self.assertEqual(old["key"]["kid"], kid, old)
        self.az("keyvault", "key", "set-attributes", "--vault-name", self.vault, "-n", "cmk",
                "--enabled", "true")
        self.assertEqual(self.tsv("keyvault", "key", "show", "--vault-name", self.vault, "-n",
                                  "cmk", "--query", "key.kid"), rotated["key"]["kid"])

    def test_encrypt_decrypt_with_the_cli(self):
        self.create_key(self.vault, "crypt")
        enc = self.az("keyvault", "key", "encrypt", "--vault-name", self.vault, "-n", "crypt",
                      "--algorithm", "RSA-OAEP-256", "--value", "aGVsbG8gYnlvaw==",
                      "--data-type", "base64")
        dec = self.az("keyvault", "key", "decrypt", "--vault-name", self.vault, "-n", "crypt",
                      "--algorithm", "RSA-OAEP-256", "--value", enc["result"],
                      "--data-type", "base64")
        self.assertEqual(dec["result"], "aGVsbG8gYnlvaw==", dec)

    def test_soft_delete_recover_and_purge_protection(self):
        key = self.create_key(self.protected, "pp-key")
        self.assertEqual(key["attributes"]["recoveryLevel"], "Recoverable", key)
        deleted = self.az("keyvault", "key", "delete", "--vault-name", self.protected, "-n",
                          "pp-key")
        self.assertEqual(deleted["recoveryId"], "https://{}.vault.localhost:{}/deletedkeys/pp-key"
                         .format(self.protected, self.server.port), deleted)
        self.assertTrue(deleted["scheduledPurgeDate"] and deleted["deletedDate"], deleted)
        self.check_fails(self.cli.az("keyvault", "key", "show", "--vault-name", self.protected,
                                     "-n", "pp-key"), "KeyNotFound")
        # The name is held by the deleted key.
        r = self.check_fails(self.cli.az("keyvault", "key", "create", "--vault-name",
                                         self.protected, "-n", "pp-key"),
                             "ObjectIsDeletedButRecoverable")
        self.assertIn("is currently in a deleted but recoverable state", r.err, r.explain())
        self.assertIn("pp-key", [k["name"] for k in self.az(
            "keyvault", "key", "list-deleted", "--vault-name", self.protected)])
        shown = self.az("keyvault", "key", "show-deleted", "--vault-name", self.protected, "-n",
                        "pp-key")
        self.assertEqual(shown["key"]["kid"], key["key"]["kid"], shown)
        # Purge protection: refused with Azure's message.
        r = self.check_fails(self.cli.az("keyvault", "key", "purge", "--vault-name",
                                         self.protected, "-n", "pp-key"),
                             'Operation "purge" is not allowed because purge protection is '
                             'enabled for this vault.')
        recovered = self.az("keyvault", "key", "recover", "--vault-name", self.protected, "-n",
                            "pp-key")
        self.assertEqual(recovered["key"]["kid"], key["key"]["kid"], recovered)
        self.assertEqual(self.tsv("keyvault", "key", "show", "--vault-name", self.protected,
                                  "-n", "pp-key", "--query", "key.kid"), key["key"]["kid"])

    def test_purge_and_backup_restore(self):
        key = self.create_key(self.vault, "bk")
        self.az("keyvault", "key", "rotate", "--vault-name", self.vault, "-n", "bk")
        backup = os.path.join(self.tmp, "bk.backup")
        self.check(self.cli.az("keyvault", "key", "backup", "--vault-name", self.vault, "-n", "bk",
                               "-f", backup))
        self.assertGreater(os.path.getsize(backup), 1000)
        # Restoring over a live key is refused.
        self.check_fails(self.cli.az("keyvault", "key", "restore", "--vault-name", self.vault,
                                     "-f", backup), "Conflict")
        self.az("keyvault", "key", "delete", "--vault-name", self.vault, "-n", "bk")
        self.check(self.cli.az("keyvault", "key", "purge", "--vault-name", self.vault, "-n", "bk"))
        self.assertNotIn("bk", [k["name"] for k in self.az(
            "keyvault", "key", "list-deleted", "--vault-name", self.vault)])
        restored = self.az("keyvault", "key", "restore", "--vault-name", self.vault, "-f", backup)
        self.assertEqual(restored["key"]["n"] != key["key"]["n"], True, "current = rotated version")
        kids = [v["kid"] for v in self.versions(self.vault, "bk")]
        self.assertEqual(len(kids), 2, kids)
        self.assertIn(key["key"]["kid"], kids)
        # The restored material works: the first version still decrypts what it encrypted.
        enc = self.az("keyvault", "key", "encrypt", "--id", key["key"]["kid"], "--algorithm",
                      "RSA-OAEP", "--value", "Ynlvaw==", "--data-type", "base64")
        dec = self.az("keyvault", "key", "decrypt", "--id", key["key"]["kid"], "--algorithm",
                      "RSA-OAEP", "--value", enc["result"], "--data-type", "base64")
        self.assertEqual(dec["result"], "Ynlvaw==", dec)

    def test_rotation_policy_show_and_update(self):
        self.create_key(self.vault, "rp")
        default = self.az("keyvault", "key", "rotation-policy", "show", "--vault-name", self.vault,
                          "-n", "rp")
        self.assertEqual(default["lifetimeActions"][0]["action"], "Notify", default)
        policy = os.path.join(self.tmp, "policy.json")
        with open(policy, "w") as f:
            json.dump({"lifetimeActions": [
                {"trigger": {"timeAfterCreate": "P30D"}, "action": {"type": "Rotate"}},
                {"trigger": {"timeBeforeExpiry": "P7D"}, "action": {"type": "Notify"}}],
                "attributes": {"expiryTime": "P90D"}}, f)
        updated = self.az("keyvault", "key", "rotation-policy", "update", "--vault-name",
                          self.vault, "-n", "rp", "--value", "@" + policy)
        self.assertEqual(updated["expiresIn"], "P90D", updated)
        actions = {a["action"]: a for a in updated["lifetimeActions"]}
        self.assertEqual(actions["Rotate"]["timeAfterCreate"], "P30D", updated)
        self.assertEqual(actions["Notify"]["timeBeforeExpiry"], "P7D", updated)
        shown = self.az("keyvault", "key", "rotation-policy", "show", "--vault-name", self.vault,
                        "-n", "rp")
        self.assertEqual(shown["lifetimeActions"], updated["lifetimeActions"], shown)
        # Azure's minimums: a trigger of at least 7 days.
        with open(policy, "w") as f:
            json.dump({"lifetimeActions": [
                {"trigger": {"timeAfterCreate": "P1D"}, "action": {"type": "Rotate"}}]}, f)
        self.check_fails(self.cli.az("keyvault", "key", "rotation-policy", "update",
                                     "--vault-name", self.vault, "-n", "rp", "--value",
                                     "@" + policy), "at least 7 days")

    def test_access_policy_for_a_second_principal(self):
        self.create_key(self.vault, "shared")
        sp = create_service_principal(self.data_dir, "kv-second")
        other = AzureCli(self.server, self.data_dir, self.tmp, name="az-second")
        self.check(other.setup())
        self.check(other.login_service_principal(sp["appId"], sp["password"], sp["tenant"],
                                                 allow_no_subscriptions=True))
        r = self.check_fails(other.az("keyvault", "key", "show", "--vault-name", self.vault, "-n",
                                      "shared"), "ForbiddenByPolicy")
        self.assertIn("does not have keys get permission on key vault '{};location={}'"
                      .format(self.vault, LOCATION), r.err, r.explain())
        self.az("keyvault", "set-policy", "--name", self.vault, "--resource-group", self.rg,
                "--object-id", sp["objectId"], "--key-permissions", "wrapkey", "unwrapkey", "get")
        kid = self.tsv("keyvault", "key", "show", "--vault-name", self.vault, "-n", "shared",
                       "--query", "key.kid", cli=other)
        self.assertTrue(KID.match(kid), kid)
        r = self.check_fails(other.az("keyvault", "key", "delete", "--vault-name", self.vault,
                                      "-n", "shared"), "ForbiddenByPolicy")
        self.assertIn("oid={}".format(sp["objectId"]), r.err, r.explain())
        self.assertIn("does not have keys delete permission", r.err, r.explain())
        self.check_fails(other.az("keyvault", "key", "list", "--vault-name", self.vault),
                         "does not have keys list permission")

    def test_rbac_vault_needs_a_key_vault_role(self):
        name = "kv-keys-e2e-rbac"
        vault = self.create_vault(name, "--enable-rbac-authorization", "true")
        r = self.check_fails(self.cli.az("keyvault", "key", "create", "--vault-name", name, "-n",
                                         "k"), "ForbiddenByRbac")
        self.assertIn("Microsoft.KeyVault/vaults/keys/create/action", r.err, r.explain())
        self.check(self.cli.az("role", "assignment", "create", "--role", CRYPTO_OFFICER,
                               "--assignee-object-id", self.creds["objectId"],
                               "--assignee-principal-type", "ServicePrincipal",
                               "--scope", vault["id"], "-o", "none"))
        self.create_key(name, "k")
        sp = create_service_principal(self.data_dir, "kv-rbac-user")
        user = AzureCli(self.server, self.data_dir, self.tmp, name="az-rbac")
        self.check(user.setup())
        self.check(user.login_service_principal(sp["appId"], sp["password"], sp["tenant"],
                                                allow_no_subscriptions=True))
        self.check_fails(user.az("keyvault", "key", "show", "--vault-name", name, "-n", "k"),
                         "ForbiddenByRbac")
        self.check(self.cli.az("role", "assignment", "create", "--role", CRYPTO_USER,
                               "--assignee-object-id", sp["objectId"],
                               "--assignee-principal-type", "ServicePrincipal",
                               "--scope", vault["id"], "-o", "none"))
        kid = self.tsv("keyvault", "key", "show", "--vault-name", name, "-n", "k", "--query",
                       "key.kid", cli=user)
        self.assertTrue(KID.match(kid), kid)
        enc = json.loads(self.check(user.az(
            "keyvault", "key", "encrypt", "--vault-name", name, "-n", "k", "--algorithm",
            "RSA-OAEP", "--value", "Ynlvaw==", "--data-type", "base64", "-o", "json")).out)
        self.assertTrue(enc["result"], enc)
        self.check_fails(user.az("keyvault", "key", "delete", "--vault-name", name, "-n", "k"),
                         "ForbiddenByRbac")

    def test_challenge_without_a_token(self):
        host = "{}.vault.localhost".format(self.vault)
        url = "https://{}:{}/keys/any/create?api-version=7.4".format(host, self.server.port)
        r = run(["curl", "-sS", "-i", "--cacert", self.server.ca, "--resolve",
                 "{}:{}:127.0.0.1".format(host, self.server.port), "-X", "POST",
                 "-H", "Content-Type: application/json", "--data", "{not json", url])
        self.check(r)
        self.assertIn("HTTP/1.1 401", r.out, r.explain())
        self.assertIn('WWW-Authenticate: Bearer authorization="https://localhost:{}/{}", '
                      'resource="https://vault.localhost:{}"'.format(
                          self.server.port, self.creds["tenant"], self.server.port),
                      r.out, r.explain())
        self.assertIn("AKV10000: Request is missing a Bearer or PoP token.", r.out, r.explain())


class KeyVaultKeysClockTest(KeysCliCase):
    """`byok clock advance` moves the emulated clock: rotation policies fire and the retention of
    deleted keys ends (one server of its own: the clock moves for everything on it)."""

    rg = "rg-kv-clock"

    def test_rotation_policy_then_retention(self):
        vault = "kv-keys-clock"
        self.create_vault(vault, "--enable-purge-protection", "true")
        first = self.create_key(vault, "rot")
        policy = os.path.join(self.tmp, "rot.json")
        with open(policy, "w") as f:
            json.dump({"lifetimeActions": [
                {"trigger": {"timeAfterCreate": "P30D"}, "action": {"type": "Rotate"}}]}, f)
        self.az("keyvault", "key", "rotation-policy", "update", "--vault-name", vault, "-n",
                "rot", "--value", "@" + policy)
        self.create_key(vault, "gone")
        self.az("keyvault", "key", "delete", "--vault-name", vault, "-n", "gone")

        clock_advance(self.data_dir, "29d")
        self.assertEqual(len(self.versions(vault, "rot")), 1)
        clock_advance(self.data_dir, "2d")
        versions = self.versions(vault, "rot")
        self.assertEqual(len(versions), 2, versions)
        current = self.az("keyvault", "key", "show", "--vault-name", vault, "-n", "rot")
        self.assertNotEqual(current["key"]["kid"], first["key"]["kid"], current)

        self.assertIn("gone", [k["name"] for k in self.az(
            "keyvault", "key", "list-deleted", "--vault-name", vault)])
        clock_advance(self.data_dir, "P60D")  # 91 days after the delete
        self.assertNotIn("gone", [k["name"] for k in self.az(
            "keyvault", "key", "list-deleted", "--vault-name", vault)])
        self.create_key(vault, "gone")  # the name is free again
        audit = run([BYOK, "audit", "--data-dir", self.data_dir, "--vault", vault])
        self.check(audit)
        self.assertIn("KeyRotate", audit.out, audit.explain())
        self.assertIn("KeyPurge", audit.out, audit.explain())


class KeyBackupAcrossInstallationsTest(KeysCliCase):
    """A backup made by one byok (one root key) is refused by another data directory."""

    rg = "rg-kv-backup"

    def test_backup_from_another_installation_is_refused(self):
        self.create_vault("kv-backup-src")
        self.create_key("kv-backup-src", "moving")
        blob = os.path.join(self.tmp, "moving.backup")
        self.check(self.cli.az("keyvault", "key", "backup", "--vault-name", "kv-backup-src",
                               "-n", "moving", "-f", blob))
        other_dir = os.path.join(self.tmp, "other-data")
        other = Byokd(other_dir)
        try:
            cli = AzureCli(other, other_dir, self.tmp, name="az-other")
            self.check(cli.setup())
            self.check(cli.az("group", "create", "-n", self.rg, "-l", LOCATION, "-o", "none"))
            self.check(cli.az("keyvault", "create", "--name", "kv-backup-dst", "-g", self.rg,
                              "-l", LOCATION, "-o", "none"))
            r = self.check_fails(cli.az("keyvault", "key", "restore", "--vault-name",
                                        "kv-backup-dst", "-f", blob), "BadParameter")
            self.assertIn("another byok installation", r.err, r.explain())
            # The same blob restores where it was made (after a purge frees the name).
            self.az("keyvault", "key", "delete", "--vault-name", "kv-backup-src", "-n", "moving")
            self.check(self.cli.az("keyvault", "key", "purge", "--vault-name", "kv-backup-src",
                                   "-n", "moving"))
            restored = self.az("keyvault", "key", "restore", "--vault-name", "kv-backup-src",
                               "-f", blob)
            self.assertTrue(KID.match(restored["key"]["kid"]), restored)
        finally:
            other.kill()


if __name__ == "__main__":
    unittest.main()
