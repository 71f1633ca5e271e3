// Server, ServerCore (listener, threads, shutdown) and Connection (one TLS connection's request
// loop): the server's only translation unit with Asio/SSL operations in it. Bytes read are fed
// to the Beast parser by hand (internal/beast_request.h) and responses are serialized by
// internal/response_head.h, so no Beast read/write composed operation is instantiated here.
//
// Streaming responses (Response::stream): StreamSinkImpl queues the producer's bytes (framed as
// chunks) under its own mutex and posts PumpStream to the connection's executor, which writes them
// one batch at a time; while a stream is open the connection keeps one read pending to notice a
// client that goes away, and uses its own timers (stream deadline, write stall) instead of the
// tcp_stream's. A stream ends in FinishStream (terminating chunk written: log, shut the sending
// side, drain) or CloseNow (client gone, overflow, write stall, grace period over).
//
// Threads: each I/O thread runs its own io_context (concurrency hint 1). An accepted connection is
// given to the next context round-robin and stays there: all of its handlers run on that one
// thread, so it needs no strand, its buffers are allocated and freed by one thread, and the I/O
// threads share no reactor or scheduler lock. The acceptor and the server's timers run on a
// strand of the first context.
//
// Connection state machine (all on the connection's I/O thread):
//   Start → detect TLS (plain HTTP gets 400 HttpsRequired) → handshake → [WaitForRequest:
//   first byte (idle_timeout; header_timeout for the first request) → header (header_timeout in
//   total) → optional "100 Continue" → body (body_timeout) → Dispatch: route on the I/O thread,
//   handler on a worker, response posted back (kInline: handler on the I/O thread) → write] →
//   keep-alive loop, or for a streaming response kStreaming until the stream ends, then close;
//   graceful close (close_notify) or lingering close after an error (send side
//   shut, input drained briefly so the client reads the error instead of a reset).

// Boost 1.74 + GCC 12: Asio uses std::exchange without including <utility>.
#include <utility>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>

#include "common/random.h"
#include "http/errors.h"
#include "http/internal/access_log.h"
#include "http/internal/beast_request.h"
#include "http/internal/response_head.h"
#include "http/internal/tls_context.h"
#include "http/server.h"

namespace byok::http {
namespace internal {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr size_t kFirstReadBytes = 4096;
constexpr size_t kHeaderReadBytes = 16 * 1024;
constexpr size_t kBodyReadBytes = 64 * 1024;
constexpr size_t kMaxIdleBufferBytes = 64 * 1024;  // idle connections give back larger buffers
constexpr size_t kDrainReadBytes = 16 * 1024;
constexpr size_t kMaxDrainBytes = 64 * 1024 * 1024;
constexpr std::chrono::milliseconds kMaxLinger{2000};
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};
constexpr size_t kMaxEchoedIdBytes = 256;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

std::string FormatEndpoint(const tcp::endpoint& ep) {
  if (ep.address().is_v6()) return fmt::format("[{}]:{}", ep.address().to_string(), ep.port());
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

// A Beast parse error (→ 4xx) as opposed to end of stream or an I/O error (→ close).
bool IsParseError(const error_code& ec) {
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) return false;
  return ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

std::string Truncated(std::string_view s, size_t max) {
  return std::string(s.substr(0, std::min(s.size(), max)));
}

// The Allow header of a 405: the methods of the routes that matched the path, plus HEAD when
// GET is among them (HEAD is served by the GET route).
std::string AllowHeader(std::vector<std::string> methods) {
  if (std::count(methods.begin(), methods.end(), "GET") > 0 &&
      std::count(methods.begin(), methods.end(), "HEAD") == 0) {
    methods.push_back("HEAD");
  }
  std::sort(methods.begin(), methods.end());
  std::string allow;
  for (const std::string& method : methods) {
    if (method == "*") continue;
    if (!allow.empty()) allow += ", ";
    allow += method;
  }
  return allow;
}

}  // namespace

class Connection;

// The StreamSink of one streaming response (message.h). Producers call Write/Close/OnClose from
// any thread; the connection (on its I/O thread) calls Take and MarkClosed. Every transition to
// closed happens before the connection is destroyed (~Connection marks it), so nothing is posted
// to the server's executors after the server is gone.
class StreamSinkImpl : public StreamSink {
 public:
  StreamSinkImpl(std::weak_ptr<Connection> conn, net::thread_pool::executor_type workers,
                 size_t limit, bool chunked)
      : conn_(std::move(conn)), workers_(std::move(workers)), limit_(limit), chunked_(chunked) {}

  bool Write(std::string chunk) override {
    std::vector<std::function<void()>> callbacks;
    bool over = false;
    bool notify = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return false;
      if (chunk.empty()) return true;
      const bool queue_was_empty = pending_.empty();
      if (chunked_) pending_ += fmt::format("{:x}\r\n", chunk.size());
      pending_ += chunk;
      if (chunked_) pending_ += "\r\n";
      payload_bytes_ += chunk.size();
      // One write into an empty queue is always taken (a large first batch is not a slow client).
      if (!queue_was_empty && pending_.size() > limit_) {
        over = true;
        overflow_ = true;
        closed_ = true;
        pending_.clear();
        callbacks.swap(on_close_);
      }
      notify = NeedsPumpLocked();
    }
    if (notify) PostPump();
    if (!over) return true;
    Fire(std::move(callbacks));
    return false;
  }

