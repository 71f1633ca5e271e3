"""End-to-end: AKS managed clusters and agent pools (Microsoft.ContainerService) driven by the real
Azure CLI (Debian's azure-cli 2.45: api-version 2022-11-01 for managedClusters and agentPools,
2019-04-01 for `az aks get-versions`), with the seed document's commands:

  az aks create --name C --resource-group RG --node-osdisk-diskencryptionset-id $desId
      --generate-ssh-keys --node-osdisk-type Managed
  the Ephemeral form with --node-vm-size Standard_DS3_v2 (and without it: VMCacheSizeTooSmall)
  az aks nodepool add --cluster-name C --resource-group RG --name np2 --node-osdisk-type Ephemeral
      (VMCacheSizeTooSmall on the default size; with --node-vm-size Standard_DS3_v2 it inherits
      the cluster's DES)
  az aks show --query "identity.principalId"
  az aks nodepool scale --node-count 0 and back (User pool); 0 refused for the System pool
  az aks scale, az aks get-credentials, az aks get-versions, az aks stop/start, az aks delete
  (the node resource group and its disks go)

and the refusals the seed states: a DES set by an update (`az aks update` has no DES flag in 2.45:
a raw ARM PUT with `az rest`), virtual nodes with a DES (`az rest`: the CLI's virtual-node flags
need network resources byok does not model), a caller without read on the DES
(LinkedAuthorizationFailed). Node OS disks, revocation and rotation are aks_nodes_test.py's.

az is slow (1-4 s per command), so the class shares one server, one login and one DES.
"""
import json
import os
import unittest

from harness import BYOK, AzureCli, ByokServerTestCase, create_service_principal, credentials, run

LOCATION = "westeurope"
API = "2022-11-01"


