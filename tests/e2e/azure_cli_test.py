"""End-to-end: the real Azure CLI (Debian's azure-cli) against byokd — login through
`byok azure-cli setup`, resource groups, locations, Azure RBAC — and raw HTTP authentication.

az is slow (1-2 s per command), so each class shares one server and one login.
"""
import base64
import json
import os
import tempfile
import unittest
import urllib.parse

from harness import (BYOK, AzureCli, ByokServerTestCase, client_credentials_token,
                     create_service_principal, credentials, https, run)

CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
KV_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
EXPORTED = ["AZURE_CONFIG_DIR", "REQUESTS_CA_BUNDLE", "AZURE_CORE_COLLECT_TELEMETRY",
            "AZURE_CORE_ERROR_RECOMMENDATION", "PYTHONPATH"]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(text):
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


class AzureCliTest(ByokServerTestCase):
    """The bootstrap principal (Owner of the subscription), logged in by the setup command."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.creds = credentials(cls.data_dir)
        cls.sub = cls.creds["subscription"]
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()

    def setUp(self):
        self.check(self.cli.setup_run)

    def test_setup_logs_in_and_prints_only_exports(self):
        r = self.cli.setup_run
        self.assertEqual(sorted(self.cli.exports), sorted(EXPORTED), r.explain())
        self.assertEqual(self.cli.exports["AZURE_CONFIG_DIR"], self.cli.config_dir)
        self.assertEqual(self.cli.exports["REQUESTS_CA_BUNDLE"], self.server.ca)
        self.assertEqual(self.cli.exports["AZURE_CORE_COLLECT_TELEMETRY"], "false")
        self.assertEqual(self.cli.exports["AZURE_CORE_ERROR_RECOMMENDATION"], "off")
        compat = self.cli.exports["PYTHONPATH"].split(":")[0]
        self.assertTrue(os.path.isfile(os.path.join(compat, "sitecustomize.py")), r.explain())
        self.assertNotIn(self.creds["password"], r.out + r.err)
        account = self.cli.az_json("account", "show")
        self.assertEqual(account["id"], self.sub, account)
        self.assertEqual(account["tenantId"], self.creds["tenant"], account)
        self.assertEqual(account["user"], {"name": self.creds["appId"],
                                           "type": "servicePrincipal"}, account)
        self.assertEqual(account["environmentName"], "byok-{}".format(self.server.port))
        cloud = self.cli.az_json("cloud", "show")
        self.assertEqual(cloud["endpoints"]["resourceManager"],
                         "https://localhost:{}/".format(self.server.port), cloud)
        self.assertEqual(cloud["suffixes"]["keyvaultDns"],
                         ".vault.localhost:{}".format(self.server.port), cloud)

    def test_setup_is_idempotent(self):
        again = AzureCli(self.server, self.data_dir, self.tmp)  # same config dir and cloud
        r = self.check(again.setup())
        self.assertIn("cloud update", r.err, r.explain())
        self.assertEqual(again.exports, self.cli.exports, r.explain())
        self.assertEqual(again.az_json("account", "show")["id"], self.sub)

    def test_setup_without_a_server_exits_3(self):
        empty = tempfile.mkdtemp(dir=self.tmp)
        r = run([BYOK, "azure-cli", "setup", "--data-dir", empty, "--config-dir",
                 os.path.join(empty, "az")])
        self.check(r, code=3)
        self.assertEqual(r.out, "", r.explain())

    def test_exports_carry_the_compat_fixes_and_vault_host_names(self):
        # Debian 2.45 defect 1: `az keyvault key create` imports azure.keyvault.v7_0 (a docstring).
        self.check(self.cli.az("keyvault", "key", "create", "-h"))
        # The same exports serve Debian's Python SDK: the stubs import, the authorization
        # operation groups have `.config` (defect 3), and {vault}.vault.localhost reaches byokd
        # while TLS verifies the vault's own name.
        script = "\n".join([
            "import os, socket, ssl, sys",
            "import azure.keyvault.v7_0",
            "from azure.keyvault.key_vault_id import KeyVaultIdentifier",
            "from azure.mgmt.authorization import AuthorizationManagementClient",
            "port, host = int(sys.argv[1]), 'myvault.vault.localhost'",
            "i = KeyVaultIdentifier(uri='https://%s:%d/keys/k1/v1' % (host, port),",
            "                       collection='keys')",
            "assert (i.vault, i.name, i.version) == ('https://%s:%d' % (host, port), 'k1', 'v1')",
            "ops = AuthorizationManagementClient(object(), 'sub').role_assignments",
            "assert ops.config is ops._config",
            "ctx = ssl.create_default_context(cafile=os.environ['REQUESTS_CA_BUNDLE'])",
            "with socket.create_connection((host, port), timeout=30) as raw:",
            "    with ctx.wrap_socket(raw, server_hostname=host) as s:",
            "        print(s.version())",
        ])
        r = self.check(run(["/usr/bin/python3", "-c", script, str(self.server.port)],
                           env=self.cli.env))
        self.assertRegex(r.out, r"TLSv1\.[23]", r.explain())

    def test_resource_group_lifecycle(self):
        rg = self.cli.az_json("group", "create", "-n", "rg-life", "-l", "westeurope",
                              "--tags", "env=test")
        self.assertEqual(rg["id"], "/subscriptions/{}/resourceGroups/rg-life".format(self.sub))
        self.assertEqual(rg["location"], "westeurope")
        self.assertEqual(rg["tags"], {"env": "test"})
        self.assertEqual(rg["properties"]["provisioningState"], "Succeeded")
        shown = self.cli.az_json("group", "show", "-n", "RG-LIFE")  # names are case-insensitive
        self.assertEqual(shown["name"], "rg-life")
        names = [g["name"] for g in self.cli.az_json("group", "list")]
        self.assertIn("rg-life", names)
        self.assertEqual(self.cli.az_json("group", "exists", "-n", "rg-life"), True)
        updated = self.cli.az_json("group", "update", "-n", "rg-life", "--tags", "a=1", "b=2")
        self.assertEqual(updated["tags"], {"a": "1", "b": "2"})
        self.check(self.cli.az("group", "delete", "-n", "rg-life", "--yes"))
        self.assertEqual(self.cli.az_json("group", "exists", "-n", "rg-life"), False)
        self.check_fails(self.cli.az("group", "show", "-n", "rg-life"), "ResourceGroupNotFound")

    def test_list_locations_has_real_regions(self):
        locations = {l["name"]: l for l in self.cli.az_json("account", "list-locations")}
        for name in ["eastus", "westeurope", "northeurope", "westus2", "southeastasia"]:
            self.assertIn(name, locations)
        self.assertEqual(locations["westeurope"]["displayName"], "West Europe")
        self.check_fails(self.cli.az("group", "create", "-n", "rg-nowhere", "-l", "moon-east"),
                         "LocationNotAvailableForResourceGroup")

    def test_role_definition_list_by_name(self):
        defs = self.cli.az_json("role", "definition", "list", "--name",
                                "Key Vault Crypto Service Encryption User")
        self.assertEqual(len(defs), 1, defs)
        d = defs[0]
        self.assertEqual(d["name"], KV_CRYPTO_SERVICE_ENCRYPTION_USER)
        self.assertEqual(d["roleName"], "Key Vault Crypto Service Encryption User")
        self.assertEqual(d["roleType"], "BuiltInRole")
        data_actions = d["permissions"][0]["dataActions"]
        for action in ["Microsoft.KeyVault/vaults/keys/read",
                       "Microsoft.KeyVault/vaults/keys/wrap/action",
                       "Microsoft.KeyVault/vaults/keys/unwrap/action"]:
            self.assertIn(action, data_actions)

    def test_role_assignment_create_list_delete(self):
        sp = create_service_principal(self.data_dir, "e2e-assignee")
        rg = self.cli.az_json("group", "create", "-n", "rg-roles", "-l", "westeurope")
        created = self.cli.az_json("role", "assignment", "create", "--role", "Contributor",
                                   "--assignee", sp["appId"], "--scope", rg["id"])
        self.assertEqual(created["principalId"], sp["objectId"], created)
        self.assertEqual(created["principalType"], "ServicePrincipal", created)
        self.assertEqual(created["scope"], rg["id"], created)
        self.assertTrue(created["roleDefinitionId"].endswith("/" + CONTRIBUTOR), created)
        # Same principal, role and scope again: Azure answers 409 RoleAssignmentExists ("The
        # role assignment already exists."), which this CLI turns into returning the existing one.
        again = self.cli.az_json("role", "assignment", "create", "--role", "Contributor",
                                 "--assignee", sp["appId"], "--scope", rg["id"])
        self.assertEqual(again["id"], created["id"], again)
        listed = self.cli.az_json("role", "assignment", "list", "--scope", rg["id"])
        mine = [a for a in listed if a["principalId"] == sp["objectId"]]
        self.assertEqual(len(mine), 1, listed)
        self.assertEqual(mine[0]["roleDefinitionName"], "Contributor", listed)
        self.assertEqual(mine[0]["id"], created["id"])
        by_assignee = self.cli.az_json("role", "assignment", "list", "--assignee", sp["appId"],
                                       "--all")
        self.assertEqual([a["id"] for a in by_assignee], [created["id"]], by_assignee)
        self.check(self.cli.az("role", "assignment", "delete", "--ids", created["id"]))
        self.assertEqual(self.cli.az_json("role", "assignment", "list", "--assignee",
                                          sp["appId"], "--all"), [])
        self.check(self.cli.az("group", "delete", "-n", "rg-roles", "--yes"))


class SecondPrincipalRbacTest(ByokServerTestCase):
    """A second service principal, logged in with its own config dir, against Azure RBAC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sub = credentials(cls.data_dir)["subscription"]
        cls.sub_scope = "/subscriptions/" + cls.sub
        cls.admin = AzureCli(cls.server, cls.data_dir, cls.tmp, "admin")
        cls.sp = create_service_principal(cls.data_dir, "e2e-second")
        cls.user = AzureCli(cls.server, cls.data_dir, cls.tmp, "second")
        cls.login = None
        if cls.admin.setup().code == 0 and cls.user.setup().code == 0:
            # byok lists the tenant's subscriptions to any principal of the tenant, so a
            # principal without any role can log in without --allow-no-subscriptions.
            cls.login = cls.user.login_service_principal(cls.sp["appId"], cls.sp["password"],
                                                         cls.sp["tenant"])

    def setUp(self):
        self.check(self.admin.setup_run)
        self.check(self.user.setup_run)
        self.check(self.login)
        self.assignments = []
        self.groups = []

    def tearDown(self):
        for assignment_id in self.assignments:
            self.admin.az("role", "assignment", "delete", "--ids", assignment_id)
        for name in self.groups:
            self.admin.az("group", "delete", "-n", name, "--yes")

    def assign(self, role, scope):
        a = self.admin.az_json("role", "assignment", "create", "--role", role, "--assignee",
                               self.sp["appId"], "--scope", scope)
        self.assignments.append(a["id"])
        return a

    def admin_group(self, name):
        self.groups.append(name)
        return self.admin.az_json("group", "create", "-n", name, "-l", "westeurope")

    def assert_refused(self, r, action, scope):
        self.check_fails(r, "AuthorizationFailed")
        text = (r.out + r.err).replace("\n", " ")
        self.assertIn(self.sp["objectId"], text, r.explain())
        self.assertIn(action.lower(), text.lower(), r.explain())
        self.assertIn(scope.lower(), text.lower(), r.explain())

    def test_logged_in_as_the_second_principal(self):
        account = self.user.az_json("account", "show")
        self.assertEqual(account["user"]["name"], self.sp["appId"], account)
        self.assertEqual(account["id"], self.sub, account)

    def test_no_role_then_contributor_at_subscription(self):
        self.groups.append("rg-sp-new")
        self.assert_refused(self.user.az("group", "create", "-n", "rg-sp-new", "-l", "westeurope"),
                            "Microsoft.Resources/subscriptions/resourcegroups/write",
                            self.sub_scope + "/resourcegroups/rg-sp-new")
        self.assign("Contributor", self.sub_scope)
        rg = self.user.az_json("group", "create", "-n", "rg-sp-new", "-l", "westeurope")
        self.assertEqual(rg["name"], "rg-sp-new")

    def test_contributor_on_one_group_only(self):
        rg1 = self.admin_group("rg1")
        self.admin_group("rg2")
        self.assign("Contributor", rg1["id"])
        updated = self.user.az_json("group", "update", "-n", "rg1", "--tags", "owner=second")
        self.assertEqual(updated["tags"], {"owner": "second"})
        self.assert_refused(self.user.az("group", "update", "-n", "rg2", "--tags", "x=y"),
                            "Microsoft.Resources/subscriptions/resourcegroups/",
                            self.sub_scope + "/resourcegroups/rg2")

    def test_reader_can_read_but_not_write(self):
        self.admin_group("rg-read")
        self.assign("Reader", self.sub_scope)
        shown = self.user.az_json("group", "show", "-n", "rg-read")
        self.assertEqual(shown["name"], "rg-read")
        self.groups.append("rg-reader-new")
        self.assert_refused(
            self.user.az("group", "create", "-n", "rg-reader-new", "-l", "westeurope"),
            "Microsoft.Resources/subscriptions/resourcegroups/write",
            self.sub_scope + "/resourcegroups/rg-reader-new")
        self.assert_refused(self.user.az("group", "delete", "-n", "rg-read", "--yes"),
                            "Microsoft.Resources/subscriptions/resourcegroups/delete",
                            self.sub_scope + "/resourcegroups/rg-read")
        self.assertEqual(self.admin.az_json("group", "exists", "-n", "rg-read"), True)