  void Close() override { MarkClosed(); }

  bool closed() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

  void OnClose(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closed_) {
        on_close_.push_back(std::move(fn));
        return;
      }
    }
    fn();
  }

  // Ends the stream (idempotent): queued bytes are still sent unless the connection is gone.
  void MarkClosed() {
    std::vector<std::function<void()>> callbacks;
    bool notify = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      closed_ = true;
      callbacks.swap(on_close_);
      notify = NeedsPumpLocked();
    }
    if (notify) PostPump();
    Fire(std::move(callbacks));
  }

  struct Taken {
    std::string data;  // framed bytes to send
    bool ended = false;
    bool overflow = false;
  };
  Taken Take() {
    std::lock_guard<std::mutex> lock(mu_);
    flush_posted_ = false;
    Taken t;
    t.data.swap(pending_);
    t.ended = closed_;
    t.overflow = overflow_;
    return t;
  }

  bool overflow() const {
    std::lock_guard<std::mutex> lock(mu_);
    return overflow_;
  }
  size_t payload_bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return payload_bytes_;
  }

 private:
  // True when the connection must be told to pump (once per Take).
  bool NeedsPumpLocked() {
    if (flush_posted_) return false;
    flush_posted_ = true;
    return true;
  }
  // Posts the connection's PumpStream to its executor, if the connection still exists. Called
  // without mu_ held: dropping the last Connection reference here runs ~Connection, which calls
  // MarkClosed on this sink. The sink holds no executor of the server, so a sink that outlives
  // the server touches none of its (destroyed) services.
  void PostPump();  // after Connection

  void Fire(std::vector<std::function<void()>> callbacks) {
    for (auto& fn : callbacks) net::post(workers_, std::move(fn));
  }

  const std::weak_ptr<Connection> conn_;
  const net::thread_pool::executor_type workers_;
  const size_t limit_;
  const bool chunked_;
  mutable std::mutex mu_;
  std::string pending_;                          // guarded by mu_
  bool closed_ = false;                          // guarded by mu_
  bool overflow_ = false;                        // guarded by mu_
  bool flush_posted_ = false;                    // guarded by mu_
  size_t payload_bytes_ = 0;                     // guarded by mu_
  std::vector<std::function<void()>> on_close_;  // guarded by mu_
};

class ServerCore {
 public:
  ServerCore(ServerOptions options, Router router, SSL_CTX* ctx)
      : options_(std::move(options)),
        router_(std::move(router)),
        iocs_(MakeContexts(options_.io_threads)),
        ssl_ctx_(ctx),
        strand_(net::make_strand(*iocs_.front())),
        acceptor_(strand_),
        grace_timer_(strand_),
        accept_retry_timer_(strand_),
        workers_(static_cast<size_t>(std::max(1, options_.worker_threads))) {}

  ~ServerCore() {
    // Normally Wait() already joined everything; this covers a failed Listen().
    std::call_once(join_once_, [this] { JoinThreads(); });
  }

  Status Listen();
  void Run();
  void Shutdown(std::chrono::milliseconds grace);
  void Wait();

  uint16_t port() const { return bound_.port(); }
  std::string host() const { return bound_.address().to_string(); }

  const ServerOptions& options() const { return options_; }
  const Router& router() const { return router_; }
  ssl::context& ssl_context() { return ssl_ctx_; }
  net::thread_pool& workers() { return workers_; }
  bool shutting_down() const { return shutting_down_.load(std::memory_order_acquire); }

  bool TryRegister(const std::shared_ptr<Connection>& c);
  void Unregister(Connection* c);

 private:
  void Accept();
  void OnAccept(const error_code& ec, tcp::socket socket);
  void FinishAcceptLoop();
  void ArmGraceTimer(SteadyClock::time_point deadline);
  std::vector<std::shared_ptr<Connection>> Snapshot();
  void JoinThreads();

