"""Stand-in for the track-1 `azure.keyvault.v7_0` package, which Debian's azure-cli 2.45 imports
but does not ship.

The CLI reads docstrings from it (`az keyvault key create` and a few other data-plane commands
copy the help text of `azure.keyvault.v7_0.key_vault_client.KeyVaultClient.<method>`), runs the
key operations of `az keyvault key list|delete|recover|purge|backup|restore` through
`KeyVaultClient.<operation>` (implemented by ../key_vault_client.py) and looks up
KeyVaultErrorException in `models`. Served by byok's sitecustomize only when no real module of
this name exists.
"""
from .key_vault_client import KeyVaultClient

__all__ = ["KeyVaultClient"]