class AksCliTest(ByokServerTestCase):

    rg = "rg-aks"
    vault = "kv-aks-e2e"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.creds = credentials(cls.data_dir)
        cls.sub = cls.creds["subscription"]
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()
        cls.prepared = None
        if cls.cli.env is not None:
            cls.prepared = cls.prepare()

    @classmethod
    def prepare(cls):
        """The seed's first steps: a group, a vault with purge protection, a key, a DES whose
        identity may get/wrap/unwrap the key. Returns the first failed Run, or None."""
        az = cls.cli.az
        steps = [
            ("group", "create", "-n", cls.rg, "-l", LOCATION, "-o", "none"),
            ("keyvault", "create", "--name", cls.vault, "--resource-group", cls.rg, "--location",
             LOCATION, "--enable-purge-protection", "true", "-o", "none"),
            ("keyvault", "key", "create", "--vault-name", cls.vault, "--name", "cmk",
             "--protection", "software", "-o", "none"),
        ]
        for step in steps:
            r = az(*step)
            if r.code != 0:
                return r
        vault_id = az("keyvault", "show", "--name", cls.vault, "--query", "[id]", "-o", "tsv")
        key_url = az("keyvault", "key", "show", "--vault-name", cls.vault, "--name", "cmk",
                     "--query", "[key.kid]", "-o", "tsv")
        for r in (vault_id, key_url):
            if r.code != 0:
                return r
        for des in ("des-aks", "des-aks2"):
            r = az("disk-encryption-set", "create", "--name", des, "--location", LOCATION,
                   "--resource-group", cls.rg, "--source-vault", vault_id.out.strip(),
                   "--key-url", key_url.out.strip(), "-o", "none")
            if r.code != 0:
                return r
            identity = az("disk-encryption-set", "show", "--name", des, "--resource-group",
                          cls.rg, "--query", "[identity.principalId]", "-o", "tsv")
            if identity.code != 0:
                return identity
            r = az("keyvault", "set-policy", "--name", cls.vault, "--resource-group", cls.rg,
                   "--object-id", identity.out.strip(), "--key-permissions", "wrapkey",
                   "unwrapkey", "get", "-o", "none")
            if r.code != 0:
                return r
        return None

    def setUp(self):
        self.check(self.cli.setup_run)
        if self.prepared is not None:
            self.check(self.prepared)

    # ---- helpers ----

    def az(self, *args):
        return self.cli.az_json(*args)

    def des_id(self, name="des-aks"):
        return ("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/"
                "diskEncryptionSets/{}").format(self.sub, self.rg, name)

    def cluster_url(self, name, rg=None):
        return ("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/"
                "managedClusters/{}?api-version={}").format(self.sub, rg or self.rg, name, API)

    def nodes(self, cluster_id):
        """`byok node list --json`: the nodes of the cluster (also after it is gone, when
        `--cluster` would answer ResourceNotFound)."""
        r = self.check(run([BYOK, "node", "list", "--json", "--data-dir", self.data_dir]))
        return [n for n in json.loads(r.out) if n["clusterId"].lower() == cluster_id.lower()]

    def rest_put(self, url, body):
        path = os.path.join(self.tmp, "body.json")
        with open(path, "w") as f:
            json.dump(body, f)
        return self.cli.az("rest", "--method", "put", "--url", url, "--body", "@" + path)

    def create(self, name, *extra):
        return self.cli.az("aks", "create", "--name", name, "--resource-group", self.rg,
                           "--node-osdisk-diskencryptionset-id", self.des_id(),
                           "--generate-ssh-keys", *extra, "-o", "json")

    def delete(self, name):
        self.check(self.cli.az("aks", "delete", "--name", name, "--resource-group", self.rg,
                               "--yes"))

    # ---- tests ----

    def test_managed_cluster_walkthrough(self):
        c = json.loads(self.check(self.create("aks-managed", "--node-osdisk-type", "Managed")).out)
        self.assertEqual(c["provisioningState"], "Succeeded", c)
        self.assertEqual(c["diskEncryptionSetId"].lower(), self.des_id().lower(), c)
        self.assertEqual(c["kubernetesVersion"], "1.24.9", c)
        self.assertEqual(c["identity"]["type"], "SystemAssigned", c)
        node_rg = "MC_{}_aks-managed_{}".format(self.rg, LOCATION)
        self.assertEqual(c["nodeResourceGroup"], node_rg, c)
        self.assertRegex(c["fqdn"], r"\.hcp\.westeurope\.azmk8s\.io$")
        pool = c["agentPoolProfiles"][0]
        self.assertEqual((pool["name"], pool["count"], pool["vmSize"], pool["osDiskSizeGb"],
                          pool["osDiskType"], pool["mode"]),
                         ("nodepool1", 3, "Standard_DS2_v2", 128, "Managed", "System"), c)
        cluster_id = c["id"]

        # The seed's aksIdentity=$(az aks show ... --query "identity.principalId"): JSON-quoted.
        shown = self.check(self.cli.az("aks", "show", "--resource-group", self.rg, "--name",
                                       "aks-managed", "--query", "identity.principalId"))
        self.assertEqual(json.loads(shown.out), c["identity"]["principalId"], shown.explain())

        # Three nodes, each with a managed OS disk in the node resource group, under the DES.
        nodes = self.nodes(cluster_id)
        self.assertEqual(len(nodes), 3, nodes)
        for n in nodes:
            self.assertEqual((n["state"], n["osDiskType"]), ("Ready", "Managed"), n)
            self.assertEqual(n["diskEncryptionSetId"].lower(), self.des_id().lower(), n)
        disks = self.az("disk", "list", "-g", node_rg)
        self.assertEqual(len(disks), 3, disks)
        for d in disks:
            self.assertEqual(d["encryption"]["type"], "EncryptionAtRestWithCustomerKey", d)
            self.assertEqual(d["diskState"], "Attached", d)
        group = self.az("group", "show", "-n", node_rg)
        self.assertEqual(group["managedBy"].lower(), cluster_id.lower(), group)

        # az aks nodepool add ... --node-osdisk-type Ephemeral: the default size can't hold it.
        add = ("aks", "nodepool", "add", "--cluster-name", "aks-managed", "--resource-group",
               self.rg, "--name", "np2", "--node-osdisk-type", "Ephemeral", "-o", "json")
        r = self.check_fails(self.cli.az(*add), "VMCacheSizeTooSmall")
        self.assertIn("The virtual machine size Standard_DS2_v2 has a cache size of 92341796864 "
                      "bytes, but the OS disk requires 137438953472 bytes", r.err, r.explain())
        np2 = json.loads(self.check(self.cli.az(*add, "--node-vm-size", "Standard_DS3_v2")).out)
        self.assertEqual((np2["osDiskType"], np2["mode"], np2["provisioningState"]),
                         ("Ephemeral", "User", "Succeeded"), np2)
        ephemeral = [n for n in self.nodes(cluster_id) if n["poolName"] == "np2"]
        self.assertEqual(len(ephemeral), np2["count"], ephemeral)
        for n in ephemeral:
            # New pools inherit the cluster's DES.
            self.assertEqual(n["diskEncryptionSetId"].lower(), self.des_id().lower(), n)
            self.assertEqual((n["osDiskType"], n["state"]), ("Ephemeral", "Ready"), n)
        names = [p["name"] for p in self.az("aks", "nodepool", "list", "--cluster-name",
                                            "aks-managed", "--resource-group", self.rg)]
        self.assertEqual(sorted(names), ["nodepool1", "np2"])

        # Scale the User pool to 0 and back; the System pool refuses 0.
        scale = ("aks", "nodepool", "scale", "--cluster-name", "aks-managed", "--resource-group",
                 self.rg, "--name")
        zero = self.az(*scale, "np2", "--node-count", "0")
        self.assertEqual(zero["count"], 0, zero)
        self.assertEqual([n for n in self.nodes(cluster_id) if n["poolName"] == "np2"], [])
        back = self.az(*scale, "np2", "--node-count", "2")
        self.assertEqual(back["count"], 2, back)
        self.assertEqual(len([n for n in self.nodes(cluster_id) if n["poolName"] == "np2"]), 2)
        r = self.check_fails(self.cli.az(*scale, "nodepool1", "--node-count", "0"),
                             "InvalidParameter")
        self.assertIn("agentPoolProfile.count is invalid", r.err, r.explain())
        # az aks scale goes through the managed cluster document.
        scaled = self.az("aks", "scale", "--name", "aks-managed", "--resource-group", self.rg,
                         "--nodepool-name", "nodepool1", "--node-count", "2")
        counts = {p["name"]: p["count"] for p in scaled["agentPoolProfiles"]}
        self.assertEqual(counts, {"nodepool1": 2, "np2": 2}, scaled)
        # The last System pool can't be deleted.
        self.check_fails(self.cli.az("aks", "nodepool", "delete", "--cluster-name", "aks-managed",
                                     "--resource-group", self.rg, "--name", "nodepool1"),
                         "There has to be at least one system agent pool")

        # An update that changes the DES is refused (the CLI has no flag for it: a raw ARM PUT).
        doc = self.az("rest", "--method", "get", "--url", self.cluster_url("aks-managed"))
        doc["properties"]["diskEncryptionSetID"] = self.des_id("des-aks2")
        r = self.check_fails(self.rest_put(self.cluster_url("aks-managed"), doc),
                             "PropertyChangeNotAllowed")
        self.assertIn("Changing property 'diskEncryptionSetID' is not allowed.", r.err,
                      r.explain())

        # Credentials: a kubeconfig for the cluster's API on byokd, with a client certificate.
        kubeconfig = os.path.join(self.tmp, "kubeconfig")
        self.check(self.cli.az("aks", "get-credentials", "--name", "aks-managed",
                               "--resource-group", self.rg, "--file", kubeconfig))
        with open(kubeconfig) as f:
            text = f.read()
        self.assertIn("server: https://localhost:{}/k8s/".format(self.server.port), text)
        self.assertIn("client-certificate-data:", text)
        self.assertIn("name: clusterUser_{}_aks-managed".format(self.rg), text)
        self.assertIn("current-context: aks-managed", text)
        admin = os.path.join(self.tmp, "kubeconfig-admin")
        self.check(self.cli.az("aks", "get-credentials", "--name", "aks-managed",
                               "--resource-group", self.rg, "--admin", "--file", admin))
        with open(admin) as f:
            self.assertIn("current-context: aks-managed-admin", f.read())

        # Stop and start.
        self.check(self.cli.az("aks", "stop", "--name", "aks-managed", "--resource-group",
                               self.rg))
        c = self.az("aks", "show", "--name", "aks-managed", "--resource-group", self.rg)
        self.assertEqual(c["powerState"]["code"], "Stopped", c)
        self.assertEqual({n["state"] for n in self.nodes(cluster_id)}, {"Deallocated"})
        self.check(self.cli.az("aks", "start", "--name", "aks-managed", "--resource-group",
                               self.rg))
        c = self.az("aks", "show", "--name", "aks-managed", "--resource-group", self.rg)
        self.assertEqual(c["powerState"]["code"], "Running", c)
        self.assertEqual({n["state"] for n in self.nodes(cluster_id)}, {"Ready"})

        # Delete: the node resource group and its disks go with the cluster.
        self.delete("aks-managed")
        exists = self.check(self.cli.az("group", "exists", "-n", node_rg))
        self.assertEqual(exists.out.strip(), "false", exists.explain())
        self.check_fails(self.cli.az("aks", "show", "--name", "aks-managed", "--resource-group",
                                     self.rg), "ResourceNotFound")
        self.assertEqual(self.nodes(cluster_id), [])
        self.assertEqual([d for d in self.az("disk", "list") if d["resourceGroup"].lower() ==
                          node_rg.lower()], [])

    def test_ephemeral_cluster(self):
        # The default size (Standard_DS2_v2, 86 GiB cache) can't hold the 128 GB OS disk.
        r = self.check_fails(self.create("aks-eph", "--node-osdisk-type", "Ephemeral"),
                             "VMCacheSizeTooSmall")
        self.assertIn("Use a VM size with larger cache or disable ephemeral OS.", r.err,
                      r.explain())
        c = json.loads(self.check(self.create("aks-eph", "--node-osdisk-type", "Ephemeral",
                                              "--node-vm-size", "Standard_DS3_v2")).out)
        pool = c["agentPoolProfiles"][0]
        self.assertEqual((pool["osDiskType"], pool["vmSize"]), ("Ephemeral", "Standard_DS3_v2"),
                         c)
        nodes = self.nodes(c["id"])
        self.assertEqual(len(nodes), 3, nodes)
        for n in nodes:
            self.assertEqual((n["osDiskType"], n["state"]), ("Ephemeral", "Ready"), n)
            self.assertEqual(n["osDiskId"], "", n)
        # Ephemeral OS disks are no ARM resources.
        self.assertEqual(self.az("disk", "list", "-g", c["nodeResourceGroup"]), [])
        self.delete("aks-eph")
        self.assertEqual(self.nodes(c["id"]), [])

    def test_versions(self):
        versions = self.az("aks", "get-versions", "--location", LOCATION)
        listed = {o["orchestratorVersion"]: o for o in versions["orchestrators"]}
        self.assertTrue({"1.23.15", "1.24.9", "1.25.5", "1.26.0"} <= set(listed), versions)
        self.assertTrue(listed["1.24.9"].get("default"), versions)
        self.assertTrue(listed["1.26.0"].get("isPreview"), versions)
        table = self.check(self.cli.az("aks", "get-versions", "--location", LOCATION, "-o",
                                       "table"))
        self.assertIn("1.24.9", table.out)

    def test_virtual_nodes_with_a_des_are_refused(self):
        body = {"location": LOCATION,
                "identity": {"type": "SystemAssigned"},
                "properties": {
                    "dnsPrefix": "aks-vn",
                    "diskEncryptionSetID": self.des_id(),
                    "agentPoolProfiles": [{"name": "nodepool1", "count": 1, "mode": "System",
                                           "vmSize": "Standard_DS2_v2", "osDiskType": "Managed"}],
                    "addonProfiles": {"aciConnectorLinux": {
                        "enabled": True, "config": {"SubnetName": "virtual-node-subnet"}}}}}
        r = self.check_fails(self.rest_put(self.cluster_url("aks-vn"), body), "InvalidParameter")
        self.assertIn("aciConnectorLinux", r.err, r.explain())
        self.check_fails(self.cli.az("aks", "show", "--name", "aks-vn", "--resource-group",
                                     self.rg), "ResourceNotFound")

    def test_caller_without_read_on_the_des(self):
        other_rg = "rg-aks-user"
        self.check(self.cli.az("group", "create", "-n", other_rg, "-l", LOCATION, "-o", "none"))
        sp = create_service_principal(self.data_dir, "aks-user")
        self.check(self.cli.az("role", "assignment", "create", "--role", "Contributor",
                               "--assignee-object-id", sp["objectId"],
                               "--assignee-principal-type", "ServicePrincipal", "--scope",
                               "/subscriptions/{}/resourceGroups/{}".format(self.sub, other_rg),
                               "-o", "none"))
        user = AzureCli(self.server, self.data_dir, self.tmp, name="az-aks-user")
        self.check(user.setup())
        self.check(user.login_service_principal(sp["appId"], sp["password"], sp["tenant"],
                                                allow_no_subscriptions=True))
        r = self.check_fails(
            user.az("aks", "create", "--name", "aks-linked", "--resource-group", other_rg,
                    "--node-osdisk-diskencryptionset-id", self.des_id(), "--generate-ssh-keys",
                    "--node-osdisk-type", "Managed", "--node-count", "1", "--subscription",
                    self.sub, "-o", "json"),
            "LinkedAuthorizationFailed")
        self.assertIn("'Microsoft.Compute/diskEncryptionSets/read' on the linked scope(s)", r.err,
                      r.explain())


if __name__ == "__main__":
    unittest.main()