  // One single-threaded io_context per I/O thread (at least one).
  static std::vector<std::unique_ptr<net::io_context>> MakeContexts(int io_threads) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (int i = 0; i < std::max(1, io_threads); ++i) {
      out.push_back(std::make_unique<net::io_context>(BOOST_ASIO_CONCURRENCY_HINT_1));
    }
    return out;
  }

  const ServerOptions options_;
  const Router router_;
  std::vector<std::unique_ptr<net::io_context>> iocs_;
  size_t next_ioc_ = 0;  // round-robin for accepted connections; on strand_
  ssl::context ssl_ctx_;
  net::strand<net::io_context::executor_type> strand_;  // acceptor and timers
  tcp::acceptor acceptor_;
  net::steady_timer grace_timer_;
  net::steady_timer accept_retry_timer_;
  tcp::endpoint bound_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work_;
  net::thread_pool workers_;
  std::vector<std::thread> io_threads_;
  std::atomic<bool> shutting_down_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> conns_;  // guarded by mu_
  bool shutdown_started_ = false;                                     // guarded by mu_
  bool accept_loop_done_ = true;                                      // guarded by mu_
  SteadyClock::time_point grace_deadline_;                            // guarded by mu_
  std::once_flag join_once_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerCore& core, tcp::socket socket, std::string remote)
      : core_(core),
        opts_(core.options()),
        stream_(beast::tcp_stream(std::move(socket)), core.ssl_context()),
        remote_(std::move(remote)),
        linger_(std::min(kMaxLinger, opts_.idle_timeout)),
        stream_timer_(stream_.get_executor()),
        stream_write_timer_(stream_.get_executor()) {}

  ~Connection() {
    if (stream_sink_ != nullptr) stream_sink_->MarkClosed();
    core_.Unregister(this);
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

  void Start() {
    state_ = State::kHandshake;
    Lowest().expires_after(opts_.handshake_timeout);
    beast::async_detect_ssl(
        Lowest(), buffer_,
        [self = shared_from_this()](error_code ec, bool is_tls) { self->OnDetect(ec, is_tls); });
  }

  // Server shutdown began: idle connections close now, busy ones finish their request.
  void OnServerShutdown() {
    if (state_ == State::kHandshake || state_ == State::kIdle) CloseNow();
    if (state_ == State::kStreaming) EndStream();
  }

  // Writes what the stream's producer queued (posted by StreamSinkImpl).
  void PumpStream() {
    if (state_ != State::kStreaming || stream_writing_) return;
    if (!stream_finished_) {
      StreamSinkImpl::Taken t = stream_sink_->Take();
      if (t.overflow) {
        ByokLogger()->warn(
            "connection {}: stream of request {} exceeded {} queued bytes (client too slow); "
            "closing",
            remote_, request_id_, opts_.max_stream_queue_bytes);
        return CloseNow();
      }
      stream_out_ += t.data;
      if (t.ended) {
        if (version_ >= 11) stream_out_ += kLastChunk;
        stream_finished_ = true;
      }
    }
    if (stream_out_.empty()) {
      if (stream_finished_) FinishStream();
      return;
    }
    stream_writing_ = true;
    // The timer of this write only: a handler of an earlier write's timer that was already
    // queued when that write completed (cancel() no longer reaches it) sees another generation.
    const uint64_t generation = ++stream_write_generation_;
    stream_write_timer_.expires_after(opts_.body_timeout);
    stream_write_timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
      if (!ec && self->stream_writing_ && self->stream_write_generation_ == generation) {
        self->CloseNow();  // the client stopped reading
      }
    });
    out_ = {net::buffer(stream_out_), net::const_buffer()};
    Write(WriteFor::kStream);
  }

  // Grace period over.
  void ForceClose() { CloseNow(); }

 private:
  enum class State {
    kHandshake,
    kIdle,  // waiting for the first byte of a request
    kReadingHeader,
    kReadingBody,
    kProcessing,
    kWriting,
    kStreaming,  // a streaming response's body is being sent
    kClosing,
    kClosed
  };
  enum class ReadFor { kFirstBytes, kHeader, kBody, kDrain, kStream };
  enum class WriteFor { kContinue, kResponse, kStream };

  // Every read on the TLS stream completes through ReadHandler and every write through
  // WriteHandler: one handler type per operation keeps Asio's template instantiations (and this
  // file's compile time) small.
  struct ReadHandler {
    std::shared_ptr<Connection> self;
    void operator()(const error_code& ec, size_t n) const { self->OnRead(ec, n); }
  };
  struct WriteHandler {
    std::shared_ptr<Connection> self;
    void operator()(const error_code& ec, size_t) const { self->OnWritten(ec); }
  };

  beast::tcp_stream& Lowest() { return stream_.next_layer(); }

  void Read(ReadFor purpose, size_t max_bytes) {
    read_for_ = purpose;
    stream_.async_read_some(buffer_.prepare(max_bytes), ReadHandler{shared_from_this()});
  }

  void OnRead(const error_code& ec, size_t n) {
    if (state_ == State::kClosed) return;
    buffer_.commit(n);
    switch (read_for_) {
      case ReadFor::kFirstBytes:
        if (ec) return CloseNow();  // client closed, idle timeout or server shutdown
        if (!first_request_) Lowest().expires_after(opts_.header_timeout);
        return ReadHeader();
      case ReadFor::kHeader:
        if (ec) return OnReadError(ec);
        return ParseHeader();
      case ReadFor::kBody:
        if (ec) return OnReadError(ec);
        return ParseBody();
      case ReadFor::kDrain:
        buffer_.clear();
        drained_ += n;
        if (ec || drained_ > kMaxDrainBytes) return CloseNow();
        return Read(ReadFor::kDrain, kDrainReadBytes);
      case ReadFor::kStream:
        // While streaming the client has nothing to say; an error or EOF means it went away.
        buffer_.clear();
        drained_ += n;
        if (ec || drained_ > kMaxDrainBytes) return CloseNow();
        return Read(ReadFor::kStream, kDrainReadBytes);
    }
  }

  void Write(WriteFor purpose) {
    write_for_ = purpose;
    if (plain_) {
      net::async_write(Lowest(), out_, WriteHandler{shared_from_this()});
    } else {
      net::async_write(stream_, out_, WriteHandler{shared_from_this()});
    }
  }

  void OnWritten(const error_code& ec) {
    if (write_for_ == WriteFor::kResponse) return OnResponseWritten(ec);
    if (write_for_ == WriteFor::kStream) return OnStreamWritten(ec);
    if (state_ == State::kClosed) return;
    if (ec) return CloseNow();
    ParseBody();  // after "100 Continue"
  }

  void OnDetect(const error_code& ec, bool is_tls) {
    if (state_ == State::kClosed) return;
    if (ec) return CloseNow();
    if (!is_tls) {
      auto data = buffer_.data();
      const char* p = static_cast<const char*>(data.data());
      if (data.size() > 0 && p[0] >= 'A' && p[0] <= 'Z') {
        plain_ = true;
        request_start_ = SteadyClock::now();
        return SendError(MakeError(errors::kHttpsRequired));
      }
      return CloseNow();
    }
    stream_.async_handshake(
        ssl::stream_base::server, buffer_.data(),
        [self = shared_from_this()](error_code ec, size_t used) { self->OnHandshake(ec, used); });
  }

  void OnHandshake(const error_code& ec, size_t used) {
    if (state_ == State::kClosed) return;
    if (ec) {
      ByokLogger()->debug("TLS handshake with {} failed: {}", remote_, ec.message());
      return CloseNow();
    }
    buffer_.consume(used);
    client_cert_der_ = PeerCertificateDer(stream_.native_handle());
    if (core_.shutting_down()) return CloseNow();
    // The first request's header must be complete within header_timeout of the handshake.
    Lowest().expires_after(opts_.header_timeout);
    WaitForRequest();
  }

  void WaitForRequest() {
    if (buffer_.size() > 0) {  // pipelined
      if (!first_request_) Lowest().expires_after(opts_.header_timeout);
      return ReadHeader();
    }
    state_ = State::kIdle;
    if (buffer_.capacity() > kMaxIdleBufferBytes) buffer_.shrink_to_fit();
    if (!first_request_) Lowest().expires_after(opts_.idle_timeout);
    Read(ReadFor::kFirstBytes, kFirstReadBytes);
  }

  void ReadHeader() {
    state_ = State::kReadingHeader;
    request_start_ = SteadyClock::now();
    parser_.emplace();
    ConfigureParser(*parser_, opts_);
    header_bytes_ = 0;
    ParseHeader();
  }

  // Feeds buffered bytes to the parser and reads more until the header is complete. Beast 1.74
  // applies header_limit only to the not-yet-parsed window (parsed fields are consumed), so a
  // header sent in pieces could grow without bound: the total is counted here.
  void ParseHeader() {
    while (buffer_.size() > 0) {
      error_code ec;
      size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      header_bytes_ += used;
      if (ec == bhttp::error::need_more) break;
      if (ec) return OnReadError(ec);
      if (parser_->is_header_done()) {
        if (header_bytes_ > opts_.max_header_bytes) return SendHeaderLimitError();
        return OnHeader();
      }
      if (used == 0) break;
    }
    size_t pending = header_bytes_ + buffer_.size();
    if (pending > opts_.max_header_bytes) return SendHeaderLimitError();
    // Never buffer more than one byte beyond the limit.
    Read(ReadFor::kHeader, std::min(kHeaderReadBytes, opts_.max_header_bytes + 1 - pending));
  }

  void SendHeaderLimitError() {
    SendError(ParseErrorToApiError(bhttp::make_error_code(bhttp::error::header_limit), opts_));
  }

  void OnHeader() {
    const BeastRequest& msg = parser_->get();
    log_method_ = std::string(msg.method_string());
    log_target_ = std::string(msg.target());
    user_agent_ = std::string(msg[bhttp::field::user_agent]);
    std::string_view client_id = Sv(msg["x-ms-client-request-id"]);
    if (ValidFieldValue(client_id)) client_request_id_ = Truncated(client_id, kMaxEchoedIdBytes);
    std::string_view correlation = Sv(msg["x-ms-correlation-request-id"]);
    if (ValidFieldValue(correlation)) correlation_id_ = Truncated(correlation, kMaxEchoedIdBytes);
    version_ = msg.version() == 10 ? 10 : 11;

    bool send_continue = false;
    std::string_view expect = Sv(msg[bhttp::field::expect]);
    if (!expect.empty()) {
      if (!EqualsIgnoreCase(expect, "100-continue")) {
        return SendError(MakeError(errors::kExpectationFailed, Truncated(expect, 64)));
      }
      send_continue = msg.version() >= 11 && !parser_->is_done();
    }
    if (core_.shutting_down()) return SendError(MakeError(errors::kServerShuttingDown));
    if (parser_->is_done()) return Dispatch();

    state_ = State::kReadingBody;
    parser_->eager(true);
    Lowest().expires_after(opts_.body_timeout);
    if (send_continue) {
      // Without it, curl and others wait about a second before sending the body.
      out_ = {net::buffer(kContinue.data(), kContinue.size()), net::const_buffer()};
      return Write(WriteFor::kContinue);
    }
    ParseBody();
  }

  void ParseBody() {
    while (buffer_.size() > 0 && !parser_->is_done()) {
      error_code ec;
      size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) break;
      if (ec) return OnReadError(ec);  // body_limit → 413, bad chunk → 400
      if (used == 0) break;
    }
    if (parser_->is_done()) return Dispatch();
    Read(ReadFor::kBody, kBodyReadBytes);
  }

  void OnReadError(const error_code& ec) {
    if (IsParseError(ec)) return SendError(ParseErrorToApiError(ec, opts_));
    if (ec != beast::error::timeout && ec != net::error::eof) {
      ByokLogger()->debug("connection {}: read: {}", remote_, ec.message());
    }
    CloseNow();
  }

  void Dispatch() {
    state_ = State::kProcessing;
    Lowest().expires_never();
    keep_alive_ = parser_->get().keep_alive();
    Result<Request> parsed = ToRequest(parser_->release());
    parser_.reset();
    if (!parsed.ok()) return SendError(MakeError(errors::kBadRequest, parsed.status().message()));
    request_ = std::move(*parsed);
    request_id_ = CryptoRandom().Uuid();
    request_.request_id = request_id_;
    request_.remote_address = remote_;
    request_.client_cert_der = client_cert_der_;
    head_ = request_.method == "HEAD";

    const Router& router = core_.router();
    Router::Match m = router.Find(request_.method, request_.host, request_.path);
    if (m.handler == nullptr && head_) {
      Router::Match get = router.Find("GET", request_.host, request_.path);
      if (get.handler != nullptr) m = std::move(get);
    }
    if (m.handler == nullptr) {
      if (m.path_matched_other_method || request_.method == "CONNECT") {
        Response r = Response::Error(MakeError(errors::kMethodNotAllowed, request_.method));
        std::string allow = AllowHeader(m.allowed_methods);
        if (!allow.empty()) r.headers.Set("Allow", allow);
        return SendResponse(std::move(r), /*error=*/false);
      }
      return SendResponse(Response::Error(MakeError(errors::kNotFound, request_.path)),
                          /*error=*/false);
    }
    request_.params = std::move(m.params);
    handler_ = m.handler;
    if (m.dispatch == Dispatch::kInline) {
      Response response = InvokeHandler();
      std::shared_ptr<StreamSinkImpl> sink = StartStream(response);
      return SendResponse(std::move(response), /*error=*/false, std::move(sink));
    }
    net::post(core_.workers(), [self = shared_from_this()] {
      Response response = self->InvokeHandler();
      std::shared_ptr<StreamSinkImpl> sink = self->StartStream(response);
      net::post(self->executor(),
                [self, r = std::move(response), sink = std::move(sink)]() mutable {
                  self->SendResponse(std::move(r), /*error=*/false, std::move(sink));
                });
    });
  }

  // Whether a response with this status gets its streaming body sent.
  bool StreamsBody(const Response& r) const {
    return r.status >= 200 && r.status < 300 && r.status != 204 && r.status != 205 && !head_;
  }

  // On the thread that ran the handler, right after it: for a streaming response, creates the
  // sink (with `body` as the first chunk) and hands it to the producer. Reads only head_ and
  // version_, which nothing changes while the connection is in kProcessing.
  std::shared_ptr<StreamSinkImpl> StartStream(Response& r) {
    if (!r.stream) return nullptr;
    auto sink = std::make_shared<StreamSinkImpl>(weak_from_this(), core_.workers().get_executor(),
                                                 opts_.max_stream_queue_bytes, version_ >= 11);
    if (StreamsBody(r)) {
      sink->Write(std::move(r.body));
      r.body.clear();
    } else {
      sink->MarkClosed();  // HEAD (the body is not sent) or an error status (sent as usual)
    }
    auto start = std::move(r.stream);
    r.stream = nullptr;
    try {
      start(sink);
    } catch (const std::exception& e) {
      ByokLogger()->error("stream producer for {} {} threw: {} (request {})", request_.method,
                          request_.path, e.what(), request_id_);
      sink->MarkClosed();
    } catch (...) {
      ByokLogger()->error("stream producer for {} {} threw (request {})", request_.method,
                          request_.path, request_id_);
      sink->MarkClosed();
    }
    return sink;
  }

  // On a worker thread, or on the I/O thread for a kInline route. Touches only request_,
  // request_id_ and handler_, which nothing else uses while the connection is in kProcessing.
  Response InvokeHandler() {
    Response response;
    try {
      response = (*handler_)(request_);
      if (response.status < 200 || response.status > 599) {
        ByokLogger()->error("handler for {} {} returned invalid status {} (request {})",
                            request_.method, request_.path, response.status, request_id_);
        response = Response::Error(MakeError(errors::kInternalServerError));
      }
    } catch (const std::exception& e) {
      ByokLogger()->error("handler for {} {} threw: {} (request {})", request_.method,
                          request_.path, e.what(), request_id_);
      response = Response::Error(MakeError(errors::kInternalServerError));
    } catch (...) {
      ByokLogger()->error("handler for {} {} threw a non-std exception (request {})",
                          request_.method, request_.path, request_id_);
      response = Response::Error(MakeError(errors::kInternalServerError));
    }
    return response;
  }

  // An error of the http layer itself (400, 413, 417, 431, 503): respond, then close.
  void SendError(const ApiError& e) { SendResponse(Response::Error(e), /*error=*/true); }

  void SendResponse(Response r, bool error, std::shared_ptr<StreamSinkImpl> sink = nullptr) {
    if (state_ == State::kClosed) {
      if (sink != nullptr) sink->MarkClosed();
      return;
    }
    const bool streaming = sink != nullptr && StreamsBody(r);
    state_ = streaming ? State::kStreaming : State::kWriting;
    bool keep = !error && keep_alive_ && !core_.shutting_down() && !streaming;
    lingering_ = error;
    close_after_write_ = !keep;
    if (request_id_.empty()) request_id_ = CryptoRandom().Uuid();
    ResponseContext ctx;
    ctx.request_id = request_id_;
    ctx.client_request_id = client_request_id_;
    ctx.correlation_id = correlation_id_;
    ctx.request_version = version_;
    ctx.keep_alive = keep;
    ctx.head = head_;
    ctx.stream =
        sink != nullptr && r.status >= 200 && r.status < 300 && r.status != 204 && r.status != 205;
    ctx.now = std::chrono::system_clock::now();
    std::vector<std::string> dropped;
    out_head_ = SerializeResponseHead(r, ctx, &dropped);
    for (const std::string& name : dropped) {
      ByokLogger()->warn("dropping invalid response header '{}' (request {})", name, request_id_);
    }
    status_ = r.status;
    log_principal_ = std::move(r.log_principal);
    if (streaming) return BeginStream(std::move(sink), r.stream_timeout);
    out_body_ = ResponseHasBody(r.status, head_) ? std::move(r.body) : std::string();
    response_bytes_ = out_body_.size();
    if (!plain_ && out_body_.size() <= kCoalesceBodyBytes) {
      // Asio's TLS stream turns every buffer of a sequence into its own record and send: one
      // buffer means one record and one syscall for the whole response.
      out_head_ += out_body_;
      out_body_.clear();
    }
    out_ = {net::buffer(out_head_), net::buffer(out_body_)};
    Lowest().expires_after(opts_.body_timeout);
    Write(WriteFor::kResponse);
  }

  void OnResponseWritten(const error_code& ec) {
    auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - request_start_);
    LogAccess(AccessRecord{remote_, log_method_, log_target_, status_, response_bytes_,
                           elapsed.count(), request_id_, user_agent_, log_principal_});
    out_ = {};
    out_head_.clear();
    out_body_ = std::string();
    request_ = Request();
    request_id_.clear();
    log_method_.clear();
    log_target_.clear();
    log_principal_.clear();
    user_agent_.clear();
    client_request_id_.clear();
    correlation_id_.clear();
    head_ = false;
    first_request_ = false;
    if (state_ == State::kClosed) return;
    if (ec || plain_) return CloseNow();
    if (lingering_) return LingeringClose();
    if (close_after_write_) return GracefulClose();
    WaitForRequest();
  }

  // The head is in out_head_: the stream begins (state kStreaming).
  void BeginStream(std::shared_ptr<StreamSinkImpl> sink, std::chrono::milliseconds timeout) {
    stream_sink_ = std::move(sink);
    Lowest().expires_never();  // the stream's own timers apply from now on
    // An idle stream has no read or write timeout: TCP keep-alive notices a peer that vanished
    // without a FIN (else it would hold its connection until the stream's own timeout).
    error_code keepalive_ec;
    Lowest().socket().set_option(net::socket_base::keep_alive(true), keepalive_ec);
    buffer_.clear();  // nothing may be pipelined behind a streamed response
    drained_ = 0;
    Read(ReadFor::kStream, kDrainReadBytes);
    if (timeout.count() > 0) {
      stream_timer_.expires_after(timeout);
      stream_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
        if (!ec) self->EndStream();
      });
    }
    stream_out_ = std::move(out_head_);
    out_head_.clear();
    PumpStream();
    if (core_.shutting_down()) EndStream();  // Shutdown began while the handler ran
  }

  void OnStreamWritten(const error_code& ec) {
    stream_writing_ = false;
    stream_out_.clear();
    out_ = {};
    stream_write_timer_.cancel();
    if (state_ == State::kClosed) return;
    if (ec) return CloseNow();
    PumpStream();
  }

  // The server ends the stream (deadline, shutdown): queued bytes, then the terminating chunk.
  void EndStream() {
    if (state_ != State::kStreaming) return;
    stream_sink_->MarkClosed();
    PumpStream();
  }

  // The whole stream (terminating chunk included) was written: log it, then close as after an
  // error (shut our side; the pending read becomes the drain).
  void FinishStream() {
    LogStream();
    state_ = State::kClosing;
    error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    read_for_ = ReadFor::kDrain;  // the read issued by BeginStream is still pending
    stream_timer_.expires_after(linger_);
    stream_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->CloseNow();
    });
  }

  void LogStream() {
    if (stream_logged_ || stream_sink_ == nullptr) return;
    stream_logged_ = true;
    auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - request_start_);
    LogAccess(AccessRecord{remote_, log_method_, log_target_, status_,
                           stream_sink_->payload_bytes(), elapsed.count(), request_id_, user_agent_,
                           log_principal_});
  }

  // After an error response the client may still be sending (a body we refused): closing now
  // would make the kernel answer with a reset that can destroy the response in flight. Shut our
  // sending side, read and discard for a short while, then close.
  void LingeringClose() {
    state_ = State::kClosing;
    error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Lowest().expires_after(linger_);
    drained_ = 0;
    buffer_.clear();
    Read(ReadFor::kDrain, kDrainReadBytes);
  }

  // After a response with "Connection: close": send close_notify and wait (briefly) for the
  // client's, then close.
  void GracefulClose() {
    state_ = State::kClosing;
    Lowest().expires_after(linger_);
    stream_.async_shutdown([self = shared_from_this()](error_code) { self->CloseNow(); });
  }

  void CloseNow() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
    if (stream_sink_ != nullptr) {
      stream_sink_->MarkClosed();
      LogStream();
      stream_timer_.cancel();
      stream_write_timer_.cancel();
    }
  }

  ServerCore& core_;
  const ServerOptions& opts_;
  ssl::stream<beast::tcp_stream> stream_;
  const std::string remote_;
  const std::chrono::milliseconds linger_;
  beast::flat_buffer buffer_;
  State state_ = State::kHandshake;
  ReadFor read_for_ = ReadFor::kFirstBytes;
  WriteFor write_for_ = WriteFor::kResponse;
  bool plain_ = false;
  bool first_request_ = true;
  std::string client_cert_der_;
  size_t drained_ = 0;

  // The current request.
  std::optional<BeastParser> parser_;
  size_t header_bytes_ = 0;  // request line and fields parsed so far
  SteadyClock::time_point request_start_;
  int version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  Request request_;
  const Handler* handler_ = nullptr;
  std::string request_id_;
  std::string client_request_id_;
  std::string correlation_id_;
  std::string log_method_;
  std::string log_target_;
  std::string log_principal_;
  std::string user_agent_;

  // The response being written.
  static constexpr size_t kCoalesceBodyBytes = 256 * 1024;
  std::string out_head_;
  std::string out_body_;
  std::array<net::const_buffer, 2> out_;
  int status_ = 0;
  size_t response_bytes_ = 0;
  bool lingering_ = false;
  bool close_after_write_ = false;

  // The streaming response (state kStreaming), if any.
  net::steady_timer stream_timer_;        // Response::stream_timeout, then the linger at the end
  net::steady_timer stream_write_timer_;  // a write stalled for body_timeout
  std::shared_ptr<StreamSinkImpl> stream_sink_;
  std::string stream_out_;  // being written
  bool stream_writing_ = false;
  uint64_t stream_write_generation_ = 0;  // which write stream_write_timer_ times
  bool stream_finished_ = false;  // the last bytes (terminating chunk) are written or being written
  bool stream_logged_ = false;
};

