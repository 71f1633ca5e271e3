// Boost 1.74 + GCC 12: Asio uses std::exchange without including <utility>.
#include <utility>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "http/message.h"
#include "test_support.h"

namespace byok::http::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void RunOrDie(const std::string& command) {
  int code = 0;
  std::string out = RunCommand(command + " 2>&1", &code);
  if (code != 0) {
    std::fprintf(stderr, "test PKI command failed (%d): %s\n%s\n", code, command.c_str(),
                 out.c_str());
    std::abort();
  }
}

// Issues a leaf certificate for `name` signed by CA `ca` (files <ca>.pem/<ca>.key in dir).
void IssueLeaf(const std::string& dir, const std::string& ca, const std::string& name,
               const std::string& subject, const std::string& extensions, int serial) {
  std::string d = "'" + dir + "'";
  RunOrDie(fmt::format("printf '{}' > {}/{}.ext", extensions, d, name));
  RunOrDie(fmt::format(
      "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {0}/{1}.key "
      "-out {0}/{1}.csr -subj '{2}'",
      d, name, subject));
  RunOrDie(fmt::format(
      "openssl x509 -req -in {0}/{1}.csr -CA {0}/{2}.pem -CAkey {0}/{2}.key -set_serial {3} "
      "-days 2 -out {0}/{1}.pem -extfile {0}/{1}.ext",
      d, name, ca, serial));
}

void MakeCa(const std::string& dir, const std::string& name, const std::string& subject) {
  RunOrDie(fmt::format(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '{0}/{1}.key' "
      "-out '{0}/{1}.pem' -days 2 -subj '{2}' -addext 'basicConstraints=critical,CA:TRUE' "
      "-addext 'keyUsage=critical,keyCertSign,cRLSign'",
      dir, name, subject));
}

struct PkiHolder {
  TestPki pki;
  ~PkiHolder() {
    if (!pki.dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(pki.dir, ec);
    }
  }
};

TestPki MakePki() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "byok-http-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  TestPki p;
  p.dir = tmpl;
  MakeCa(p.dir, "ca", "/CN=byok http test CA");
  IssueLeaf(p.dir, "ca", "server", "/CN=localhost",
            "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,DNS:*.localhost,"
            "DNS:*.vault.localhost\\nextendedKeyUsage=serverAuth\\nbasicConstraints=CA:FALSE\\n",
            1001);
  MakeCa(p.dir, "client-ca", "/CN=byok http test client CA");
  IssueLeaf(p.dir, "client-ca", "client", "/CN=test-client",
            "extendedKeyUsage=clientAuth\\nbasicConstraints=CA:FALSE\\n", 2001);
  MakeCa(p.dir, "other-ca", "/CN=some other CA");
  IssueLeaf(p.dir, "other-ca", "other-client", "/CN=intruder",
            "extendedKeyUsage=clientAuth\\nbasicConstraints=CA:FALSE\\n", 3001);
  RunOrDie(fmt::format(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
      "'{0}/self-signed.key' -out '{0}/self-signed.pem' -days 2 -subj '/CN=self-signed' "
      "-addext 'extendedKeyUsage=clientAuth'",
      p.dir));
  for (const char* name : {"client", "other-client", "self-signed"}) {
    RunOrDie(
        fmt::format("openssl x509 -in '{0}/{1}.pem' -outform DER -out '{0}/{1}.der'", p.dir, name));
  }
  p.ca_file = p.dir + "/ca.pem";
  p.server_cert_pem = ReadAll(p.dir + "/server.pem");
  p.server_key_pem = ReadAll(p.dir + "/server.key");
  p.client_ca_pem = ReadAll(p.dir + "/client-ca.pem");
  p.client_cert_file = p.dir + "/client.pem";
  p.client_key_file = p.dir + "/client.key";
  p.client_cert_der = ReadAll(p.dir + "/client.der");
  p.other_client_cert_file = p.dir + "/other-client.pem";
  p.other_client_key_file = p.dir + "/other-client.key";
  p.self_signed_cert_file = p.dir + "/self-signed.pem";
  p.self_signed_key_file = p.dir + "/self-signed.key";
  p.other_client_cert_der = ReadAll(p.dir + "/other-client.der");
  p.self_signed_cert_der = ReadAll(p.dir + "/self-signed.der");
  return p;
}

}  // namespace

const TestPki& Pki() {
  static PkiHolder holder{MakePki()};
  return holder.pki;
}

ServerOptions TestServerOptions() {
  ServerOptions o;
  o.listen_host = "127.0.0.1";
  o.port = 0;
  o.certificate_chain_pem = Pki().server_cert_pem;
  const std::string& key = Pki().server_key_pem;
  o.private_key_pem = SecretBytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
  o.io_threads = 1;
  o.worker_threads = 2;
  return o;
}

std::unique_ptr<Server> StartTestServer(Router router, ServerOptions options) {
  auto server = Server::Start(std::move(options), std::move(router));
  if (!server.ok()) {
    ADD_FAILURE() << "Server::Start: " << server.status().ToString();
    return nullptr;
  }
  return std::move(server).value();
}

