// byok end-to-end smoke test with the Azure SDK for JavaScript (@azure/keyvault-keys,
// @azure/identity, @azure/arm-keyvault), driven by tests/e2e/keyvault_sdk_test.py.
//
// Reads one JSON object on standard input (the secret never appears on a command line):
//   {
//     "authority":   "https://localhost:PORT",          // byokd's base URL
//     "tenant":      "<tenant GUID>", "clientId": "<app id>", "secret": "<password>",
//     "credentials": ["adfs", "guid"],                   // credential styles to run the flow with
//     "vaultUrl":    "https://{vault}.vault.localhost:PORT/",   // or createVault below
//     "createVault": {"subscription", "resourceGroup", "name", "location", "objectId",
//                     "enableRbacAuthorization": false},   // omitted: the api-version's default
//     "keyPrefix":   "js",
//     "lifecycle":   false   // true: also the rest of the keys API (see lifecycleFlow)
//   }
// For each credential style: creates an RSA key, gets it, and wraps and unwraps a random
// content-encryption key with CryptographyClient (RSA-OAEP-256 and RSA-OAEP), both with a client
// built from the KeyVaultKey (its first request is the unwrap/wrap POST itself, so the Key Vault
// challenge is answered on a POST) and with one built from the key id (first request: GET key).
// The two styles are the point: an `adfs` tenant credential and a GUID tenant credential must
// both accept the tenant that the vault's 401 challenge names.
//
// NODE_EXTRA_CA_CERTS must name byokd's CA (it only works when set before node starts).
// `*.localhost` names resolve to 127.0.0.1 through a custom https.Agent lookup (TLS still
// verifies the real vault host name). Prints one JSON line per step on stdout; on failure prints
// the SDK's error (status, code, message, response body) on stderr and exits 1.
import { createHash, randomBytes } from "node:crypto";
import dns from "node:dns";
import https from "node:https";

import { KeyVaultManagementClient } from "@azure/arm-keyvault";
import { ClientSecretCredential } from "@azure/identity";
import { CryptographyClient, KeyClient } from "@azure/keyvault-keys";

function localhostLookup(hostname, options, callback) {
  if (typeof options === "function") {
    callback = options;
    options = {};
  }
  const name = hostname.toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost")) {
    if (options && options.all) {
      callback(null, [{ address: "127.0.0.1", family: 4 }]);
    } else {
      callback(null, "127.0.0.1", 4);
    }
    return;
  }
  dns.lookup(hostname, options, callback);
}

const agent = new https.Agent({ keepAlive: true, lookup: localhostLookup });

function readStdin() {
  return new Promise((resolve, reject) => {
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => (text += chunk));
    process.stdin.on("end", () => resolve(text));
    process.stdin.on("error", reject);
  });
}

function step(fields) {
  process.stdout.write(JSON.stringify(fields) + "\n");
}

function fail(message) {
  throw new Error(message);
}

function makeCredential(style, cfg) {
  if (style === "adfs") {
    return new ClientSecretCredential("adfs", cfg.clientId, cfg.secret, {
      authorityHost: `${cfg.authority}/adfs`,
      disableInstanceDiscovery: true,
      agent,
    });
  }
  if (style === "guid") {
    return new ClientSecretCredential(cfg.tenant, cfg.clientId, cfg.secret, {
      authorityHost: cfg.authority,
      disableInstanceDiscovery: true,
      agent,
    });
  }
  fail(`unknown credential style ${style}`);
}

async function createVault(cfg) {
  const v = cfg.createVault;
  const credential = makeCredential("adfs", cfg);
  const client = new KeyVaultManagementClient(credential, v.subscription, {
    endpoint: cfg.authority,
    agent,
  });
  const properties = {
    tenantId: cfg.tenant,
    sku: { family: "A", name: "standard" },
    enableSoftDelete: true,
    accessPolicies: [
      {
        tenantId: cfg.tenant,
        objectId: v.objectId,
        permissions: { keys: ["get", "list", "create", "wrapKey", "unwrapKey"] },
      },
    ],
  };
  // From api-version 2026-02-01 (arm-keyvault 5) a new vault defaults to Azure RBAC, where
  // access policies do not apply: a JavaScript user who wants them says so.
  if (v.enableRbacAuthorization !== undefined) {
    properties.enableRbacAuthorization = v.enableRbacAuthorization;
  }
  const vault = await client.vaults.beginCreateOrUpdateAndWait(v.resourceGroup, v.name, {
    location: v.location,
    properties,
  });
  const got = await client.vaults.get(v.resourceGroup, v.name);
  if (got.properties.vaultUri !== vault.properties.vaultUri) {
    fail(`vault GET vaultUri ${got.properties.vaultUri} != ${vault.properties.vaultUri}`);
  }
  step({
    step: "createVault",
    id: vault.id,
    vaultUri: vault.properties.vaultUri,
    enableRbacAuthorization: vault.properties.enableRbacAuthorization,
    accessPolicies: (vault.properties.accessPolicies || []).map((p) => p.objectId),
  });
  return vault.properties.vaultUri;
}