void StreamSinkImpl::PostPump() {
  std::shared_ptr<Connection> c = conn_.lock();
  if (!c) return;
  net::post(c->executor(), [conn = conn_] {
    if (auto alive = conn.lock()) alive->PumpStream();
  });
}

Status ServerCore::Listen() {
  std::string host = options_.listen_host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  error_code ec;
  net::ip::address address = net::ip::make_address(host, ec);
  if (ec) {
    return Status::InvalidArgument(
        fmt::format("listen_host '{}' is not an IP address or 'localhost'", options_.listen_host));
  }
  tcp::endpoint endpoint(address, options_.port);
  std::string where = FormatEndpoint(endpoint);
  if (acceptor_.open(endpoint.protocol(), ec)) {
    return Status::Unavailable(fmt::format("cannot open socket for {}: {}", where, ec.message()));
  }
  if (acceptor_.set_option(net::socket_base::reuse_address(true), ec)) {
    return Status::Unavailable(fmt::format("cannot set SO_REUSEADDR: {}", ec.message()));
  }
  if (acceptor_.bind(endpoint, ec)) {
    if (ec == net::error::address_in_use) {
      return Status::Unavailable(fmt::format("address in use: {}", where));
    }
    return Status::Unavailable(fmt::format("cannot bind {}: {}", where, ec.message()));
  }
  if (acceptor_.listen(net::socket_base::max_listen_connections, ec)) {
    return Status::Unavailable(fmt::format("cannot listen on {}: {}", where, ec.message()));
  }
  bound_ = acceptor_.local_endpoint(ec);
  if (ec) return Status::Unavailable(fmt::format("local_endpoint: {}", ec.message()));
  return Status::Ok();
}

