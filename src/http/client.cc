#include "http/client.h"

// Boost 1.74 + GCC 12: Asio uses std::exchange without including <utility>.
#include <utility>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace byok::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

struct ParsedUrl {
  std::string host;  // without brackets
  std::string port;
  std::string target;
  bool is_ip = false;
};

Result<ParsedUrl> ParseHttpsUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument(fmt::format("not an https URL: {}", url));
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  ParsedUrl out;
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  out.port = "443";
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("bad IPv6 host in URL");
    out.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return Status::InvalidArgument("bad port in URL");
      out.port = std::string(authority.substr(close + 2));
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  }
  if (out.host.empty() || out.port.empty()) return Status::InvalidArgument("URL lacks a host");
  boost::system::error_code ec;
  asio::ip::make_address(out.host, ec);
  out.is_ip = !ec;
  return out;
}

}  // namespace

Result<ClientResponse> HttpsRequest(std::string_view method, std::string_view url,
                                    const Headers& headers, std::string_view body,
                                    const ClientOptions& options) {
  BYOK_ASSIGN_OR_RETURN(ParsedUrl u, ParseHttpsUrl(url));
  bhttp::verb verb = bhttp::string_to_verb(beast::string_view(method.data(), method.size()));
  if (verb == bhttp::verb::unknown) return Status::InvalidArgument("unknown HTTP method");

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  ctx.load_verify_file(options.ca_file, ec);
  if (ec)
    return Status::Unavailable(fmt::format("cannot load CA {}: {}", options.ca_file, ec.message()));

  asio::io_context io;
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  SSL* ssl = stream.native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (u.is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, u.host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, u.host.c_str(), 0);
    SSL_set_tlsext_host_name(ssl, u.host.c_str());
  }

  ClientResponse out;
  Status failure = Status::Ok();
  auto fail = [&](std::string_view what, const boost::system::error_code& e) {
    if (failure.ok()) {
      failure = Status::Unavailable(fmt::format("{} {}: {}", what, url, e.message()));
    }
  };
  beast::get_lowest_layer(stream).expires_after(options.timeout);
  asio::ip::tcp::resolver resolver(io);
  resolver.async_resolve(u.host, u.port, [&](auto e, auto results) {
    if (e) return fail("resolve", e);
    beast::get_lowest_layer(stream).async_connect(results, [&](auto e2, auto) {
      if (e2) return fail("connect", e2);
      stream.async_handshake(asio::ssl::stream_base::client, [&](auto e3) {
        if (e3) return fail("TLS handshake with", e3);
        auto req = std::make_shared<bhttp::request<bhttp::string_body>>(verb, u.target, 11);
        req->set(bhttp::field::host, u.is_ip && u.host.find(':') != std::string::npos
                                         ? fmt::format("[{}]:{}", u.host, u.port)
                                         : fmt::format("{}:{}", u.host, u.port));
        req->set(bhttp::field::user_agent, "byok");
        for (const auto& [k, v] : headers) req->set(k, v);
        req->body() = std::string(body);
        req->prepare_payload();
        bhttp::async_write(stream, *req, [&, req](auto e4, size_t) {
          if (e4) return fail("send to", e4);
          auto buffer = std::make_shared<beast::flat_buffer>();
          auto parser = std::make_shared<bhttp::response_parser<bhttp::string_body>>();
          parser->body_limit(options.max_response_bytes);
          bhttp::async_read(stream, *buffer, *parser, [&, buffer, parser](auto e5, size_t) {
            if (e5) return fail("read from", e5);
            auto& res = parser->get();
            out.status = static_cast<int>(res.result_int());
            for (const auto& f : res) {
              out.headers.Add(std::string(f.name_string()), std::string(f.value()));
            }
            out.body = std::move(res.body());
          });
        });
      });
    });
  });
  io.run();
  if (!failure.ok()) return failure;
  beast::get_lowest_layer(stream).socket().close(ec);
  return out;
}

}  // namespace byok::http
