"""End-to-end: the real Azure SDKs against byokd's Key Vault, openssl interop, the audit log.

- Azure SDK for JavaScript (tests/e2e/node, npm `@azure/keyvault-keys`, `@azure/identity`,
  `@azure/arm-keyvault`; installed by scripts/install-node-deps.sh): create, get, wrap and unwrap
  with an `adfs` tenant credential and with a GUID tenant credential (the vault's 401 challenge
  must suit both); the rest of the keys API at the SDK's date-named api-version; vaults created
  through ARM with the JavaScript management SDK (access policies, and the RBAC default of
  api-version 2026-02-01 with a role assignment).
- Azure SDK for Python (Debian's python3-azure, this interpreter): KeyClient and
  CryptographyClient round trips for every algorithm (RSA 2048/3072/4096 wrap/unwrap and
  encrypt/decrypt with RSA-OAEP, RSA-OAEP-256, RSA1_5, sign/verify RS/PS 256/384/512; EC
  P-256/P-384/P-521 with ES256/384/512), the 403 of a principal without unwrapKey, KeyDisabled,
  KeyOperationForbidden, and AzureCliCredential with the exports of `byok azure-cli setup`.
- openssl: data wrapped locally with the key's public JWK is unwrapped by the service; signatures
  made by the service verify with `openssl dgst -verify`; signatures made by openssl with an
  imported key verify on the service.
- `byok audit` lists the SDK's operations with the caller's object id, operation and result.

One byokd and one vault for the whole class (az is slow). The vault is prepared with the real
Azure CLI (`az keyvault create`, `az keyvault set-policy`) for four principals:
  owner   the bootstrap principal (the vault creator: all key permissions);
  js      get list create wrapKey unwrapKey (drives the JavaScript SDK);
  crypto  wrapKey unwrapKey encrypt decrypt sign verify, no get: the Python CryptographyClient
          cannot fetch the key, so every operation, public ones included, runs on the service;
  nounwrap get wrapKey: its unwrap must be refused.
"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest
import warnings

from harness import BYOK, AzureCli, ByokServerTestCase, create_service_principal, credentials, run

from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.keyvault.keys import JsonWebKey, KeyClient, KeyCurveName
from azure.keyvault.keys.crypto import (CryptographyClient, EncryptionAlgorithm, KeyWrapAlgorithm,
                                        SignatureAlgorithm)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (decode_dss_signature,
                                                             encode_dss_signature)

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "node")
NODE = shutil.which("node") or "/usr/bin/node"
RG = "rg-kv-sdk"
VAULT = "byok-sdk-kv"
LOCATION = "westeurope"

WRAP_ALGORITHMS = [KeyWrapAlgorithm.rsa_oaep, KeyWrapAlgorithm.rsa_oaep_256,
                   KeyWrapAlgorithm.rsa1_5]
ENCRYPTION_ALGORITHMS = [EncryptionAlgorithm.rsa_oaep, EncryptionAlgorithm.rsa_oaep_256,
                         EncryptionAlgorithm.rsa1_5]
RSA_SIGNATURES = [(SignatureAlgorithm.rs256, hashlib.sha256),
                  (SignatureAlgorithm.rs384, hashlib.sha384),
                  (SignatureAlgorithm.rs512, hashlib.sha512),
                  (SignatureAlgorithm.ps256, hashlib.sha256),
                  (SignatureAlgorithm.ps384, hashlib.sha384),
                  (SignatureAlgorithm.ps512, hashlib.sha512)]
EC_SIGNATURES = [(KeyCurveName.p_256, SignatureAlgorithm.es256, hashlib.sha256, 32),
                 (KeyCurveName.p_384, SignatureAlgorithm.es384, hashlib.sha384, 48),
                 (KeyCurveName.p_521, SignatureAlgorithm.es512, hashlib.sha512, 66)]


def _resolve_localhost_to_loopback():
    """`{vault}.vault.localhost` -> 127.0.0.1 for this process (what the compat dir's
    sitecustomize does for az); TLS still verifies the vault's own name."""
    if getattr(socket.getaddrinfo, "_byok", False):
        return
    original = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and (name.lower() == "localhost" or
                                      name.lower().endswith(".localhost")):
            host = "127.0.0.1"
        return original(host, *args, **kwargs)

    getaddrinfo._byok = True
    socket.getaddrinfo = getaddrinfo