void ServerCore::Run() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    accept_loop_done_ = false;
  }
  for (auto& ioc : iocs_) work_.push_back(net::make_work_guard(*ioc));
  net::post(strand_, [this] { Accept(); });
  for (auto& ioc : iocs_) {
    io_threads_.emplace_back([this, &ioc = *ioc] {
      while (true) {
        try {
          ioc.run();
          return;
        } catch (const std::exception& e) {
          ByokLogger()->error("http I/O thread: unexpected exception: {}", e.what());
        }
      }
    });
  }
  ByokLogger()->info("https server listening on {}", FormatEndpoint(bound_));
}

void ServerCore::Accept() {
  net::io_context& ioc = *iocs_[next_ioc_++ % iocs_.size()];
  acceptor_.async_accept(
      ioc.get_executor(),
      net::bind_executor(strand_, [this](const error_code& ec, tcp::socket socket) {
        OnAccept(ec, std::move(socket));
      }));
}

void ServerCore::OnAccept(const error_code& ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || shutting_down()) {
    error_code ignored;
    socket.close(ignored);
    return FinishAcceptLoop();
  }
  if (ec) {
    // EMFILE and friends: back off instead of spinning.
    ByokLogger()->warn("accept: {}", ec.message());
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait(net::bind_executor(strand_, [this](const error_code&) {
      if (shutting_down()) return FinishAcceptLoop();
      Accept();
    }));
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  tcp::endpoint remote = socket.remote_endpoint(ignored);
  auto conn = std::make_shared<Connection>(*this, std::move(socket), FormatEndpoint(remote));
  if (TryRegister(conn)) {
    net::post(conn->executor(), [conn] { conn->Start(); });
  }
  // else: over max_connections (or shutting down); the socket closes with `conn`.
  Accept();
}