async function roundTrip(cc, algorithm, label, keyId) {
  const cek = randomBytes(32);
  const wrapped = await cc.wrapKey(algorithm, cek);
  if (wrapped.result.length !== 256) {
    fail(`${label} ${algorithm}: wrapped length ${wrapped.result.length}, expected 256`);
  }
  if (wrapped.keyID !== keyId) {
    fail(`${label} ${algorithm}: wrap keyID ${wrapped.keyID}, expected ${keyId}`);
  }
  const unwrapped = await cc.unwrapKey(algorithm, wrapped.result);
  if (!Buffer.from(unwrapped.result).equals(cek)) {
    fail(`${label} ${algorithm}: unwrapped bytes differ from the wrapped key`);
  }
  if (unwrapped.keyID !== keyId) {
    fail(`${label} ${algorithm}: unwrap keyID ${unwrapped.keyID}, expected ${keyId}`);
  }
  step({ step: "wrap+unwrap", client: label, algorithm });
}

async function keysFlow(style, cfg, vaultUrl) {
  const credential = makeCredential(style, cfg);
  const keys = new KeyClient(vaultUrl, credential, { agent });
  const name = `${cfg.keyPrefix || "js"}-${style}-rsa`;
  const created = await keys.createRsaKey(name, { keySize: 2048 });
  const expectedPrefix = `${vaultUrl.replace(/\/$/, "")}/keys/${name}/`;
  if (!created.id || !created.id.startsWith(expectedPrefix)) {
    fail(`created key id ${created.id} does not start with ${expectedPrefix}`);
  }
  if (created.keyType !== "RSA" || created.key.n.length !== 256) {
    fail(`created key: kty ${created.keyType}, modulus ${created.key.n?.length} bytes`);
  }
  for (const op of ["wrapKey", "unwrapKey"]) {
    if (!created.keyOperations.includes(op)) fail(`key_ops ${created.keyOperations} lack ${op}`);
  }
  step({ step: "createKey", credential: style, kid: created.id });

  const got = await keys.getKey(name);
  if (got.id !== created.id || !Buffer.from(got.key.n).equals(Buffer.from(created.key.n))) {
    fail(`getKey returned ${got.id}, expected ${created.id} with the same modulus`);
  }
  if (got.properties.enabled !== true) fail(`getKey: enabled ${got.properties.enabled}`);
  step({ step: "getKey", credential: style, kid: got.id });

  // Built from the KeyVaultKey: no GET first, the crypto POST meets the 401 challenge itself.
  // RSA-OAEP wraps locally with the public key (the SDK's local provider) and unwraps remotely;
  // RSA-OAEP-256 does both on the service.
  const fromKey = new CryptographyClient(got, credential, { agent });
  await roundTrip(fromKey, "RSA-OAEP-256", `${style}/KeyVaultKey`, created.id);
  await roundTrip(fromKey, "RSA-OAEP", `${style}/KeyVaultKey`, created.id);
  // Built from the key id: the client GETs the key first.
  const fromId = new CryptographyClient(created.id, credential, { agent });
  await roundTrip(fromId, "RSA-OAEP", `${style}/keyId`, created.id);
  await roundTrip(fromId, "RSA-OAEP-256", `${style}/keyId`, created.id);
  // An unwrap-only client built from the key object: its very first request is an unwrap POST.
  const wrapped = await fromId.wrapKey("RSA-OAEP-256", Buffer.from("byok-js-cek-0123456789abcdef"));
  const unwrapOnly = new CryptographyClient(got, credential, { agent });
  const back = await unwrapOnly.unwrapKey("RSA-OAEP-256", wrapped.result);
  if (Buffer.from(back.result).toString() !== "byok-js-cek-0123456789abcdef") {
    fail(`unwrap-only client returned other bytes`);
  }
  step({ step: "unwrap-first-request", credential: style });
}