class RawHttpAuthenticationTest(ByokServerTestCase):
    """ARM's token validation over the wire, with urllib (no Azure client involved)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.creds = credentials(cls.data_dir)
        cls.groups_path = "/subscriptions/{}/resourcegroups?api-version=2021-04-01".format(
            cls.creds["subscription"])

    def token(self, scope="https://management.core.windows.net//.default", creds=None):
        creds = creds or self.creds
        return client_credentials_token(self.server, creds["appId"], creds["password"], scope)

    def get(self, token=None, path=None):
        headers = {"Authorization": "Bearer " + token} if token is not None else {}
        return https(self.server, "GET", path or self.groups_path, headers)

    def assert_401(self, r, code, message_part=None):
        self.assertEqual(r.status, 401, r.explain())
        err = r.json()["error"]
        self.assertEqual(err["code"], code, r.explain())
        if message_part:
            self.assertIn(message_part, err["message"], r.explain())
        challenge = r.headers.get("WWW-Authenticate", "")
        self.assertTrue(challenge.startswith("Bearer "), r.explain())
        self.assertIn('authorization_uri="https://localhost:{}/adfs"'.format(self.server.port),
                      challenge, r.explain())
        self.assertIn('error="invalid_token"', challenge, r.explain())

    def test_valid_token_is_accepted(self):
        r = self.get(self.token())
        self.assertEqual(r.status, 200, r.explain())
        self.assertIn("value", r.json())
        r = self.get(self.token(), "/subscriptions?api-version=2019-11-01")
        self.assertEqual(r.status, 200, r.explain())
        self.assertIn(self.creds["subscription"],
                      [s["subscriptionId"] for s in r.json()["value"]], r.explain())

    def test_no_token(self):
        self.assert_401(self.get(), "AuthenticationFailed",
                        "The 'Authorization' header is missing.")

    def test_token_signed_by_another_key(self):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        header, payload, signature = self.token().split(".")
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        signing_input = (header + "." + payload).encode()
        forged = signing_input.decode() + "." + b64url(
            other.sign(signing_input, padding.PKCS1v15(), hashes.SHA256()))
        self.assert_401(self.get(forged), "InvalidAuthenticationToken")
        # A genuine signature over a changed payload (a later expiry) fails the same way.
        claims = b64url_json(payload)
        claims["exp"] += 86400
        tampered = ".".join([header, b64url(json.dumps(claims).encode()), signature])
        self.assert_401(self.get(tampered), "InvalidAuthenticationToken")
        # alg "none" is never accepted.
        unsigned = ".".join([b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()),
                             payload, ""])
        self.assert_401(self.get(unsigned), "InvalidAuthenticationToken")

    def test_token_for_another_audience(self):
        for scope, audience in [("https://graph.microsoft.com/.default",
                                 "https://graph.microsoft.com"),
                                ("https://vault.azure.net/.default", "https://vault.azure.net")]:
            with self.subTest(scope=scope):
                token = self.token(scope)
                self.assertEqual(b64url_json(token.split(".")[1])["aud"].rstrip("/"), audience)
                self.assert_401(self.get(token), "InvalidAuthenticationTokenAudience", audience)

    def test_expired_token(self):
        # A genuine token (signed by byokd) that expired two hours ago, minted by `byok token`.
        r = run([BYOK, "token", "--expires-in", "-2h", "--data-dir", self.data_dir])
        self.check(r)
        expired = r.out.strip()
        claims = b64url_json(expired.split(".")[1])
        self.assertLess(claims["exp"], claims["iat"] + 3600 + 1)
        res = self.get(expired)
        self.assert_401(res, "ExpiredAuthenticationToken", "is earlier than current UTC time")
        # A valid token minted the same way is accepted.
        r = self.check(run([BYOK, "token", "--data-dir", self.data_dir]))
        self.assertEqual(self.get(r.out.strip()).status, 200)

    def test_principal_deleted_after_its_token_was_issued(self):
        sp = create_service_principal(self.data_dir, "e2e-doomed")
        token = self.token(creds=sp)
        self.assertEqual(self.get(token, "/subscriptions?api-version=2019-11-01").status, 200)
        r = run([BYOK, "sp", "delete", "--data-dir", self.data_dir, sp["appId"]])
        self.check(r)
        self.assert_401(self.get(token, "/subscriptions?api-version=2019-11-01"),
                        "InvalidAuthenticationToken")
        # And no new token for it either.
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_id": sp["appId"],
            "client_secret": sp["password"],
            "scope": "https://management.core.windows.net//.default"})
        r = https(self.server, "POST", "/adfs/oauth2/token",
                  {"Content-Type": "application/x-www-form-urlencoded"}, form)
        self.assertIn(r.status, (400, 401), r.explain())


if __name__ == "__main__":
    unittest.main()