std::optional<std::string> TestResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

std::string BuildRequest(std::string_view method, std::string_view target,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view body) {
  std::string out = fmt::format("{} {} HTTP/1.1\r\n", method, target);
  bool has_host = false;
  bool has_length = false;
  for (const auto& [n, v] : headers) {
    has_host |= EqualsIgnoreCase(n, "host");
    has_length |= EqualsIgnoreCase(n, "content-length") || EqualsIgnoreCase(n, "transfer-encoding");
  }
  if (!has_host) out += "Host: localhost\r\n";
  for (const auto& [n, v] : headers) out += fmt::format("{}: {}\r\n", n, v);
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")) {
    out += fmt::format("Content-Length: {}\r\n", body.size());
  }
  out += "\r\n";
  out += body;
  return out;
}

struct TestClient::Impl {
  TestClientOptions options;
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::optional<ssl::stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
  std::string raw;  // ReadUntil/ReadToClose

  beast::tcp_stream& Lowest() { return stream->next_layer(); }

  // Runs the io_context until `done` (every started operation has completed).
  void Run() {
    ioc.restart();
    ioc.run();
  }

  template <typename Op>
  error_code Do(Op op) {
    error_code result = net::error::would_block;
    Lowest().expires_after(options.timeout);
    op([&result](error_code ec, auto&&...) { result = ec; });
    Run();
    return result;
  }
};

TestClient::TestClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TestClient::~TestClient() = default;