def _b64url_uint(data):
    return int.from_bytes(data, "big")


def _public_pem(jwk):
    """PEM public key from a KeyVaultKey's JWK (python3-cryptography)."""
    if jwk.kty in ("RSA", "RSA-HSM"):
        public = rsa.RSAPublicNumbers(_b64url_uint(jwk.e), _b64url_uint(jwk.n)).public_key()
    else:
        curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[jwk.crv]
        public = ec.EllipticCurvePublicNumbers(_b64url_uint(jwk.x), _b64url_uint(jwk.y),
                                               curve).public_key()
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


def _int_bytes(value, size=None):
    size = size or (value.bit_length() + 7) // 8
    return value.to_bytes(size, "big")


def _describe(e):
    """An SDK HttpResponseError with the service's answer, for assertion messages."""
    text = "{}: {}".format(type(e).__name__, e)
    response = getattr(e, "response", None)
    if response is not None:
        try:
            text += "\nHTTP {} {} {}\n{}".format(response.status_code, response.request.method,
                                                 response.request.url, response.text())
        except Exception:  # noqa: BLE001 - best effort diagnostics
            pass
    return text


class KeyVaultSdkTest(ByokServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_error = None
        try:
            cls._prepare()
        except Exception as e:  # noqa: BLE001 - reported by every test's setUp
            cls.setup_error = "{}: {}".format(type(e).__name__, e)

    @classmethod
    def _prepare(cls):
        os.environ["REQUESTS_CA_BUNDLE"] = cls.server.ca  # MSAL and the SDK's requests transport
        _resolve_localhost_to_loopback()
        cls.creds = credentials(cls.data_dir)
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        r = cls.cli.setup()
        if r.code != 0:
            raise AssertionError("byok azure-cli setup failed\n" + r.explain())
        cls.cli.az_json("group", "create", "-n", RG, "-l", LOCATION)
        vault = cls.cli.az_json("keyvault", "create", "--name", VAULT, "--resource-group", RG,
                                "--location", LOCATION, "--enable-purge-protection", "true")
        cls.vault_url = vault["properties"]["vaultUri"]
        cls.principals = {"owner": cls.creds}
        permissions = {"js": ["get", "list", "create", "wrapkey", "unwrapkey"],
                       "crypto": ["wrapkey", "unwrapkey", "encrypt", "decrypt", "sign", "verify"],
                       "nounwrap": ["get", "wrapkey"]}
        for name, perms in permissions.items():
            sp = create_service_principal(cls.data_dir, "e2e-kv-" + name)
            cls.principals[name] = sp
            cls.cli.az_json("keyvault", "set-policy", "--name", VAULT, "--resource-group", RG,
                            "--object-id", sp["objectId"], "--key-permissions", *perms)
        cls.cred = {name: ClientSecretCredential("adfs", p["appId"], p["password"],
                                                 authority=cls.server.url)
                    for name, p in cls.principals.items()}
        cls.keys = KeyClient(cls.vault_url, cls.cred["owner"])

    def setUp(self):
        # The SDK clients' pooled connections are left to the garbage collector.
        warnings.simplefilter("ignore", ResourceWarning)
        if self.setup_error:
            self.fail("class set-up failed: {}\n{}".format(self.setup_error, self.server.output()))

    def sdk(self, what, fn, *args, **kwargs):
        """Calls the SDK; on an HTTP error fails with the service's answer."""
        try:
            return fn(*args, **kwargs)
        except HttpResponseError as e:
            self.fail("{} failed: {}\n{}".format(what, _describe(e), self.server.output()))

    def expect_http_error(self, status, fn, *args, **kwargs):
        try:
            result = fn(*args, **kwargs)
        except HttpResponseError as e:
            self.assertEqual(e.status_code, status, _describe(e))
            return e
        self.fail("expected HTTP {}, the SDK returned {!r}".format(status, result))

    # --- JavaScript ---------------------------------------------------------------------------

    def run_node(self, config, expect_failure=False):
        """Runs keys_smoke.mjs: returns (steps, explanation), or with expect_failure the
        explanation of its (asserted) failure."""
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@azure", "keyvault-keys")):
            self.fail("tests/e2e/node has no node_modules: run scripts/install-node-deps.sh "
                      "(scripts/test.sh does)")
        env = dict(os.environ)
        env["NODE_EXTRA_CA_CERTS"] = self.server.ca  # read only at node's start
        argv = [NODE, os.path.join(NODE_DIR, "keys_smoke.mjs")]
        proc = subprocess.run(argv, cwd=NODE_DIR, env=env, input=json.dumps(config),
                              capture_output=True, text=True, timeout=300)
        explain = "node keys_smoke.mjs exited {}\nstdout:\n{}\nstderr:\n{}\n{}".format(
            proc.returncode, proc.stdout, proc.stderr, self.server.output())
        if expect_failure:
            self.assertNotEqual(proc.returncode, 0, explain)
            return explain
        self.assertEqual(proc.returncode, 0, explain)
        steps = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        self.assertEqual(steps[-1], {"step": "done"}, explain)
        return steps, explain

    def node_config(self, principal, **extra):
        p = self.principals[principal]
        config = {"authority": self.server.url, "tenant": self.creds["tenant"],
                  "clientId": p["appId"], "secret": p["password"]}
        config.update(extra)
        return config

    def test_js_sdk_keys_with_adfs_and_guid_tenant_credentials(self):
        steps, explain = self.run_node(self.node_config(
            "js", vaultUrl=self.vault_url, credentials=["adfs", "guid"], keyPrefix="js"))
        for style in ("adfs", "guid"):
            created = [s for s in steps if s["step"] == "createKey" and s["credential"] == style]
            self.assertEqual(len(created), 1, explain)
            self.assertTrue(created[0]["kid"].startswith(
                self.vault_url.rstrip("/") + "/keys/js-{}-rsa/".format(style)), explain)
            self.assertIn({"step": "unwrap-first-request", "credential": style}, steps, explain)
            for client in ("KeyVaultKey", "keyId"):
                for alg in ("RSA-OAEP", "RSA-OAEP-256"):
                    self.assertIn({"step": "wrap+unwrap", "client": "{}/{}".format(style, client),
                                   "algorithm": alg}, steps, explain)
        # The keys exist for the Python SDK too.
        key = self.sdk("get_key", self.keys.get_key, "js-guid-rsa")
        self.assertEqual(key.id, created[0]["kid"])

    def test_js_sdk_key_lifecycle_at_its_own_api_version(self):
        # The owner (all key permissions): EC sign/verify, encrypt/decrypt, update, rotate,
        # versions, rotation policy, backup, random bytes, delete, 409 on the deleted name, 403
        # purge under protection, recover -- at the JavaScript SDK's date-named api-version.
        steps, explain = self.run_node(self.node_config(
            "owner", vaultUrl=self.vault_url, credentials=["guid"], keyPrefix="jsowner",
            lifecycle=True))
        done = [s["step"] for s in steps]
        for name in ("ec-sign-verify", "encrypt-sign", "update", "rotate-list", "rotation-policy",
                     "backup-random", "delete-recover"):
            self.assertIn(name, done, explain)

    def test_js_sdk_creates_a_vault_through_arm_then_uses_it(self):
        name = "byok-js-arm-kv"
        steps, explain = self.run_node(self.node_config(
            "owner", credentials=["guid"], keyPrefix="arm",
            createVault={"subscription": self.creds["subscription"], "resourceGroup": RG,
                         "name": name, "location": LOCATION, "objectId": self.creds["objectId"],
                         "enableRbacAuthorization": False}))
        vault = steps[0]
        self.assertEqual(vault["step"], "createVault", explain)
        expected_id = "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}"
        self.assertEqual(vault["id"], expected_id.format(self.creds["subscription"], RG, name),
                         explain)
        self.assertEqual(vault["vaultUri"],
                         "https://{}.vault.localhost:{}/".format(name, self.server.port), explain)
        self.assertIs(vault["enableRbacAuthorization"], False, explain)
        self.assertEqual(vault["accessPolicies"], [self.creds["objectId"]], explain)
        self.assertIn({"step": "wrap+unwrap", "client": "guid/keyId", "algorithm": "RSA-OAEP-256"},
                      steps, explain)
        shown = self.cli.az_json("keyvault", "show", "--name", name)
        self.assertEqual(shown["properties"]["vaultUri"], vault["vaultUri"])

    def test_js_sdk_rbac_vault_by_default_and_a_role_assignment(self):
        # arm-keyvault 5 sends api-version 2026-02-01: a new vault defaults to Azure RBAC.
        name = "byok-js-rbac-kv"
        steps, explain = self.run_node(self.node_config(
            "owner", credentials=[],
            createVault={"subscription": self.creds["subscription"], "resourceGroup": RG,
                         "name": name, "location": LOCATION, "objectId": self.creds["objectId"]}))
        self.assertIs(steps[0]["enableRbacAuthorization"], True, explain)
        vault_url = steps[0]["vaultUri"]
        config = self.node_config("js", vaultUrl=vault_url, credentials=["guid"], keyPrefix="rbac")
        refused = self.run_node(config, expect_failure=True)
        self.assertIn("ForbiddenByRbac", refused, refused)
        self.assertIn("Microsoft.KeyVault/vaults/keys/create/action", refused, refused)
        self.cli.az_json("role", "assignment", "create", "--role", "Key Vault Crypto Officer",
                         "--assignee-object-id", self.principals["js"]["objectId"],
                         "--assignee-principal-type", "ServicePrincipal", "--scope", steps[0]["id"])
        steps, explain = self.run_node(config)
        self.assertIn({"step": "unwrap-first-request", "credential": "guid"}, steps, explain)

    # --- Python: every algorithm ---------------------------------------------------------------

    def test_python_rsa_round_trips_every_algorithm_and_size(self):
        for size in (2048, 3072, 4096):
            with self.subTest(size=size):
                self.rsa_round_trips(size)

    def rsa_round_trips(self, size):
        key = self.sdk("create_rsa_key", self.keys.create_rsa_key, "py-rsa-{}".format(size),
                       size=size)
        self.assertEqual(key.key_type, "RSA")
        self.assertEqual(len(key.key.n), size // 8)
        for op in ("encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"):
            self.assertIn(op, key.key_operations)
        # owner: the SDK does public-key operations itself and private ones on the service;
        # crypto: cannot GET the key (403), so everything runs on the service.
        local = CryptographyClient(key, self.cred["owner"])
        remote = CryptographyClient(key.id, self.cred["crypto"])
        pairs = [("service/service", remote, remote), ("sdk/service", local, remote),
                 ("service/service(owner)", remote, local)]
        for alg in WRAP_ALGORITHMS:
            for label, wrapper, unwrapper in pairs:
                cek = os.urandom(32)
                wrapped = self.sdk("wrap_key " + alg, wrapper.wrap_key, alg, cek)
                self.assertEqual(wrapped.key_id, key.id, (alg, label))
                self.assertEqual(len(wrapped.encrypted_key), size // 8, (alg, label))
                unwrapped = self.sdk("unwrap_key " + alg, unwrapper.unwrap_key, alg,
                                     wrapped.encrypted_key)
                self.assertEqual(unwrapped.key, cek, (alg, label))
                self.assertEqual(unwrapped.key_id, key.id, (alg, label))
        for alg in ENCRYPTION_ALGORITHMS:
            for label, encrypter, decrypter in pairs:
                plaintext = b"byok python sdk " + os.urandom(16)
                encrypted = self.sdk("encrypt " + alg, encrypter.encrypt, alg, plaintext)
                self.assertEqual(len(encrypted.ciphertext), size // 8, (alg, label))
                decrypted = self.sdk("decrypt " + alg, decrypter.decrypt, alg,
                                     encrypted.ciphertext)
                self.assertEqual(decrypted.plaintext, plaintext, (alg, label))
        for alg, hash_fn in RSA_SIGNATURES:
            digest = hash_fn(b"byok signs " + alg.encode()).digest()
            signed = self.sdk("sign " + alg, remote.sign, alg, digest)
            self.assertEqual(len(signed.signature), size // 8, alg)
            self.assertEqual(signed.key_id, key.id, alg)
            on_service = self.sdk("verify " + alg, remote.verify, alg, digest, signed.signature)
            self.assertTrue(on_service.is_valid, alg)
            self.assertTrue(local.verify(alg, digest, signed.signature).is_valid, alg)  # SDK
            other = hash_fn(b"another message").digest()
            self.assertFalse(self.sdk("verify " + alg, remote.verify, alg, other,
                                      signed.signature).is_valid, alg)
            by_owner = self.sdk("sign " + alg, local.sign, alg, digest)  # owner, on the service
            self.assertTrue(self.sdk("verify", remote.verify, alg, digest,
                                     by_owner.signature).is_valid, alg)

    def test_python_ec_sign_verify_every_curve(self):
        for curve, alg, hash_fn, coordinate in EC_SIGNATURES:
            with self.subTest(curve=curve):
                key = self.sdk("create_ec_key", self.keys.create_ec_key,
                               "py-ec-{}".format(curve.lower()), curve=curve)
                self.assertEqual(key.key_type, "EC")
                self.assertEqual(key.key.crv, curve)
                self.assertEqual(len(key.key.x), coordinate)
                self.assertEqual(len(key.key.y), coordinate)
                local = CryptographyClient(key, self.cred["owner"])
                remote = CryptographyClient(key.id, self.cred["crypto"])
                digest = hash_fn(b"byok ec " + curve.encode()).digest()
                signed = self.sdk("sign " + alg, remote.sign, alg, digest)
                self.assertEqual(len(signed.signature), 2 * coordinate, alg)  # JOSE r||s
                self.assertTrue(self.sdk("verify", remote.verify, alg, digest,
                                         signed.signature).is_valid)
                self.assertTrue(local.verify(alg, digest, signed.signature).is_valid)  # SDK
                self.assertFalse(self.sdk("verify", remote.verify, alg, hash_fn(b"x").digest(),
                                          signed.signature).is_valid)

    def test_python_sdk_with_azure_cli_credential_and_setup_exports(self):
        # What the README tells users: the shell exports of `byok azure-cli setup` serve the
        # Python SDK too (REQUESTS_CA_BUNDLE, and PYTHONPATH's compat dir maps *.localhost).
        script = "\n".join([
            "import os, sys",
            "from azure.identity import AzureCliCredential",
            "from azure.keyvault.keys import KeyClient",
            "from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm",
            "credential = AzureCliCredential()",
            "key = KeyClient(sys.argv[1], credential).create_rsa_key('py-cli-credential')",
            "crypto = CryptographyClient(key.id, credential)",
            "cek = os.urandom(32)",
            "wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, cek)",
            "assert crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256,",
            "                         wrapped.encrypted_key).key == cek",
            "print(key.id)",
        ])
        r = self.check(run(["/usr/bin/python3", "-c", script, self.vault_url], timeout=300,
                           env=self.cli.env))
        self.assertTrue(r.out.strip().startswith(self.vault_url + "keys/py-cli-credential/"),
                        r.explain())

    # --- Negative ---------------------------------------------------------------------------

    def test_principal_without_unwrap_permission_gets_403_forbidden(self):
        key = self.sdk("create_rsa_key", self.keys.create_rsa_key, "py-no-unwrap")
        crypto = CryptographyClient(key.id, self.cred["nounwrap"])  # has get and wrapKey
        wrapped = self.sdk("wrap_key", crypto.wrap_key, KeyWrapAlgorithm.rsa_oaep_256, b"k" * 32)
        e = self.expect_http_error(403, crypto.unwrap_key, KeyWrapAlgorithm.rsa_oaep_256,
                                   wrapped.encrypted_key)
        self.assertIsNotNone(e.error, _describe(e))
        self.assertEqual(e.error.code, "Forbidden", _describe(e))
        message = e.error.message
        self.assertIn("does not have keys unwrapKey permission on key vault", message,
                      _describe(e))
        self.assertIn("oid=" + self.principals["nounwrap"]["objectId"], message, _describe(e))
        # the same key still unwraps for a principal that may
        owner = CryptographyClient(key, self.cred["owner"])
        self.assertEqual(self.sdk("unwrap_key", owner.unwrap_key, KeyWrapAlgorithm.rsa_oaep_256,
                                  wrapped.encrypted_key).key, b"k" * 32)
        # and a principal without get is refused a GET with the same wording
        e = self.expect_http_error(403, KeyClient(self.vault_url, self.cred["crypto"]).get_key,
                                   "py-no-unwrap")
        self.assertEqual(e.error.code, "Forbidden", _describe(e))
        self.assertIn("does not have keys get permission on key vault", e.error.message)

    def test_operation_outside_key_ops_is_key_operation_forbidden(self):
        key = self.sdk("create_rsa_key", self.keys.create_rsa_key, "py-wrap-only",
                       key_operations=["wrapKey", "unwrapKey"])
        self.assertEqual(sorted(key.key_operations), ["unwrapKey", "wrapKey"])
        remote = CryptographyClient(key.id, self.cred["crypto"])  # every call on the service
        wrapped = self.sdk("wrap_key", remote.wrap_key, KeyWrapAlgorithm.rsa_oaep_256, b"w" * 32)
        self.assertEqual(self.sdk("unwrap_key", remote.unwrap_key, KeyWrapAlgorithm.rsa_oaep_256,
                                  wrapped.encrypted_key).key, b"w" * 32)
        for what, call in [
                ("encrypt", lambda: remote.encrypt(EncryptionAlgorithm.rsa_oaep_256, b"x")),
                ("sign", lambda: remote.sign(SignatureAlgorithm.rs256, b"\1" * 32))]:
            with self.subTest(operation=what):
                e = self.expect_http_error(403, call)
                self.assertIsNotNone(e.error, _describe(e))
                inner = (e.error.innererror or {}).get("code")
                self.assertIn("KeyOperationForbidden", (e.error.code, inner), _describe(e))
                self.assertIn("Operation {} is not permitted on this key".format(what),
                              e.error.message, _describe(e))

    def test_disabled_key_is_refused_with_key_disabled(self):
        key = self.sdk("create_rsa_key", self.keys.create_rsa_key, "py-disabled")
        owner = CryptographyClient(key, self.cred["owner"])
        remote = CryptographyClient(key.id, self.cred["crypto"])
        wrapped = self.sdk("wrap_key", remote.wrap_key, KeyWrapAlgorithm.rsa_oaep, b"d" * 32)
        props = self.sdk("disable", self.keys.update_key_properties, "py-disabled", enabled=False)
        self.assertFalse(props.properties.enabled)
        digest = hashlib.sha256(b"disabled").digest()
        for what, call in [
                ("unwrap", lambda: owner.unwrap_key(KeyWrapAlgorithm.rsa_oaep,
                                                    wrapped.encrypted_key)),
                ("wrap", lambda: remote.wrap_key(KeyWrapAlgorithm.rsa_oaep, b"d" * 32)),
                ("sign", lambda: owner.sign(SignatureAlgorithm.rs256, digest)),
                ("decrypt", lambda: remote.decrypt(EncryptionAlgorithm.rsa_oaep_256, b"\0" * 256))]:
            with self.subTest(operation=what):
                e = self.expect_http_error(403, call)
                self.assertIsNotNone(e.error, _describe(e))
                inner = (e.error.innererror or {}).get("code")
                self.assertIn("KeyDisabled", (e.error.code, inner), _describe(e))
        self.sdk("enable", self.keys.update_key_properties, "py-disabled", enabled=True)
        self.assertEqual(self.sdk("unwrap", owner.unwrap_key, KeyWrapAlgorithm.rsa_oaep,
                                  wrapped.encrypted_key).key, b"d" * 32)

    # --- openssl interop ----------------------------------------------------------------------

    def openssl(self, *args):
        return self.check(run(["openssl", *args]))

    def write(self, name, data):
        path = os.path.join(self.work, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def read(self, name):
        with open(os.path.join(self.work, name), "rb") as f:
            return f.read()

    def test_openssl_wraps_with_the_public_jwk_and_the_service_unwraps(self):
        self.work = tempfile.mkdtemp(dir=self.tmp)
        key = self.sdk("create_rsa_key", self.keys.create_rsa_key, "ossl-rsa", size=3072)
        pub = self.write("pub.pem", _public_pem(key.key))
        remote = CryptographyClient(key.id, self.cred["crypto"])
        paddings = {
            KeyWrapAlgorithm.rsa_oaep_256: ["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt",
                                            "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"],
            KeyWrapAlgorithm.rsa_oaep: ["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt",
                                        "rsa_oaep_md:sha1"],
            KeyWrapAlgorithm.rsa1_5: ["-pkeyopt", "rsa_padding_mode:pkcs1"],
        }
        for alg, opts in paddings.items():
            with self.subTest(algorithm=alg):
                cek = os.urandom(32)
                self.write("cek", cek)
                self.openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", pub, *opts,
                             "-in", os.path.join(self.work, "cek"),
                             "-out", os.path.join(self.work, "wrapped"))
                wrapped = self.read("wrapped")
                self.assertEqual(len(wrapped), 384)
                got = self.sdk("unwrap " + alg, remote.unwrap_key, alg, wrapped)
                self.assertEqual(got.key, cek)

    def test_openssl_verifies_service_signatures(self):
        self.work = tempfile.mkdtemp(dir=self.tmp)
        data = self.write("data", b"signed by byok's Key Vault\n" * 10)
        rsa_key = self.sdk("create_rsa_key", self.keys.create_rsa_key, "ossl-sign-rsa")
        rsa_pub = self.write("rsa.pem", _public_pem(rsa_key.key))
        rsa_crypto = CryptographyClient(rsa_key.id, self.cred["crypto"])
        for alg, hash_fn in RSA_SIGNATURES:
            with self.subTest(algorithm=alg):
                digest = hash_fn(self.read("data")).digest()
                sig = self.write("sig", self.sdk("sign", rsa_crypto.sign, alg, digest).signature)
                pss = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"] \
                    if alg.startswith("PS") else []
                r = self.openssl("dgst", "-" + hash_fn().name, *pss, "-verify", rsa_pub,
                                 "-signature", sig, data)
                self.assertIn("Verified OK", r.out)
        for curve, alg, hash_fn, coordinate in EC_SIGNATURES:
            with self.subTest(algorithm=alg):
                ec_key = self.sdk("create_ec_key", self.keys.create_ec_key,
                                  "ossl-sign-" + curve.lower(), curve=curve)
                ec_pub = self.write("ec.pem", _public_pem(ec_key.key))
                crypto = CryptographyClient(ec_key.id, self.cred["crypto"])
                raw = self.sdk("sign", crypto.sign, alg, hash_fn(self.read("data")).digest())
                r_s = raw.signature
                der = encode_dss_signature(int.from_bytes(r_s[:coordinate], "big"),
                                           int.from_bytes(r_s[coordinate:], "big"))
                sig = self.write("sig", der)
                r = self.openssl("dgst", "-" + hash_fn().name, "-verify", ec_pub, "-signature",
                                 sig, data)
                self.assertIn("Verified OK", r.out)

    def test_service_verifies_openssl_signatures_with_imported_keys(self):
        self.work = tempfile.mkdtemp(dir=self.tmp)
        data = self.write("data", b"signed by openssl\n")
        digest = hashlib.sha256(b"signed by openssl\n").digest()
        # RSA: openssl makes the key, the SDK imports it (private JWK), openssl signs.
        rsa_pem = os.path.join(self.work, "rsa-key.pem")
        self.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                     "-out", rsa_pem)
        with open(rsa_pem, "rb") as f:
            private = serialization.load_pem_private_key(f.read(), None)
        n = private.private_numbers()
        pub = n.public_numbers
        size = 256
        jwk = JsonWebKey(kty="RSA", key_ops=["sign", "verify", "wrapKey", "unwrapKey"],
                         n=_int_bytes(pub.n, size), e=_int_bytes(pub.e), d=_int_bytes(n.d, size),
                         p=_int_bytes(n.p), q=_int_bytes(n.q), dp=_int_bytes(n.dmp1),
                         dq=_int_bytes(n.dmq1), qi=_int_bytes(n.iqmp))
        imported = self.sdk("import_key", self.keys.import_key, "ossl-imported-rsa", jwk)
        self.assertEqual(imported.key.n, _int_bytes(pub.n, size))
        self.assertIsNone(imported.key.d)  # private members are never returned
        crypto = CryptographyClient(imported.id, self.cred["crypto"])
        for alg, pss in [(SignatureAlgorithm.rs256, []),
                         (SignatureAlgorithm.ps256, ["-sigopt", "rsa_padding_mode:pss", "-sigopt",
                                                     "rsa_pss_saltlen:digest"])]:
            with self.subTest(algorithm=alg):
                sig = os.path.join(self.work, "rsa.sig")
                self.openssl("dgst", "-sha256", "-sign", rsa_pem, *pss, "-out", sig, data)
                with open(sig, "rb") as f:
                    signature = f.read()
                self.assertTrue(self.sdk("verify", crypto.verify, alg, digest, signature).is_valid)
                self.assertFalse(self.sdk("verify", crypto.verify, alg,
                                          hashlib.sha256(b"other").digest(), signature).is_valid)
        # and the service unwraps what openssl wrapped with the imported key's public half
        cek = self.write("cek", os.urandom(32))
        wrapped = os.path.join(self.work, "wrapped")
        self.openssl("pkeyutl", "-encrypt", "-inkey", rsa_pem, "-pkeyopt",
                     "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt",
                     "rsa_mgf1_md:sha256", "-in", cek, "-out", wrapped)
        with open(wrapped, "rb") as f:
            got = self.sdk("unwrap", crypto.unwrap_key, KeyWrapAlgorithm.rsa_oaep_256, f.read())
        self.assertEqual(got.key, self.read("cek"))
        # EC P-256
        ec_pem = os.path.join(self.work, "ec-key.pem")
        self.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", ec_pem)
        with open(ec_pem, "rb") as f:
            ec_private = serialization.load_pem_private_key(f.read(), None)
        en = ec_private.private_numbers()
        ec_jwk = JsonWebKey(kty="EC", crv="P-256", key_ops=["sign", "verify"],
                            x=_int_bytes(en.public_numbers.x, 32),
                            y=_int_bytes(en.public_numbers.y, 32),
                            d=_int_bytes(en.private_value, 32))
        ec_imported = self.sdk("import_key", self.keys.import_key, "ossl-imported-ec", ec_jwk)
        sig = os.path.join(self.work, "ec.sig")
        self.openssl("dgst", "-sha256", "-sign", ec_pem, "-out", sig, data)
        with open(sig, "rb") as f:
            r_int, s_int = decode_dss_signature(f.read())
        jose = _int_bytes(r_int, 32) + _int_bytes(s_int, 32)
        ec_crypto = CryptographyClient(ec_imported.id, self.cred["crypto"])
        self.assertTrue(self.sdk("verify", ec_crypto.verify, SignatureAlgorithm.es256, digest,
                                 jose).is_valid)

    # --- Audit ------------------------------------------------------------------------------

    def test_audit_lists_sdk_operations_with_caller_operation_and_result(self):
        key = self.sdk("create_rsa_key", self.keys.create_rsa_key, "py-audited")
        crypto = CryptographyClient(key.id, self.cred["crypto"])
        wrapped = self.sdk("wrap", crypto.wrap_key, KeyWrapAlgorithm.rsa_oaep_256, b"a" * 32)
        self.sdk("unwrap", crypto.unwrap_key, KeyWrapAlgorithm.rsa_oaep_256,
                 wrapped.encrypted_key)
        refused = CryptographyClient(key.id, self.cred["nounwrap"])
        self.expect_http_error(403, refused.unwrap_key, KeyWrapAlgorithm.rsa_oaep_256,
                               wrapped.encrypted_key)

        r = self.check(run([BYOK, "audit", "--data-dir", self.data_dir, "--vault", VAULT,
                            "--json"]))
        records = self.parse_audit(r.out)
        mine = [rec for rec in records if rec.get("object", rec.get("key")) == "py-audited"]
        crypto_oid = self.principals["crypto"]["objectId"]
        nounwrap_oid = self.principals["nounwrap"]["objectId"]
        owner_oid = self.creds["objectId"]

        def find(oid, operation, result):
            return [rec for rec in mine if rec.get("callerObjectId") == oid and
                    rec.get("operation") == operation and rec.get("result") == result]

        self.assertTrue(find(owner_oid, "KeyCreate", "Success"), json.dumps(mine, indent=1))
        self.assertTrue(find(crypto_oid, "KeyWrap", "Success"), json.dumps(mine, indent=1))
        self.assertTrue(find(crypto_oid, "KeyUnwrap", "Success"), json.dumps(mine, indent=1))
        refusals = [rec for rec in mine if rec.get("callerObjectId") == nounwrap_oid and
                    rec.get("operation") == "KeyUnwrap" and rec.get("status") == 403]
        self.assertEqual(len(refusals), 1, json.dumps(mine, indent=1))
        self.assertTrue(refusals[0].get("result", "").startswith("Forbidden"), refusals[0])
        for rec in mine:
            self.assertEqual(rec.get("vault"), VAULT, rec)
            self.assertTrue(rec.get("requestId"), rec)
        # the JavaScript and earlier Python operations are there too (other tests may not have
        # run: only check the kinds of operations present)
        operations = {rec.get("operation") for rec in records}
        self.assertIn("KeyUnwrap", operations)
        # no key material and no token in the audit output
        self.assertNotIn(self.principals["crypto"]["password"], r.out)

    @staticmethod
    def parse_audit(text):
        text = text.strip()
        if not text:
            return []
        try:
            doc = json.loads(text)
        except ValueError:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        if isinstance(doc, dict):
            doc = doc.get("value", doc.get("records", []))
        return doc


if __name__ == "__main__":
    unittest.main()