void ServerCore::FinishAcceptLoop() {
  std::lock_guard<std::mutex> lock(mu_);
  accept_loop_done_ = true;
  cv_.notify_all();
}

bool ServerCore::TryRegister(const std::shared_ptr<Connection>& c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_started_ || conns_.size() >= options_.max_connections) return false;
  conns_.emplace(c.get(), c);
  return true;
}

void ServerCore::Unregister(Connection* c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (conns_.erase(c) > 0 && conns_.empty()) cv_.notify_all();
}

std::vector<std::shared_ptr<Connection>> ServerCore::Snapshot() {
  std::vector<std::shared_ptr<Connection>> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.reserve(conns_.size());
  for (auto& [ptr, weak] : conns_) {
    if (auto c = weak.lock()) out.push_back(std::move(c));
  }
  return out;
}

void ServerCore::Shutdown(std::chrono::milliseconds grace) {
  SteadyClock::time_point deadline =
      SteadyClock::now() + std::max(grace, std::chrono::milliseconds(0));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_started_) {
      if (deadline < grace_deadline_) {
        grace_deadline_ = deadline;
        net::post(strand_, [this, deadline] { ArmGraceTimer(deadline); });
      }
      return;
    }
    shutdown_started_ = true;
    shutting_down_.store(true, std::memory_order_release);
    grace_deadline_ = deadline;
    cv_.notify_all();
  }
  net::post(strand_, [this, deadline] {
    error_code ignored;
    acceptor_.close(ignored);
    accept_retry_timer_.cancel();
    ArmGraceTimer(deadline);
  });
  for (auto& c : Snapshot()) {
    net::post(c->executor(), [c] { c->OnServerShutdown(); });
  }
}

