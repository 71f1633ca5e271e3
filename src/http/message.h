// HTTP messages as handlers see them: Headers, Request and Response.
//
// These are plain values with no Boost types, so handler modules never compile Asio or Beast.
// The server fills a Request from the wire (see server.h: ParseRequest describes the
// normalization) and serializes the Response a handler returns, adding the headers every byok
// response carries (x-ms-request-id, Date, Content-Length, Server, ...).
//
// Ownership: plain values (no references into server state).
// Thread safety: values; a Request is owned by one connection and handed to exactly one handler
// invocation at a time. Copying between threads is safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api_error.h"

namespace byok::http {

// Header fields: names compare case-insensitively (ASCII), insertion order is kept, a name may
// occur several times. Names and values are stored as given.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;
  using value_type = Field;
  using const_iterator = std::vector<Field>::const_iterator;
  using iterator = const_iterator;

  // Replaces every field called `name` by one field with `value` (at the position of the first
  // one, or at the end if there was none).
  void Set(std::string name, std::string value);
  // Appends a field, keeping existing ones with the same name.
  void Add(std::string name, std::string value);
  // The first value of `name`, if any.
  std::optional<std::string> Get(std::string_view name) const;
  // Every value of `name`, in order.
  std::vector<std::string> GetAll(std::string_view name) const;
  bool Has(std::string_view name) const;
  // Removes every field called `name`.
  void Remove(std::string_view name);

  const_iterator begin() const { return fields_.begin(); }
  const_iterator end() const { return fields_.end(); }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

// ASCII case-insensitive equality (header names, query parameter names, literals in routes).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct Request {
  std::string method;  // "GET"
  std::string target;  // raw request-target as sent ("/keys/k?api-version=7.4")
  std::string path;    // percent-decoded path without query ("/subscriptions/x")
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  // The first value of query parameter `name` (ASCII case-insensitive name).
  std::optional<std::string> Query(std::string_view name) const;
  Headers headers;
  std::string host;  // from Host header: lower-cased, port (and IPv6 brackets) stripped
  std::string body;
  int version = 11;             // HTTP version: 10 or 11
  std::string request_id;       // the x-ms-request-id the server generated for this request
  std::string remote_address;   // "127.0.0.1:54321" or "[::1]:54321"
  std::string client_cert_der;  // peer certificate (DER) if the client presented one, else empty
  std::map<std::string, std::string> params;  // route captures, e.g. {"rg": "myRG"}
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Who made the request, for the access log only (never sent): the object id of the
  // authenticated caller, set by handlers that authenticate (the ARM gateway). Empty: not logged.
  std::string log_principal;

  // `body` serialized, with Content-Type "application/json; charset=utf-8".
  static Response Json(int status, const nlohmann::json& body);
  // The Azure error envelope {"error":{"code":...,"message":...}} with e.http_status.
  static Response Error(const ApiError& e);
  // No body, no Content-Type.
  static Response Empty(int status);
};

}  // namespace byok::http
