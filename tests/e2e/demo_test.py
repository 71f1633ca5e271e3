"""End-to-end: `byok demo`, the seed document's walkthrough as a product feature. It runs the
document's commands with the real Azure CLI and kubectl against a fresh byokd, printing each one
and its result, and ends with a PVC on the `byok` StorageClass and its disk, which this test
checks with its own `az disk show`. A second run on the same server is refused (the document's
names are taken).
"""
import json
import os
import re
import unittest

from harness import BYOK, AzureCli, ByokServerTestCase, credentials, run


class DemoTest(ByokServerTestCase):

    def test_demo_runs_the_walkthrough_and_prints_an_encrypted_disk(self):
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        env = dict(os.environ)
        env["HOME"] = home
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["AZURE_CORE_OUTPUT"] = "table"  # a user's setting the demo must not inherit
        r = run([BYOK, "demo", "--data-dir", self.data_dir], timeout=1200, env=env)
        self.check(r)
        out = r.out
        # Each command is printed as the document writes it, in the document's order.
        lines = [
            "$ az group create --location eastus --name myResourceGroup",
            "$ az keyvault create --name myKeyVaultName --resource-group myResourceGroup "
            "--location eastus  --enable-purge-protection true",
            '$ keyVaultId=$(az keyvault show --name myKeyVaultName --query "[id]" -o tsv)',
            "$ az disk-encryption-set create --name myDiskEncryptionSetName --location eastus "
            "--resource-group myResourceGroup --source-vault $keyVaultId --key-url "
            "$keyVaultKeyUrl",
            "$ az keyvault set-policy --name myKeyVaultName --resource-group myResourceGroup "
            "--object-id $desIdentity --key-permissions wrapkey unwrapkey get",
            "$ az aks create --name myAKSCluster --resource-group myResourceGroup "
            "--node-osdisk-diskencryptionset-id $diskEncryptionSetId --generate-ssh-keys "
            "--node-osdisk-type Managed",
            "$ az aks nodepool add --cluster-name $CLUSTER_NAME --resource-group $RG_NAME "
            "--name $NODEPOOL_NAME --node-osdisk-type Ephemeral",
            '$ aksIdentity=$(az aks show --resource-group $RG_NAME --name $CLUSTER_NAME '
            '--query "identity.principalId")',
            '$ az role assignment create --role "Contributor" --assignee $aksIdentity '
            '--scope $diskEncryptionSetId',
            "$ az aks get-credentials --name myAksCluster --resource-group myResourceGroup "
            "--output table",
            "$ kubectl apply -f byok-azure-disk.yaml",
        ]
        at = 0
        for line in lines:
            found = out.find(line + "\n", at)
            self.assertGreaterEqual(found, 0, "missing or out of order: {}\n{}".format(line, out))
            at = found
        self.assertIn("VMCacheSizeTooSmall", out)
        self.assertIn("storageclass.storage.k8s.io/byok created", out)
        self.assertIn("persistentvolumeclaim/byok-demo created", out)
        self.assertRegex(out, r"byok-demo\s+Bound\s+pvc-")
        # Data written through the attached volume reads back as plaintext, and the raw file
        # holds none of it.
        self.assertRegex(out, r"csi-[0-9a-f]{64}\s+disk\.csi\.azure\.com\s+pvc-\S+\s+aks-\S+"
                              r"\s+true")
        self.assertIn("byok demo: this line", out)
        self.assertIn('"this line is plaintext" not found in the raw file', out)
        self.assertNotIn("nbd://", out)  # the export name is a secret

        m = re.search(r"^disk: (/subscriptions/\S+)$", out, re.M)
        self.assertIsNotNone(m, out)
        disk_id = m.group(1)
        cli = AzureCli(self.server, self.data_dir, self.tmp, name="checker")
        self.check(cli.setup())
        disk = cli.az_json("disk", "show", "--ids", disk_id)
        self.assertEqual(disk["encryption"]["type"], "EncryptionAtRestWithCustomerKey")
        self.assertTrue(disk["encryption"]["diskEncryptionSetId"].lower().endswith(
            "/resourcegroups/myresourcegroup/providers/microsoft.compute/diskencryptionsets/"
            "mydiskencryptionsetname"), json.dumps(disk))
        sub = credentials(self.data_dir)["subscription"]
        self.assertTrue(disk_id.lower().startswith(
            "/subscriptions/{}/resourcegroups/mc_myresourcegroup_myakscluster_eastus/".format(
                sub)), disk_id)

        # The demo wrote nothing to the caller's HOME (its own HOME is under the data dir).
        self.assertEqual(os.listdir(home), [])

        again = run([BYOK, "demo", "--data-dir", self.data_dir], timeout=600, env=env)
        self.assertNotEqual(again.code, 0, again.explain())
        self.assertIn("already exists", again.err, again.explain())

    def test_demo_needs_a_server(self):
        r = run([BYOK, "demo", "--data-dir", os.path.join(self.tmp, "nothing-here")])
        self.assertNotEqual(r.code, 0, r.explain())
        self.assertIn("byokd", r.err + r.out, r.explain())


if __name__ == "__main__":
    unittest.main()
