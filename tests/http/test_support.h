// Test support for the http module: a throw-away PKI made with the openssl command line, a
// small blocking HTTPS client (Beast/Asio inside test_support_helpers.cc; no Boost in this
// header so test files compile fast), and a shell runner for curl.
//
// Thread safety: Pki() is thread-safe; a TestClient is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/router.h"
#include "http/server.h"

namespace byok::http::testing {

// Files and PEMs of a CA, a server certificate (SANs localhost, 127.0.0.1, ::1, *.localhost,
// *.vault.localhost) and client certificates from two unrelated CAs, in a private temporary
// directory removed at exit. Generated once per process.
struct TestPki {
  std::string dir;
  std::string ca_file;  // server CA (PEM file)
  std::string server_cert_pem;
  std::string server_key_pem;
  std::string client_ca_pem;  // the CA trusted for client certificates
  std::string client_cert_file, client_key_file;
  std::string client_cert_der;                                // DER of client_cert_file
  std::string other_client_cert_file, other_client_key_file;  // from an untrusted CA
  std::string self_signed_cert_file, self_signed_key_file;    // a self-signed client cert
  std::string other_client_cert_der, self_signed_cert_der;    // DER of those two
};
const TestPki& Pki();

// Options with the test certificate and key, port 0, small thread counts.
ServerOptions TestServerOptions();

// Starts a server or fails the current test (ADD_FAILURE) and returns null.
std::unique_ptr<Server> StartTestServer(Router router, ServerOptions options = TestServerOptions());

struct TestClientOptions {
  bool tls = true;
  std::string server_name = "localhost";  // SNI and certificate host check ("" = no SNI)
  bool verify = true;                     // verify the chain against Pki().ca_file
  int min_version = 0;                    // e.g. TLS1_1_VERSION (0x302); 0 = library default
  int max_version = 0;
  std::string ciphers;                      // TLS 1.2- cipher list ("" = default)
  std::vector<std::string> alpn;            // protocols to offer ("" = no ALPN)
  std::string cert_file, key_file;          // client certificate
  std::chrono::milliseconds timeout{5000};  // for each connect/handshake/read/write
};

struct TestResponse {
  int status = 0;
  int version = 11;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::string> Header(std::string_view name) const;
};

class TestClient {
 public:
  // TCP connect to 127.0.0.1:port (and TLS handshake unless !options.tls).
  static Result<std::unique_ptr<TestClient>> Connect(uint16_t port,
                                                     const TestClientOptions& options = {});
  ~TestClient();

  Status Write(std::string_view bytes);
  // Reads one response (a 100 Continue is returned as a response of its own). `head`: the
  // request was HEAD (no body follows).
  Result<TestResponse> ReadResponse(bool head = false);
  // Writes a request (adds Host: localhost unless given, and Content-Length when there is a
  // body or the method is POST/PUT/PATCH) and reads the response.
  Result<TestResponse> Send(std::string_view method, std::string_view target,
                            std::vector<std::pair<std::string, std::string>> headers = {},
                            std::string_view body = {});
  // Reads (discarding data) until the server closes the connection. Returns true if it closed
  // within `timeout`.
  bool WaitForClose(std::chrono::milliseconds timeout);
  // Writes `data` one byte every `interval` while watching for the server to close; returns the
  // time from the first byte to the close, or an error if `max` passed first.
  Result<std::chrono::milliseconds> TrickleUntilClosed(std::string_view data,
                                                       std::chrono::milliseconds interval,
                                                       std::chrono::milliseconds max);
  // Raw reading, for streamed responses: reads until the bytes received since the last
  // ReadUntil/ReadToClose call contain `needle`, then returns all of them. Unavailable ("timeout:
  // ...") when `timeout` passes first, Unavailable when the connection ends first (the bytes are
  // lost).
  Result<std::string> ReadUntil(std::string_view needle, std::chrono::milliseconds timeout);
  // Reads until the server closes the connection; returns the bytes received since the last
  // ReadUntil/ReadToClose. Unavailable ("timeout: ...") when `timeout` passes first.
  Result<std::string> ReadToClose(std::chrono::milliseconds timeout);
  // The ALPN protocol the server selected ("" = none).
  std::string alpn() const;

  struct Impl;

 private:
  explicit TestClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Builds a raw HTTP/1.1 request the way TestClient::Send does.
std::string BuildRequest(std::string_view method, std::string_view target,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view body);

// Runs `command` with /bin/sh, returns its stdout (stderr too if merged by the command);
// *exit_code gets the exit status.
std::string RunCommand(const std::string& command, int* exit_code);

// The error envelope's code, or "" if the body is not {"error":{"code":...}}.
std::string ErrorCode(std::string_view body);

}  // namespace byok::http::testing
