#pragma once
// The HTTP server: Boost.Beast over a bounded pool of connection threads.
//
// Why synchronous, thread-per-connection: handlers block (a `?wait=5` submit, an SSE stream,
// SQLite calls), and a thread each is the simplest correct model for the few hundred
// concurrent connections one process serves. Bounds keep it safe: at most max_connections at
// once (beyond: 503 at once), socket read/write timeouts (a slow client cannot hold a thread
// forever), a header size cap, and the body cap enforced from Content-Length before the body
// is read (413 without reading it).
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/beast/http.hpp>

#include "common/result.hpp"
#include "http/auth/principal.hpp"

namespace facefuse::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using RequestHeader = bhttp::request_header<>;
using Response = bhttp::response<bhttp::string_body>;

struct ServerConfig {
    std::string host = "127.0.0.1";
    int port = 8080;  // 0: pick a free one (see Server::port())
    int max_connections = 256;
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_body_bytes = 130u << 20;  // two 64 MiB images and the form around them
    std::chrono::seconds io_timeout{30};      // per read or write
    // A request's headers must arrive within this, however slowly they trickle (slowloris);
    // also how long an idle keep-alive connection is kept.
    std::chrono::seconds header_timeout{10};
};

// A long response written piece by piece (server-sent events).
class Stream {
public:
    virtual ~Stream() = default;
    virtual bool write(std::string_view data) = 0;  // false once the client is gone
    virtual bool stopping() const = 0;               // the server is shutting down
};

// What one request carries from precheck to handle, besides the request itself: the server
// fills peer_ip; precheck may settle the caller's identity once, before the body is read.
struct RequestContext {
    std::string peer_ip;                       // the TCP peer ("" if unknown)
    std::string request_id;                    // set by precheck
    std::optional<auth::Principal> principal;  // set by precheck once authenticated
};

struct Handlers {
    // Called after the headers are read, before the body: may answer at once (401, 404, 413,
    // 415, 429) so a refused upload is never read.
    std::function<std::optional<Response>(const RequestHeader&, RequestContext&)> precheck;
    // Answers a full request. Returns nullopt when it streamed the response itself through
    // `stream` (the connection is closed afterwards).
    std::function<std::optional<Response>(Request&, Stream& stream, RequestContext&)> handle;
};

class Server {
public:
    Server(ServerConfig config, Handlers handlers);
    ~Server();

    // Binds and starts accepting. Errors: kUnavailable (address in use, cannot bind).
    Status start();
    // Stops accepting, lets requests in flight finish (streams see stopping()), joins.
    void stop();
    int port() const { return bound_port_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    int bound_port_ = 0;
};

// A JSON error body {"error":{"code","message","request_id"}} with the code's HTTP status.
Response error_response(const Error& error, const std::string& request_id, unsigned version = 11);

}  // namespace facefuse::http
