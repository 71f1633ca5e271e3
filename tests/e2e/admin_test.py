"""End-to-end: byokd's emulated clock, audit and test tokens through the byok CLI
(`byok clock show|advance`, `byok audit`, `byok token`) and the admin endpoints they call
(/_byok/admin/...), including who may use them, and that tokens run on real time: after
`byok clock advance 31d` the Azure CLI's cached token still works.
"""
import json
import os
import unittest

from harness import (BYOK, AzureCli, Byokd, ByokServerTestCase, ByokTestCase,
                     client_credentials_token, create_service_principal, credentials, https, run)

DAY = 86400


def byok(*args, timeout=120):
    return run([BYOK, *args], timeout=timeout)


class ClockTest(ByokTestCase):
    """`byok clock show|advance` with and without a running server."""

    def clock(self, *args, code=0):
        r = self.check(byok("clock", *args, "--data-dir", self.data_dir), code)
        return json.loads(r.out) if code == 0 else r

    def test_show_and_advance_with_every_duration_form(self):
        shown = self.clock("show")
        self.assertEqual(shown["offsetSeconds"], 0, shown)
        self.assertTrue(shown["server"], shown)
        self.assertRegex(shown["now"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")
        expected = 0
        for duration, seconds in [("30m", 1800), ("1h", 3600), ("91d", 91 * DAY),
                                  ("P91D", 91 * DAY), ("PT1H30M", 5400), ("P1DT2H", 26 * 3600)]:
            with self.subTest(duration=duration):
                expected += seconds
                after = self.clock("advance", duration)
                self.assertEqual(after["offsetSeconds"], expected, after)
                self.assertGreater(after["now"], shown["now"])
        self.assertEqual(self.clock("show")["offsetSeconds"], expected)

    def test_never_backwards(self):
        self.clock("advance", "1h")
        r = self.clock("advance", "-1h", code=1)
        self.assertIn("only moves forward", r.err, r.explain())
        r = self.clock("advance", "ninety days", code=1)
        self.assertIn("invalid duration", r.err, r.explain())
        # The endpoint refuses too, in ARM's error shape.
        creds = credentials(self.data_dir)
        token = client_credentials_token(self.server, creds["appId"], creds["password"])
        res = https(self.server, "POST", "/_byok/admin/clock/advance",
                    {"Authorization": "Bearer " + token, "Content-Type": "application/json"},
                    json.dumps({"duration": "-PT1H"}))
        self.assertEqual(res.status, 400, res.explain())
        self.assertEqual(res.json()["error"]["code"], "ClockCannotMoveBackwards", res.explain())
        self.assertEqual(self.clock("show")["offsetSeconds"], 3600)

    def test_offset_survives_a_restart_and_advances_offline(self):
        self.clock("advance", "91d")
        self.assertEqual(self.server.stop(), 0, self.server.output())
        offline = self.clock("show")
        self.assertFalse(offline["server"], offline)
        self.assertEqual(offline["offsetSeconds"], 91 * DAY, offline)
        self.assertEqual(self.clock("advance", "1h")["offsetSeconds"], 91 * DAY + 3600)
        self.server = Byokd(self.data_dir)
        shown = self.clock("show")
        self.assertTrue(shown["server"], shown)
        self.assertEqual(shown["offsetSeconds"], 91 * DAY + 3600, shown)


class AdminAccessTest(ByokTestCase):
    """Who may use the admin endpoints, and tokens minted by `byok token` on ARM."""

    def setUp(self):
        super().setUp()
        self.creds = credentials(self.data_dir)
        self.groups_path = "/subscriptions/{}/resourcegroups?api-version=2021-04-01".format(
            self.creds["subscription"])

    def assert_401(self, r, code):
        self.assertEqual(r.status, 401, r.explain())
        self.assertEqual(r.json()["error"]["code"], code, r.explain())
        challenge = r.headers.get("WWW-Authenticate", "")
        self.assertIn('authorization_uri="https://localhost:{}/adfs"'.format(self.server.port),
                      challenge, r.explain())
        self.assertIn('error="invalid_token"', challenge, r.explain())

    def test_non_admin_principal_gets_403_everywhere(self):
        sp = create_service_principal(self.data_dir, "e2e-not-admin")
        token = client_credentials_token(self.server, sp["appId"], sp["password"])
        auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        for method, path in [("GET", "/_byok/admin/clock"),
                             ("POST", "/_byok/admin/clock/advance"),
                             ("GET", "/_byok/admin/audit"),
                             ("POST", "/_byok/admin/token")]:
            with self.subTest(path=path):
                r = https(self.server, method, path, auth,
                          json.dumps({"duration": "1d"}) if method == "POST" else None)
                self.assertEqual(r.status, 403, r.explain())
                err = r.json()["error"]
                self.assertEqual(err["code"], "AuthorizationFailed", r.explain())
                self.assertIn(sp["objectId"], err["message"])
                self.assertIn("Microsoft.Authorization/roleAssignments/write", err["message"])
                self.assertIn("/subscriptions/" + self.creds["subscription"], err["message"])
        r = self.check(byok("clock", "show", "--data-dir", self.data_dir))
        self.assertEqual(json.loads(r.out)["offsetSeconds"], 0)

    def test_no_token_is_401(self):
        self.assert_401(https(self.server, "GET", "/_byok/admin/clock"), "AuthenticationFailed")

    def test_expired_token_from_byok_token_is_401_on_arm(self):
        r = self.check(byok("token", "--expires-in", "-2h", "--data-dir", self.data_dir))
        expired = r.out.strip()
        self.assertEqual(expired.count("."), 2, r.explain())
        res = https(self.server, "GET", self.groups_path, {"Authorization": "Bearer " + expired})
        self.assert_401(res, "ExpiredAuthenticationToken")
        self.assertIn("is earlier than current UTC time", res.json()["error"]["message"])
        self.assert_401(https(self.server, "GET", "/_byok/admin/clock",
                              {"Authorization": "Bearer " + expired}),
                        "ExpiredAuthenticationToken")

    def test_valid_token_from_byok_token_works(self):
        r = self.check(byok("token", "--data-dir", self.data_dir))
        res = https(self.server, "GET", self.groups_path,
                    {"Authorization": "Bearer " + r.out.strip()})
        self.assertEqual(res.status, 200, res.explain())
        # A short-lived one for another principal: authenticated as that principal.
        sp = create_service_principal(self.data_dir, "e2e-minted")
        r = self.check(byok("token", "--app-id", sp["appId"], "--expires-in", "10m",
                            "--data-dir", self.data_dir))
        res = https(self.server, "GET", "/subscriptions?api-version=2019-11-01",
                    {"Authorization": "Bearer " + r.out.strip()})
        self.assertEqual(res.status, 200, res.explain())
        # It has no role: ARM says so with its object id.
        res = https(self.server, "GET", self.groups_path,
                    {"Authorization": "Bearer " + r.out.strip()})
        self.assertEqual(res.status, 403, res.explain())
        self.assertIn(sp["objectId"], res.body)

    def test_token_needs_a_server(self):
        self.assertEqual(self.server.stop(), 0)
        r = byok("token", "--data-dir", self.data_dir)
        self.assertEqual(r.code, 3, r.explain())

    def test_audit_lists_as_table_and_json(self):
        r = self.check(byok("audit", "--data-dir", self.data_dir))
        self.assertTrue(r.out.startswith("TIME"), r.explain())
        r = self.check(byok("audit", "--json", "--vault", "nope", "--since", "1h",
                            "--data-dir", self.data_dir))
        for line in r.out.splitlines():
            json.loads(line)
        r = byok("audit", "--since", "yesterday", "--data-dir", self.data_dir)
        self.assertEqual(r.code, 1, r.explain())
        # Offline, from the store.
        self.assertEqual(self.server.stop(), 0)
        self.check(byok("audit", "--json", "--data-dir", self.data_dir))


class AzureCliAfterClockAdvanceTest(ByokServerTestCase):
    """Tokens live on real time: the CLI's cached token survives a 31-day clock advance."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()

    def test_az_keeps_working_after_advance_31d(self):
        self.check(self.cli.setup_run)
        self.cli.az_json("group", "create", "-n", "rg-before", "-l", "westeurope")
        before = self.cli.az_json("group", "list")
        self.assertIn("rg-before", [g["name"] for g in before])
        r = self.check(run([BYOK, "clock", "advance", "31d", "--data-dir", self.data_dir]))
        self.assertEqual(json.loads(r.out)["offsetSeconds"], 31 * DAY, r.explain())
        after = self.cli.az_json("group", "list")
        self.assertIn("rg-before", [g["name"] for g in after])
        self.cli.az_json("group", "create", "-n", "rg-after", "-l", "westeurope")
        self.assertEqual(self.cli.az_json("group", "exists", "-n", "rg-after"), True)


if __name__ == "__main__":
    unittest.main()