void ServerCore::ArmGraceTimer(SteadyClock::time_point deadline) {
  grace_timer_.expires_at(deadline);
  grace_timer_.async_wait(net::bind_executor(strand_, [this](const error_code& ec) {
    if (ec) return;  // re-armed with an earlier deadline
    for (auto& c : Snapshot()) {
      net::post(c->executor(), [c] { c->ForceClose(); });
    }
  }));
}

void ServerCore::Wait() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return shutdown_started_ && conns_.empty() && accept_loop_done_; });
  }
  std::call_once(join_once_, [this] { JoinThreads(); });
}

void ServerCore::JoinThreads() {
  work_.clear();
  for (auto& ioc : iocs_) ioc->stop();
  for (std::thread& t : io_threads_) t.join();
  io_threads_.clear();
  workers_.join();
}

}  // namespace internal

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options, Router router) {
  BYOK_ASSIGN_OR_RETURN(internal::SslCtxPtr ctx, internal::MakeServerTlsContext(options));
  options.private_key_pem.Wipe();  // the TLS context holds the key from now on
  auto core =
      std::make_unique<internal::ServerCore>(std::move(options), std::move(router), ctx.release());
  BYOK_TRY(core->Listen());
  core->Run();
  return std::unique_ptr<Server>(new Server(std::move(core)));
}

Server::Server(std::unique_ptr<internal::ServerCore> core) : core_(std::move(core)) {}

Server::~Server() {
  Shutdown(std::chrono::milliseconds(0));
  Wait();
}

uint16_t Server::port() const { return core_->port(); }
std::string Server::host() const { return core_->host(); }
void Server::Shutdown(std::chrono::milliseconds grace) { core_->Shutdown(grace); }
void Server::Wait() { core_->Wait(); }

}  // namespace byok::http