Result<std::unique_ptr<TestClient>> TestClient::Connect(uint16_t port,
                                                        const TestClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  SSL_CTX* native = impl->ctx.native_handle();
  if (options.min_version != 0) SSL_CTX_set_min_proto_version(native, options.min_version);
  if (options.max_version != 0) SSL_CTX_set_max_proto_version(native, options.max_version);
  if (!options.ciphers.empty()) SSL_CTX_set_cipher_list(native, options.ciphers.c_str());
  if (!options.alpn.empty()) {
    std::string wire;
    for (const std::string& p : options.alpn) {
      wire.push_back(static_cast<char>(p.size()));
      wire += p;
    }
    SSL_CTX_set_alpn_protos(native, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  error_code ec;
  if (options.verify) {
    impl->ctx.load_verify_file(Pki().ca_file, ec);
    if (ec) return Status::Internal("load_verify_file: " + ec.message());
    impl->ctx.set_verify_mode(ssl::verify_peer, ec);
  } else {
    impl->ctx.set_verify_mode(ssl::verify_none, ec);
  }
  if (!options.cert_file.empty()) {
    impl->ctx.use_certificate_chain_file(options.cert_file, ec);
    if (!ec) impl->ctx.use_private_key_file(options.key_file, ssl::context::pem, ec);
    if (ec) return Status::Internal("client certificate: " + ec.message());
  }
  impl->stream.emplace(net::make_strand(impl->ioc), impl->ctx);

  tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  ec = impl->Do([&](auto handler) { impl->Lowest().async_connect(endpoint, handler); });
  if (ec) return Status::Unavailable("connect: " + ec.message());
  if (!options.tls) return std::unique_ptr<TestClient>(new TestClient(std::move(impl)));

  SSL* ssl = impl->stream->native_handle();
  if (!options.server_name.empty()) {
    error_code ignored;
    net::ip::make_address(options.server_name, ignored);
    if (ignored) SSL_set_tlsext_host_name(ssl, options.server_name.c_str());  // not for IPs
    if (options.verify) {
      impl->stream->set_verify_callback(ssl::host_name_verification(options.server_name));
    }
  }
  ec = impl->Do(
      [&](auto handler) { impl->stream->async_handshake(ssl::stream_base::client, handler); });
  if (ec) return Status::Unavailable("handshake: " + ec.message());
  return std::unique_ptr<TestClient>(new TestClient(std::move(impl)));
}

Status TestClient::Write(std::string_view bytes) {
  error_code ec = impl_->Do([&](auto handler) {
    if (impl_->options.tls) {
      net::async_write(*impl_->stream, net::buffer(bytes.data(), bytes.size()), handler);
    } else {
      net::async_write(impl_->Lowest(), net::buffer(bytes.data(), bytes.size()), handler);
    }
  });
  if (ec) return Status::Unavailable("write: " + ec.message());
  return Status::Ok();
}

Result<TestResponse> TestClient::ReadResponse(bool head) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (head) parser.skip(true);
  error_code ec = impl_->Do([&](auto handler) {
    if (impl_->options.tls) {
      bhttp::async_read(*impl_->stream, impl_->buffer, parser, handler);
    } else {
      bhttp::async_read(impl_->Lowest(), impl_->buffer, parser, handler);
    }
  });
  if (ec) return Status::Unavailable("read: " + ec.message());
  auto msg = parser.release();
  TestResponse r;
  r.status = static_cast<int>(msg.result_int());
  r.version = static_cast<int>(msg.version());
  for (const auto& f : msg) {
    r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  r.body = std::move(msg.body());
  return r;
}

Result<TestResponse> TestClient::Send(std::string_view method, std::string_view target,
                                      std::vector<std::pair<std::string, std::string>> headers,
                                      std::string_view body) {
  BYOK_TRY(Write(BuildRequest(method, target, headers, body)));
  return ReadResponse(method == "HEAD");
}

bool TestClient::WaitForClose(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  impl_->Lowest().expires_at(deadline);
  while (true) {
    error_code result = net::error::would_block;
    auto handler = [&result](error_code ec, size_t) { result = ec; };
    auto buf = impl_->buffer.prepare(16 * 1024);
    if (impl_->options.tls) {
      impl_->stream->async_read_some(buf, handler);
    } else {
      impl_->Lowest().async_read_some(buf, handler);
    }
    impl_->Run();
    if (result == beast::error::timeout) return false;
    if (result) return true;  // eof, truncated, reset: closed
  }
}

Result<std::chrono::milliseconds> TestClient::TrickleUntilClosed(std::string_view data,
                                                                 std::chrono::milliseconds interval,
                                                                 std::chrono::milliseconds max) {
  auto start = std::chrono::steady_clock::now();
  impl_->Lowest().expires_at(start + max);
  bool closed = false;
  bool timed_out = false;
  std::chrono::steady_clock::time_point closed_at;
  net::steady_timer timer(impl_->stream->get_executor());
  size_t next = 0;
  std::function<void()> write_next = [&] {
    if (closed || next >= data.size()) return;
    net::async_write(*impl_->stream, net::buffer(data.data() + next, 1),
                     [&](error_code ec, size_t) {
                       if (ec || closed) return;
                       ++next;
                       timer.expires_after(interval);
                       timer.async_wait([&](error_code tec) {
                         if (!tec) write_next();
                       });
                     });
  };
  std::function<void()> read_more = [&] {
    impl_->stream->async_read_some(impl_->buffer.prepare(4096), [&](error_code ec, size_t) {
      if (ec == beast::error::timeout) {
        timed_out = true;
      } else if (!ec) {
        return read_more();
      }
      closed = !timed_out;
      closed_at = std::chrono::steady_clock::now();
      timer.cancel();
    });
  };
  read_more();
  write_next();
  impl_->Run();
  if (!closed) return Status::Unavailable("the server did not close the connection in time");
  return std::chrono::duration_cast<std::chrono::milliseconds>(closed_at - start);
}

namespace {

// Reads into impl.raw until done(raw) or the connection ends or the deadline passes. Returns the
// error of the read that stopped it (success when done).
template <typename Impl, typename Done>
error_code ReadRaw(Impl& impl, std::chrono::milliseconds timeout, Done done) {
  auto data = impl.buffer.data();
  impl.raw.append(static_cast<const char*>(data.data()), data.size());
  impl.buffer.consume(data.size());
  impl.Lowest().expires_after(timeout);
  while (!done(impl.raw)) {
    error_code result = net::error::would_block;
    size_t got = 0;
    auto handler = [&](error_code ec, size_t n) {
      result = ec;
      got = n;
    };
    char buf[16 * 1024];
    if (impl.options.tls) {
      impl.stream->async_read_some(net::buffer(buf), handler);
    } else {
      impl.Lowest().async_read_some(net::buffer(buf), handler);
    }
    impl.Run();
    impl.raw.append(buf, got);
    if (result) return result;
  }
  return error_code();
}

}  // namespace

Result<std::string> TestClient::ReadUntil(std::string_view needle,
                                          std::chrono::milliseconds timeout) {
  error_code ec = ReadRaw(*impl_, timeout, [&](const std::string& raw) {
    return raw.find(needle) != std::string::npos;
  });
  if (ec == beast::error::timeout) {
    return Status::Unavailable("timeout: no '" + std::string(needle) + "' in: " + impl_->raw);
  }
  if (ec) return Status::Unavailable("read: " + ec.message() + " after: " + impl_->raw);
  return std::exchange(impl_->raw, std::string());
}

Result<std::string> TestClient::ReadToClose(std::chrono::milliseconds timeout) {
  error_code ec = ReadRaw(*impl_, timeout, [](const std::string&) { return false; });
  if (ec == beast::error::timeout) return Status::Unavailable("timeout: not closed: " + impl_->raw);
  return std::exchange(impl_->raw, std::string());
}

std::string TestClient::alpn() const {
  const unsigned char* p = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(impl_->stream->native_handle(), &p, &len);
  return std::string(reinterpret_cast<const char*>(p), len);
}

std::string RunCommand(const std::string& command, int* exit_code) {
  std::string out;
  FILE* f = popen(command.c_str(), "r");
  if (f == nullptr) {
    *exit_code = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  int status = pclose(f);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::string ErrorCode(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  const auto& e = j["error"];
  if (!e.contains("code") || !e["code"].is_string() || !e.contains("message") ||
      !e["message"].is_string()) {
    return "";
  }
  return e["code"].get<std::string>();
}

}  // namespace byok::http::testing
