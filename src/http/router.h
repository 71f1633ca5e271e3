// Router: the route table that maps (method, host, path) to a handler.
//
// Patterns:
//   method        "GET", "PUT", ... (compared exactly, upper case) or "*" for any method.
//   host_pattern  "*" any host; "localhost" that host exactly; "*.vault.localhost" a host with
//                 exactly one more label (non-empty, no dot), captured as param "host_label".
//                 Hosts compare case-insensitively (the server lower-cases Request::host).
//   path_pattern  "/subscriptions/{sub}/resourcegroups/{rg}": "{name}" captures one non-empty
//                 segment; a final "{*rest}" captures the remainder of the path (may be empty;
//                 it keeps inner and trailing slashes). Literal segments match ASCII
//                 case-insensitively (ARM clients mix "resourcegroups" and "resourceGroups");
//                 captured values keep their case. One trailing slash in the request path is
//                 tolerated ("/keys/k/" matches "/keys/{name}").
//
// Precedence when several routes match: exact host over "*.suffix" over "*"; then, comparing
// segments left to right, a literal beats a capture and a capture beats "{*rest}"; then an exact
// method beats "*"; then the route added first.
//
// Ownership: the Router owns its handlers; Match::handler points into the Router and is valid as
// long as the Router (moved into the Server by Server::Start) lives.
// Thread safety: build the table (Add) before Server::Start; afterwards it is read-only and Find
// may be called from any number of threads. Handlers are invoked concurrently (on the server's
// worker threads, or its I/O threads for kInline routes) and must be thread-safe themselves.
// REQUIRES: patterns are well-formed (a pattern error is a programming error: Add aborts with a
// message naming the pattern).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace byok::http {

// Runs on a worker thread (or, for a kInline route, on the connection's I/O thread). Exceptions
// are caught by the server and answered with a 500 InternalServerError envelope.
using Handler = std::function<Response(Request&)>;

// Where a route's handler runs.
//   kWorker  on the server's worker pool; the handler may block (database, other services).
//   kInline  on the I/O thread that read the request, without a thread hand-off: for short
//            CPU-bound handlers that normally touch no database and call no other service (Key
//            Vault's cryptographic operations on a cached key). Each such call holds up the other
//            connections of that I/O thread for its duration.
enum class Dispatch { kWorker, kInline };

class Router {
 public:
  void Add(std::string method, std::string host_pattern, std::string path_pattern, Handler handler,
           Dispatch dispatch = Dispatch::kWorker);

  struct Match {
    const Handler* handler = nullptr;  // null: no route for this method (see below)
    Dispatch dispatch = Dispatch::kWorker;
    std::map<std::string, std::string> params;
    // No handler, but some route matches host and path with another method (→ 405, not 404).
    bool path_matched_other_method = false;
    // When path_matched_other_method: those methods, sorted, for the Allow header.
    std::vector<std::string> allowed_methods;
  };
  // `host` lower-case without port; `path` percent-decoded, starting with '/'.
  Match Find(std::string_view method, std::string_view host, std::string_view path) const;

  size_t size() const { return routes_.size(); }

 private:
  enum class SegmentKind { kLiteral, kCapture, kRest };
  struct Segment {
    SegmentKind kind;
    std::string text;  // literal text, or the capture's name
  };
  enum class HostKind { kAny, kWildcard, kExact };
  struct Route {
    std::string method;
    HostKind host_kind;
    std::string host;  // exact host, or the suffix after "*" (".vault.localhost")
    std::vector<Segment> segments;
    Handler handler;
    Dispatch dispatch = Dispatch::kWorker;
  };

  // label, params: filled on a match unless null.
  static bool MatchHost(const Route& r, std::string_view host, std::string* label);
  static bool MatchPath(const Route& r, std::string_view path,
                        const std::vector<std::string_view>& segments,
                        std::map<std::string, std::string>* params);
  // Negative if a is more specific than b, positive if less, 0 if equal (method aside).
  static int CompareSpecificity(const Route& a, const Route& b);

  std::vector<Route> routes_;
};

}  // namespace byok::http
