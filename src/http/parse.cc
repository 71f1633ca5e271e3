// ParseRequest and the Beast message → Request conversion (see internal/beast_request.h).
#include <limits>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "http/errors.h"
#include "http/internal/beast_request.h"
#include "http/internal/request_normalize.h"
#include "http/server.h"

namespace byok::http {
namespace internal {

namespace bhttp = boost::beast::http;

void ConfigureParser(BeastParser& parser, const ServerOptions& options) {
  constexpr size_t kMaxHeaderLimit = std::numeric_limits<std::uint32_t>::max();
  parser.header_limit(
      static_cast<std::uint32_t>(std::min(options.max_header_bytes, kMaxHeaderLimit)));
  parser.body_limit(static_cast<std::uint64_t>(options.max_body_bytes));
}

ApiError ParseErrorToApiError(const boost::system::error_code& ec, const ServerOptions& options) {
  if (ec == bhttp::error::header_limit) {
    return MakeError(errors::kRequestHeadersTooLarge, options.max_header_bytes);
  }
  if (ec == bhttp::error::body_limit) {
    return MakeError(errors::kRequestBodyTooLarge, options.max_body_bytes);
  }
  return MakeError(errors::kBadRequest, ec.message());
}

Result<Request> ToRequest(BeastRequest&& msg) {
  Request req;
  if (msg.version() != 10 && msg.version() != 11) {
    return Status::InvalidArgument("unsupported HTTP version");
  }
  req.version = static_cast<int>(msg.version());
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (const auto& field : msg) {
    req.headers.Add(std::string(field.name_string()), std::string(field.value()));
  }
  req.body = std::move(msg.body());
  BYOK_TRY(NormalizeRequest(req));
  return req;
}

}  // namespace internal

namespace {

Status ToStatus(const boost::system::error_code& ec, const ServerOptions& limits) {
  ApiError e = internal::ParseErrorToApiError(ec, limits);
  std::string message = e.code + ": " + e.message;
  if (e.http_status == 400) return Status::InvalidArgument(std::move(message));
  return Status::ResourceExhausted(std::move(message));
}

}  // namespace

Result<Request> ParseRequest(std::string_view wire, const ServerOptions& limits) {
  internal::BeastParser parser;
  internal::ConfigureParser(parser, limits);
  // Header first, counting its bytes: Beast 1.74's header_limit does not cover the request line
  // nor fields parsed by an earlier put(); the server counts the same way (see server.cc).
  size_t header_bytes = 0;
  bool header = true;
  while (!parser.is_done()) {
    if (header && parser.is_header_done()) {
      if (header_bytes > limits.max_header_bytes) {
        return ToStatus(internal::bhttp::error::header_limit, limits);
      }
      header = false;
      parser.eager(true);
    }
    if (wire.empty()) return Status::InvalidArgument("incomplete request");
    boost::system::error_code ec;
    size_t used = parser.put(boost::asio::buffer(wire.data(), wire.size()), ec);
    if (header) header_bytes += used;
    wire.remove_prefix(used);
    if (ec == internal::bhttp::error::need_more) {
      if (header && header_bytes + wire.size() > limits.max_header_bytes) {
        return ToStatus(internal::bhttp::error::header_limit, limits);
      }
      return Status::InvalidArgument("incomplete request");
    }
    if (ec) return ToStatus(ec, limits);
    if (used == 0) return Status::InvalidArgument("incomplete request");
  }
  if (header && header_bytes > limits.max_header_bytes) {
    return ToStatus(internal::bhttp::error::header_limit, limits);
  }
  return internal::ToRequest(parser.release());
}

}  // namespace byok::http
