"""End-to-end: the seed document (Azure's "Bring your own keys (BYOK) with Azure managed disks in
AKS") run verbatim against byokd with the real Azure CLI and kubectl, then its Limitations.

Every document command line is run as written by bash (`keyVaultId=$(az keyvault show ...)` sets
a variable the later lines use), with the placeholders bound as issue 7 says: myAzureRegionName =
eastus; the names as written (the document's `mydiskEncryptionSetName` and `myAksCluster` name
the same resources as myDiskEncryptionSetName and myAKSCluster); the Ephemeral `az aks create`
creates myAKSClusterEphemeral; $CLUSTER_NAME, $RG_NAME, $NODEPOOL_NAME = myAKSCluster,
myResourceGroup, ephpool; myAzureSubscriptionId in the YAML = the subscription. The lines keep the
document's quirks: `aksIdentity=$(az aks show ... --query "identity.principalId")` without
`-o tsv` (a JSON string with its quotes goes to --assignee), and `nodepool add` without
--node-vm-size, refused on the default size exactly as the document warns.

Then what the document promises: a PVC on `byok` binds to a disk encrypted with the customer's key
through the DES; and its Limitations: a DES can't be added to an existing cluster, virtual nodes
are refused, and an Ephemeral pool follows a key rotation only through scale to 0, rotate, scale up.

`byok demo` (the same walkthrough as a product feature) is demo_test.py's.
"""
import json
import os
import tempfile
import unittest

from harness import BYOK, AzureCli, ByokServerTestCase, credentials, run

LOCATION = "eastus"

STORAGE_CLASS = """\
kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata:
  name: byok
provisioner: disk.csi.azure.com # replace with "kubernetes.io/azure-disk" if aks version is less than 1.21
parameters:
  skuname: StandardSSD_LRS
  kind: managed
  diskEncryptionSetID: "/subscriptions/{sub}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/diskEncryptionSets/myDiskEncryptionSetName"
"""

CLAIM = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: walkthrough
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: byok
  resources:
    requests:
      storage: 4Gi