async function expectStatus(status, what, fn) {
  try {
    await fn();
  } catch (err) {
    if (err.statusCode === status) return err;
    throw err;
  }
  fail(`${what}: expected HTTP ${status}, the SDK call succeeded`);
}

function sameJson(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

// The rest of the keys API at the SDK's own api-version (the Azure CLI and the Python SDK test
// 7.4-preview.1): EC sign/verify, encrypt/decrypt, sign/verify on the service, update, rotate,
// versions, rotation policy, backup, random bytes, soft delete, recover, purge under protection.
async function lifecycleFlow(style, cfg, vaultUrl) {
  const credential = makeCredential(style, cfg);
  const keys = new KeyClient(vaultUrl, credential, { agent });
  const prefix = `${cfg.keyPrefix || "js"}-life`;

  const ecKey = await keys.createEcKey(`${prefix}-ec`, { curve: "P-384" });
  if (ecKey.keyType !== "EC" || ecKey.key.crv !== "P-384" || ecKey.key.x.length !== 48) {
    fail(`EC key: kty ${ecKey.keyType} crv ${ecKey.key.crv} x ${ecKey.key.x?.length} bytes`);
  }
  const ec = new CryptographyClient(ecKey, credential, { agent });
  const ecDigest = createHash("sha384").update("byok ES384").digest();
  const ecSig = await ec.sign("ES384", ecDigest);
  if (ecSig.result.length !== 96) fail(`ES384 signature of ${ecSig.result.length} bytes`);
  if (!(await ec.verify("ES384", ecDigest, ecSig.result)).result) fail("ES384 verify false");
  if ((await ec.verify("ES384", createHash("sha384").update("x").digest(), ecSig.result)).result) {
    fail("ES384 verify of another digest true");
  }
  step({ step: "ec-sign-verify", credential: style });

  const name = `${prefix}-rsa`;
  const first = await keys.createRsaKey(name, { keySize: 3072, tags: { purpose: "lifecycle" } });
  const rsa = new CryptographyClient(first, credential, { agent });
  const plaintext = Buffer.from("byok lifecycle plaintext");
  const enc = await rsa.encrypt({ algorithm: "RSA-OAEP-256", plaintext });
  const dec = await rsa.decrypt({ algorithm: "RSA-OAEP-256", ciphertext: enc.result });
  if (!Buffer.from(dec.result).equals(plaintext)) fail("RSA-OAEP-256 decrypt returned other bytes");
  const digest = createHash("sha256").update("byok PS256").digest();
  const sig = await rsa.sign("PS256", digest);
  if (!(await rsa.verify("PS256", digest, sig.result)).result) fail("PS256 verify false");
  step({ step: "encrypt-sign", credential: style });

  const updated = await keys.updateKeyProperties(name, first.properties.version, {
    tags: { purpose: "lifecycle", stage: "updated" },
    keyOps: ["wrapKey", "unwrapKey", "sign", "verify"],
  });
  if (!sameJson(updated.properties.tags, { purpose: "lifecycle", stage: "updated" })) {
    fail(`updated tags ${JSON.stringify(updated.properties.tags)}`);
  }
  if (!sameJson([...updated.keyOperations].sort(), ["sign", "unwrapKey", "verify", "wrapKey"])) {
    fail(`updated key_ops ${updated.keyOperations}`);
  }
  step({ step: "update", credential: style });

  const rotated = await keys.rotateKey(name);
  if (rotated.properties.version === first.properties.version) fail("rotate kept the version");
  const latest = await keys.getKey(name);
  if (latest.id !== rotated.id) fail(`latest ${latest.id} is not the rotated ${rotated.id}`);
  const older = await keys.getKey(name, { version: first.properties.version });
  if (older.id !== first.id) fail(`getKey(version) returned ${older.id}`);
  const versions = [];
  for await (const p of keys.listPropertiesOfKeyVersions(name)) versions.push(p.version);
  if (versions.length !== 2 || !versions.includes(first.properties.version)) {
    fail(`versions ${versions}`);
  }
  const names = [];
  for await (const p of keys.listPropertiesOfKeys()) names.push(p.name);
  if (!names.includes(name) || !names.includes(`${prefix}-ec`)) fail(`listed keys ${names}`);
  step({ step: "rotate-list", credential: style, versions: versions.length });

  const policy = await keys.updateKeyRotationPolicy(name, {
    lifetimeActions: [{ action: "Rotate", timeAfterCreate: "P30D" }],
    expiresIn: "P90D",
  });
  const gotPolicy = await keys.getKeyRotationPolicy(name);
  const action = gotPolicy.lifetimeActions?.[0];
  if (gotPolicy.expiresIn !== "P90D" || action?.timeAfterCreate !== "P30D" ||
      action.action !== "Rotate" || policy.expiresIn !== "P90D") {
    fail(`rotation policy ${JSON.stringify(gotPolicy)}`);
  }
  step({ step: "rotation-policy", credential: style });

  const backup = await keys.backupKey(name);
  if (!backup || backup.length < 100) fail(`backup of ${backup?.length} bytes`);
  const random = await keys.getRandomBytes(32);
  if (random.length !== 32) fail(`getRandomBytes returned ${random.length} bytes`);
  step({ step: "backup-random", credential: style });

  const deletePoller = await keys.beginDeleteKey(name, { intervalInMs: 200 });
  const deleted = await deletePoller.pollUntilDone();
  const { recoveryId, scheduledPurgeDate, deletedOn, recoveryLevel } = deleted.properties;
  if (recoveryId !== `${vaultUrl.replace(/\/$/, "")}/deletedkeys/${name}` || !deletedOn ||
      scheduledPurgeDate - deletedOn !== 90 * 86400e3 || recoveryLevel !== "Recoverable") {
    fail(`deleted key properties ${JSON.stringify(deleted.properties)}`);
  }
  const gotDeleted = await keys.getDeletedKey(name);
  if (gotDeleted.properties.recoveryId !== recoveryId) fail("getDeletedKey recoveryId differs");
  const deletedNames = [];
  for await (const d of keys.listDeletedKeys()) deletedNames.push(d.name);
  if (!deletedNames.includes(name)) fail(`listDeletedKeys ${deletedNames}`);
  await expectStatus(409, "create over a deleted key", () => keys.createRsaKey(name));
  await expectStatus(403, "purge under purge protection", () => keys.purgeDeletedKey(name));
  const recoverPoller = await keys.beginRecoverDeletedKey(name, { intervalInMs: 200 });
  const recovered = await recoverPoller.pollUntilDone();
  if (recovered.id !== rotated.id) fail(`recovered ${recovered.id}, expected ${rotated.id}`);
  await keys.getKey(name);
  step({ step: "delete-recover", credential: style });
}

function describeError(err) {
  const lines = [`${err.name || "Error"}: ${err.message}`];
  if (err.statusCode !== undefined) lines.push(`statusCode: ${err.statusCode}`);
  if (err.code !== undefined) lines.push(`code: ${err.code}`);
  if (err.request) lines.push(`request: ${err.request.method} ${err.request.url}`);
  if (err.response) {
    lines.push(`response status: ${err.response.status}`);
    const challenge = err.response.headers?.get?.("www-authenticate");
    if (challenge) lines.push(`response WWW-Authenticate: ${challenge}`);
    if (err.response.bodyAsText) {
      lines.push(`response body: ${err.response.bodyAsText}`);
    } else if (err.response.body !== undefined) {
      lines.push(`response body: ${JSON.stringify(err.response.body)}`);
    }
  }
  if (err.errors) for (const e of err.errors) lines.push(`  inner: ${e.name}: ${e.message}`);
  if (err.details) lines.push(`details: ${JSON.stringify(err.details)}`);
  if (err.stack) lines.push(err.stack.split("\n").slice(1).join("\n"));
  return lines.join("\n");
}

async function main() {
  const cfg = JSON.parse(await readStdin());
  let vaultUrl = cfg.vaultUrl;
  if (cfg.createVault) vaultUrl = await createVault(cfg);
  if (!vaultUrl) fail("no vaultUrl and no createVault in the configuration");
  for (const style of cfg.credentials || ["adfs", "guid"]) {
    try {
      await keysFlow(style, cfg, vaultUrl);
      if (cfg.lifecycle) await lifecycleFlow(style, cfg, vaultUrl);
    } catch (err) {
      err.message = `[credential ${style}] ${err.message}`;
      throw err;
    }
  }
  step({ step: "done" });
}

main().then(
  () => {
    agent.destroy();
  },
  (err) => {
    process.stderr.write(describeError(err) + "\n");
    agent.destroy();
    process.exitCode = 1;
  },
);
