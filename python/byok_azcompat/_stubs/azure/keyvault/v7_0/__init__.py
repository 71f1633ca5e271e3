"""Stand-in for the track-1 `azure.keyvault.v7_0` package, which Debian's azure-cli 2.45 imports
but does not ship.

The CLI only reads docstrings from it: `az keyvault key create` and a few other data-plane
commands copy the help text of `azure.keyvault.v7_0.key_vault_client.KeyVaultClient.<method>`.
Served by byok's sitecustomize only when no real module of this name exists. It performs no
requests: the CLI talks to Key Vault through azure.keyvault.keys and its vendored clients.
"""
from .key_vault_client import KeyVaultClient

__all__ = ["KeyVaultClient"]