"""


class Shell:
    """Runs command lines verbatim in bash, in `cwd`, keeping the variables they set (as an
    interactive shell would between the document's code blocks)."""

    def __init__(self, env, cwd):
        self.env = dict(env)
        self.cwd = cwd

    def __call__(self, line, timeout=600):
        fd, env_file = tempfile.mkstemp(dir=self.cwd)
        os.close(fd)
        script = "set -a\n{}\nrc=$?\nenv -0 > \"$BYOK_SHELL_ENV\"\nexit $rc\n".format(line)
        env = dict(self.env)
        env["BYOK_SHELL_ENV"] = env_file
        cwd = os.getcwd()
        os.chdir(self.cwd)
        try:
            r = run(["bash", "-c", script], timeout=timeout, env=env)
        finally:
            os.chdir(cwd)
        r.argv = ["bash:", line]
        with open(env_file, "rb") as f:
            data = f.read()
        os.unlink(env_file)
        for entry in data.split(b"\0"):
            name, sep, value = entry.decode().partition("=")
            if sep and name not in ("BYOK_SHELL_ENV", "PWD", "OLDPWD", "SHLVL", "_", "rc"):
                self.env[name] = value
        return r

    def var(self, name):
        return self.env.get(name, "")


class WalkthroughTest(ByokServerTestCase):

    walked = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sub = credentials(cls.data_dir)["subscription"]
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()
        cls.work = os.path.join(cls.tmp, "work")
        os.makedirs(cls.work)
        env = dict(cls.cli.env or {})
        env["KUBECONFIG"] = os.path.join(cls.cli.home, ".kube", "config")
        env.pop("AZURE_CORE_OUTPUT", None)
        cls.sh = Shell(env, cls.work)

    def setUp(self):
        if self.cli.env is None:
            self.fail("byok azure-cli setup failed:\n" + self.cli.setup_run.explain())

    def step(self, line, timeout=600):
        """One document line; it must succeed."""
        return self.check(self.sh(line, timeout=timeout))

    def refused(self, line, needle):
        return self.check_fails(self.sh(line), needle)

    def az(self, *args):
        return self.cli.az_json(*args)

    def kubectl_json(self, *args):
        r = self.check(run(["kubectl", *args, "-o", "json"], env=self.sh.env))
        return json.loads(r.out)

    def nodes(self, cluster_id):
        r = self.check(run([BYOK, "node", "list", "--json", "--data-dir", self.data_dir]))
        return [n for n in json.loads(r.out) if n["clusterId"].lower() == cluster_id.lower()]

    def cluster_url(self, name):
        return ("/subscriptions/{}/resourceGroups/myResourceGroup/providers/"
                "Microsoft.ContainerService/managedClusters/{}?api-version=2022-11-01"
                ).format(self.sub, name)

    def rest_put(self, url, body):
        path = os.path.join(self.work, "body.json")
        with open(path, "w") as f:
            json.dump(body, f)
        return self.cli.az("rest", "--method", "put", "--url", url, "--body", "@" + path)

    def settle(self):
        """byokd's scheduler tasks (the provisioner's among them) run before this returns."""
        self.check(run([BYOK, "clock", "advance", "1s", "--data-dir", self.data_dir]))

    def require_walkthrough(self):
        if not type(self).walked:
            self.skipTest("needs the walkthrough (test_1), which failed")

    # ---- the document, in order ----

    def test_1_document_runs_verbatim(self):
        # Create an Azure Key Vault instance
        locations = json.loads(self.step("az account list-locations").out)
        self.assertIn(LOCATION, [loc["name"] for loc in locations])
        self.step("az group create --location eastus --name myResourceGroup")
        vault = json.loads(self.step(
            "az keyvault create --name myKeyVaultName --resource-group myResourceGroup "
            "--location eastus  --enable-purge-protection true").out)
        self.assertTrue(vault["properties"]["enablePurgeProtection"])
        self.assertTrue(vault["properties"]["enableSoftDelete"])
        # The document's prerequisite: a key (generated as in "Manage Key Vault using the CLI").
        self.step("az keyvault key create --vault-name myKeyVaultName --name myKeyName "
                  "--protection software")

        # Create an instance of a DiskEncryptionSet
        self.step('keyVaultId=$(az keyvault show --name myKeyVaultName --query "[id]" -o tsv)')
        self.assertEqual(self.sh.var("keyVaultId"),
                         "/subscriptions/{}/resourceGroups/myResourceGroup/providers/"
                         "Microsoft.KeyVault/vaults/myKeyVaultName".format(self.sub))
        self.step('keyVaultKeyUrl=$(az keyvault key show --vault-name myKeyVaultName --name '
                  'myKeyName --query "[key.kid]" -o tsv)')
        self.assertRegex(self.sh.var("keyVaultKeyUrl"),
                         r"^https://mykeyvaultname\.vault\.localhost:\d+/keys/myKeyName/[0-9a-f]{32}$")
        des = json.loads(self.step(
            "az disk-encryption-set create --name myDiskEncryptionSetName --location eastus "
            "--resource-group myResourceGroup --source-vault $keyVaultId "
            "--key-url $keyVaultKeyUrl").out)
        self.assertEqual(des["activeKey"]["keyUrl"], self.sh.var("keyVaultKeyUrl"))

        # Grant the DiskEncryptionSet access to key vault
        self.step('desIdentity=$(az disk-encryption-set show --name myDiskEncryptionSetName '
                  '--resource-group myResourceGroup --query "[identity.principalId]" -o tsv)')
        self.assertRegex(self.sh.var("desIdentity"), r"^[0-9a-f-]{36}$")
        self.step("az keyvault set-policy --name myKeyVaultName --resource-group myResourceGroup "
                  "--object-id $desIdentity --key-permissions wrapkey unwrapkey get")

        # Create a new AKS cluster and encrypt the OS disk
        self.step('diskEncryptionSetId=$(az disk-encryption-set show --name '
                  'mydiskEncryptionSetName --resource-group myResourceGroup --query "[id]" '
                  '-o tsv)')
        self.assertTrue(self.sh.var("diskEncryptionSetId").lower().endswith(
            "/diskencryptionsets/mydiskencryptionsetname"))
        self.step("az group create --name myResourceGroup --location eastus")
        managed = json.loads(self.step(
            "az aks create --name myAKSCluster --resource-group myResourceGroup "
            "--node-osdisk-diskencryptionset-id $diskEncryptionSetId --generate-ssh-keys "
            "--node-osdisk-type Managed").out)
        self.assertEqual(managed["provisioningState"], "Succeeded")
        self.assertEqual(managed["diskEncryptionSetId"].lower(),
                         self.sh.var("diskEncryptionSetId").lower())
        ephemeral = json.loads(self.step(
            "az aks create --name myAKSClusterEphemeral --resource-group myResourceGroup "
            "--node-osdisk-diskencryptionset-id $diskEncryptionSetId --generate-ssh-keys "
            "--node-osdisk-type Ephemeral --node-vm-size Standard_DS3_v2").out)
        self.assertEqual(ephemeral["agentPoolProfiles"][0]["osDiskType"], "Ephemeral")
        self.sh("CLUSTER_NAME=myAKSCluster RG_NAME=myResourceGroup NODEPOOL_NAME=ephpool")
        add = ("az aks nodepool add --cluster-name $CLUSTER_NAME --resource-group $RG_NAME "
               "--name $NODEPOOL_NAME --node-osdisk-type Ephemeral")
        self.refused(add, "VMCacheSizeTooSmall")
        pool = json.loads(self.step(add + " --node-vm-size Standard_DS3_v2").out)
        self.assertEqual(pool["osDiskType"], "Ephemeral")
        # Every node's OS disk is encrypted with the customer's key, Managed and Ephemeral alike.
        nodes = self.nodes(managed["id"])
        self.assertEqual(len(nodes), 3 + pool["count"], json.dumps(nodes))
        for n in nodes:
            self.assertEqual(n["state"], "Ready", json.dumps(n))
            self.assertEqual(n["keyUrl"], self.sh.var("keyVaultKeyUrl"), json.dumps(n))

        # Encrypt your AKS cluster data disk
        self.step('aksIdentity=$(az aks show --resource-group $RG_NAME --name $CLUSTER_NAME '
                  '--query "identity.principalId")')
        self.assertRegex(self.sh.var("aksIdentity"), r'^"[0-9a-f-]{36}"$')
        assignment = json.loads(self.step(
            'az role assignment create --role "Contributor" --assignee $aksIdentity '
            '--scope $diskEncryptionSetId').out)
        self.assertEqual(assignment["principalId"], self.sh.var("aksIdentity").strip('"'))
        with open(os.path.join(self.work, "byok-azure-disk.yaml"), "w") as f:
            f.write(STORAGE_CLASS.format(sub=self.sub))
        r = self.step("az aks get-credentials --name myAksCluster --resource-group "
                      "myResourceGroup --output table")
        self.assertIn("Merged", r.out + r.err, r.explain())
        r = self.step("kubectl apply -f byok-azure-disk.yaml")
        self.assertEqual(r.out.strip(), "storageclass.storage.k8s.io/byok created", r.explain())

        # The result: a claim on `byok` is a disk encrypted with the customer's key.
        with open(os.path.join(self.work, "claim.yaml"), "w") as f:
            f.write(CLAIM)
        self.step("kubectl apply -f claim.yaml")
        self.settle()
        pvc = self.kubectl_json("get", "pvc", "walkthrough")
        self.assertEqual(pvc["status"]["phase"], "Bound", json.dumps(pvc))
        pv = self.kubectl_json("get", "pv", pvc["spec"]["volumeName"])
        disk_id = pv["spec"]["csi"]["volumeHandle"]
        disk = self.az("disk", "show", "--ids", disk_id)
        self.assertEqual(disk["encryption"]["type"], "EncryptionAtRestWithCustomerKey")
        self.assertEqual(disk["encryption"]["diskEncryptionSetId"].lower(),
                         self.sh.var("diskEncryptionSetId").lower())
        self.assertEqual(disk["resourceGroup"].lower(), managed["nodeResourceGroup"].lower())
        inspect = json.loads(self.check(run([BYOK, "disk", "inspect", "--json", "--data-dir",
                                             self.data_dir, disk_id])).out)
        self.assertIn(self.sh.var("keyVaultKeyUrl"), json.dumps(inspect))
        type(self).walked = True

    # ---- the document's Limitations ----

    def test_2_des_cannot_be_added_to_an_existing_cluster(self):
        self.require_walkthrough()
        self.step("az aks create --name myAKSClusterPlain --resource-group myResourceGroup "
                  "--generate-ssh-keys --node-count 1")
        url = self.cluster_url("myAKSClusterPlain")
        doc = self.az("rest", "--method", "get", "--url", url)
        doc["properties"]["diskEncryptionSetID"] = self.sh.var("diskEncryptionSetId")
        r = self.check_fails(self.rest_put(url, doc), "diskEncryptionSetID")
        self.assertIn("is not allowed", r.err, r.explain())
        shown = self.az("aks", "show", "--name", "myAKSClusterPlain", "--resource-group",
                        "myResourceGroup")
        self.assertIsNone(shown.get("diskEncryptionSetId"), json.dumps(shown))

    def test_3_virtual_nodes_are_refused(self):
        self.require_walkthrough()
        # Virtual nodes are the aciConnectorLinux add-on. The CLI's flags for it need virtual
        # network resources byok does not model, so the add-on goes in through a raw ARM PUT.
        url = self.cluster_url("myAKSCluster")
        doc = self.az("rest", "--method", "get", "--url", url)
        doc["properties"].setdefault("addonProfiles", {})["aciConnectorLinux"] = {
            "enabled": True, "config": {"SubnetName": "virtual-node-subnet"}}
        r = self.check_fails(self.rest_put(url, doc), "InvalidParameter")
        self.assertIn("aciConnectorLinux", r.err, r.explain())
        shown = self.az("aks", "show", "--name", "myAKSCluster", "--resource-group",
                        "myResourceGroup")
        self.assertFalse((shown.get("addonProfiles") or {}).get("aciConnectorLinux"),
                         json.dumps(shown))

    def test_4_ephemeral_pool_rotation_procedure(self):
        self.require_walkthrough()
        cluster = self.az("aks", "show", "--name", "myAKSCluster", "--resource-group",
                          "myResourceGroup")
        old = self.sh.var("keyVaultKeyUrl")

        def ephpool():
            return [n for n in self.nodes(cluster["id"]) if n["poolName"] == "ephpool"]

        count = len(ephpool())
        self.assertGreater(count, 0)
        # Scale down the node pool count to 0
        self.step("az aks nodepool scale --cluster-name $CLUSTER_NAME --resource-group $RG_NAME "
                  "--name $NODEPOOL_NAME --node-count 0")
        self.assertEqual(ephpool(), [])
        # Rotate the key (a new version, and the DES pointed at it)
        self.step("az keyvault key rotate --vault-name myKeyVaultName --name myKeyName")
        self.step('keyVaultKeyUrl=$(az keyvault key show --vault-name myKeyVaultName --name '
                  'myKeyName --query "[key.kid]" -o tsv)')
        new = self.sh.var("keyVaultKeyUrl")
        self.assertNotEqual(new, old)
        des = json.loads(self.step(
            "az disk-encryption-set update --name myDiskEncryptionSetName --resource-group "
            "myResourceGroup --key-url $keyVaultKeyUrl --source-vault $keyVaultId").out)
        self.assertEqual(des["activeKey"]["keyUrl"], new)
        # Scale up the node pool to the original count
        self.step("az aks nodepool scale --cluster-name $CLUSTER_NAME --resource-group $RG_NAME "
                  "--name $NODEPOOL_NAME --node-count {}".format(count))
        nodes = ephpool()
        self.assertEqual(len(nodes), count)
        for n in nodes:
            self.assertEqual(n["state"], "Ready", json.dumps(n))
            self.assertEqual(n["keyUrl"], new, json.dumps(n))


if __name__ == "__main__":
    unittest.main()
