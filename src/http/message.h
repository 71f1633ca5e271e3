// HTTP messages as handlers see them: Headers, Request and Response.
//
// These are plain values with no Boost types, so handler modules never compile Asio or Beast.
// The server fills a Request from the wire (see server.h: ParseRequest describes the
// normalization) and serializes the Response a handler returns, adding the headers every byok
// response carries (x-ms-request-id, Date, Content-Length, Server, ...).
//
// Ownership: plain values (no references into server state).
// Streaming responses (Response::stream, StreamSink): a handler that sets Response::stream gets
// its status line and header sent with "Transfer-Encoding: chunked" (HTTP/1.1) and no
// Content-Length, then pushes the body through a StreamSink in as many pieces as it likes, for as
// long as it likes, without holding a thread: see StreamSink and Response::stream for the
// contract and server.h for how the server ends streams.
//
// Thread safety: values; a Request is owned by one connection and handed to exactly one handler
// invocation at a time. Copying between threads is safe. StreamSink is thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
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

// The producer's end of a streaming response body (Response::stream). Thread-safe; no method
// blocks (Write queues the bytes and returns; the connection's I/O thread sends them).
//
// A stream ends in one of these ways, after which closed() is true, Write returns false and the
// on-close callbacks run (once each):
//   - the producer calls Close(): the queued bytes are sent, then the terminating chunk;
//   - the server ends it (Server::Shutdown, or Response::stream_timeout passed): the queued bytes
//     are sent, then the terminating chunk;
//   - the client went away (its connection closed or failed) or a write timed out (body_timeout);
//   - the queue exceeded ServerOptions::max_stream_queue_bytes (a client that reads slower than
//     the producer writes): the connection is closed without the terminating chunk, so the client
//     sees a truncated body rather than a silently incomplete one.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Queues `chunk` (an empty chunk is ignored) and returns true, or returns false (dropping it)
  // once the stream ended.
  virtual bool Write(std::string chunk) = 0;
  // Ends the stream normally after the queued bytes. Idempotent.
  virtual void Close() = 0;
  // True once the stream ended, whichever way.
  virtual bool closed() const = 0;
  // Registers `fn` to run once when the stream ends: on a server worker thread (it may block
  // briefly, e.g. to unsubscribe), or at once on the calling thread when the stream already ended.
  // Callbacks must not throw.
  virtual void OnClose(std::function<void()> fn) = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Streaming body. When set on a 2xx response (not 204), the server sends the status line and
  // headers with "Transfer-Encoding: chunked" and "Connection: close" (the connection closes once
  // the stream ends), then `body` if not empty as the first chunk, then whatever the producer
  // writes to the sink. `stream` is called exactly once, right after the handler returned and on
  // the same thread, with the sink. When no body will be sent — a HEAD request (the head is
  // sent without a body), a non-2xx status, or a connection that is already gone — the sink it
  // gets is already closed (so the producer can release what it holds).
  // HTTP/1.0 clients get no chunked encoding: the body is delimited by the connection's close.
  // The access log line of a stream is written when it ends (bytes: the body bytes the producer
  // wrote and the server sent, duration: until the end).
  std::function<void(std::shared_ptr<StreamSink>)> stream;
  // With `stream`: the server ends the stream normally this long after the head was sent (0: no
  // limit; the producer or the client ends it).
  std::chrono::milliseconds stream_timeout{0};
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
