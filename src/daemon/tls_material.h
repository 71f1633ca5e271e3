// The TLS identity of byokd: a local CA and a server certificate it issues.
//
// Created on first start and kept: the CA certificate at <data-dir>/tls/ca.crt (what clients
// trust; stable across restarts), the server certificate at <data-dir>/tls/server.crt. Both
// private keys (EC P-256) are sealed secrets in the store ("tls/ca.key", "tls/server.key"); no
// private key is ever written to a file. The server certificate is re-issued by the same CA when
// it is missing, expires within 30 days, does not verify against the CA, or lacks a required
// subjectAltName (localhost, *.localhost, *.vault.localhost, 127.0.0.1, ::1, and the listen host).
#pragma once

#include <string>

#include "common/clock.h"
#include "common/secret.h"
#include "common/status.h"
#include "daemon/data_dir.h"
#include "store/store.h"

namespace byok::daemon {

struct TlsMaterial {
  std::string ca_cert_path;
  std::string server_chain_pem;  // server certificate followed by the CA certificate
  SecretBytes server_key_pem;
};

Result<TlsMaterial> EnsureTlsMaterial(store::Store& store, const DataDir& dir, const Clock& clock,
                                      const std::string& listen_host);

}  // namespace byok::daemon
