"""byok's compatibility layer for the Azure CLI and the Azure SDK for Python.

`byok azure-cli setup` puts this directory first on PYTHONPATH, so every Python program started
from that shell (az, scripts using the Azure SDK) runs this file at start-up. It does four small
things, each harmless where it is not needed:

1. Host names `localhost` and `*.localhost` resolve to the loopback addresses (127.0.0.1, then
   ::1) in `socket.getaddrinfo`, so `https://{vault}.vault.localhost:PORT` reaches byokd without
   touching /etc/hosts. Only name resolution changes: TLS still verifies the real host name.
2. `azure.keyvault.v7_0` and `azure.keyvault.key_vault_client` — Debian's azure-cli 2.45 uses
   this old track-1 client (docstrings for `az keyvault key create`; the key operations of
   `az keyvault key list|list-versions|list-deleted|show-deleted|delete|recover|purge|backup|
   restore`; KeyVaultErrorException in its error handler), but Debian does not ship it. Stubs
   implementing those key operations are served, only when no real module of that name can be
   imported.
3. `azure.keyvault.key_vault_id` — same missing package; `az keyvault key create|show` (and a few
   other commands) parse vault object ids with its `KeyVaultIdentifier`. A small implementation
   is served, again only when the real module is missing.
4. Debian ships azure-mgmt-authorization 3.0.0, whose operation groups keep their configuration in
   `_config`, while the CLI reads `<operations>.config` (`az role assignment|definition ...`). An
   import hook adds a `config` property (returning `_config`) to those operation classes when
   they do not have one.

Any other `sitecustomize` further down sys.path (Debian has one in /usr/lib/python3.11) still
runs afterwards. Nothing here may fail a program: every step swallows its own errors.
Set BYOK_AZCOMPAT_DISABLE=1 to turn all of it off.
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _install_stub_finder():
    from importlib import machinery

    stub_root = os.path.join(_HERE, "_stubs")
    # Modules served from _stubs/ when, and only when, nothing else on sys.path provides them.
    stubbed = ("azure.keyvault.v7_0", "azure.keyvault.key_vault_id",
               # The track-1 data-plane client of `az keyvault key list|delete|recover|purge|
               # backup|restore` (_stubs/azure/keyvault/key_vault_client.py).
               "azure.keyvault.key_vault_client")

    class MissingAzureModuleFinder:
        """Last on sys.meta_path: asked only after every normal finder came back empty."""

        @staticmethod
        def find_spec(fullname, path=None, target=None):
            if fullname not in stubbed:
                return None
            parent = fullname.rpartition(".")[0]
            return machinery.PathFinder.find_spec(
                fullname, [os.path.join(stub_root, *parent.split("."))])

        @staticmethod
        def invalidate_caches():
            pass

    sys.meta_path.append(MissingAzureModuleFinder)


def _install_authorization_hook():
    sys.meta_path.insert(0, _authorization_config_hook())


def _authorization_config_hook():
    """A meta-path finder that patches azure.mgmt.authorization operation modules after loading."""
    from importlib import abc, machinery

    prefix = "azure.mgmt.authorization."

    def wanted(fullname):
        if not fullname.startswith(prefix):
            return False
        leaf = fullname.rpartition(".")[2]
        return leaf == "operations" or leaf.endswith("_operations")

    def config_property():
        # A data descriptor replaces any instance attribute called `config`, so give it a setter
        # that keeps such a value: an SDK version that assigns self.config still reads it back.
        def get(self):
            try:
                return self.__dict__["_byok_config"]
            except KeyError:
                return self._config

        def set_(self, value):
            self.__dict__["_byok_config"] = value

        return property(get, set_, doc="The operation group's client configuration.")

    def add_config(module):
        for value in list(vars(module).values()):
            if (isinstance(value, type) and value.__name__.endswith("Operations")
                    and getattr(value, "__module__", "").startswith(prefix)
                    and "config" not in dir(value)):
                value.config = config_property()

    class PatchingLoader(abc.Loader):
        def __init__(self, inner):
            self._inner = inner

        def create_module(self, spec):
            return self._inner.create_module(spec)

        def exec_module(self, module):
            self._inner.exec_module(module)
            try:
                add_config(module)
            except Exception:  # never break the import itself
                pass

        def __getattr__(self, name):  # get_source, get_data, is_package, ... of the real loader
            return getattr(self._inner, name)

    class AuthorizationConfigFinder:
        @staticmethod
        def find_spec(fullname, path=None, target=None):
            if not wanted(fullname):
                return None
            try:
                spec = machinery.PathFinder.find_spec(fullname, path, target)
            except Exception:
                return None
            if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return spec
            spec.loader = PatchingLoader(spec.loader)
            return spec

        @staticmethod
        def invalidate_caches():
            pass

    return AuthorizationConfigFinder


def _install_localhost_resolution():
    import socket

    original = socket.getaddrinfo
    if getattr(original, "_byok_localhost", False):
        return

    def loopback(port, family, type, proto, flags):
        results = []
        for address, address_family in (("127.0.0.1", socket.AF_INET),
                                        ("::1", socket.AF_INET6)):
            if family not in (0, socket.AF_UNSPEC, address_family):
                continue
            try:
                results.extend(original(address, port, address_family, type, proto,
                                        flags & ~getattr(socket, "AI_ADDRCONFIG", 0)))
            except (OSError, UnicodeError):
                pass
        if not results:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return results

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host
        if isinstance(name, (bytes, bytearray)):
            name = bytes(name).decode("ascii", "replace")
        if isinstance(name, str):
            name = name.rstrip(".").lower()
            if name == "localhost" or name.endswith(".localhost"):
                return loopback(port, family, type, proto, flags)
        return original(host, port, family, type, proto, flags)

    getaddrinfo._byok_localhost = True
    getaddrinfo.__doc__ = original.__doc__
    socket.getaddrinfo = getaddrinfo


def _chain_next_sitecustomize():
    """Runs the sitecustomize this file shadows (the first one after this directory)."""
    import importlib.util

    here = os.path.realpath(_HERE)
    for entry in sys.path:
        try:
            if not entry or os.path.realpath(entry) == here:
                continue
            candidate = os.path.join(entry, "sitecustomize.py")
            if not os.path.isfile(candidate):
                continue
        except (OSError, TypeError, ValueError):
            continue
        spec = importlib.util.spec_from_file_location("_byok_next_sitecustomize", candidate)
        if spec is None or spec.loader is None:
            return
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return


if os.environ.get("BYOK_AZCOMPAT_DISABLE", "") in ("", "0"):
    for _step in (_install_localhost_resolution, _install_stub_finder,
                  _install_authorization_hook):
        try:
            _step()
        except Exception:
            pass
try:
    _chain_next_sitecustomize()
except Exception:
    pass
