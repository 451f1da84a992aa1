#include "http/server.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <array>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include "http/timed_socket.hpp"
#include "obs/log.hpp"

namespace facefuse::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

class SocketStream final : public Stream {
public:
    SocketStream(TimedSocket& socket, const std::atomic<bool>& stopping) : socket_(socket), stopping_(stopping) {}
    bool write(std::string_view data) override {
        beast::error_code ec;
        asio::write(socket_, asio::buffer(data.data(), data.size()), ec);
        return !ec;
    }
    bool stopping() const override { return stopping_.load(); }

private:
    TimedSocket& socket_;
    const std::atomic<bool>& stopping_;
};

}  // namespace

Response error_response(const Error& error, const std::string& request_id, unsigned version) {
    Response res{static_cast<bhttp::status>(error_info(error.code).http_status), version};
    res.set(bhttp::field::content_type, "application/json");
    const nlohmann::json body = {
        {"error", {{"code", error.code_name()}, {"message", error.message}, {"request_id", request_id}}}};
    res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // The two "try again later" codes say when: overload (429) and a backend outage (503).
    if (error.code == ErrorCode::kQueueFull || error.code == ErrorCode::kUnavailable ||
        error.code == ErrorCode::kQuotaExceeded)
        res.set(bhttp::field::retry_after, "1");
    res.prepare_payload();
    return res;
}

struct Server::Impl {
    ServerConfig config;
    Handlers handlers;
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::unique_ptr<asio::thread_pool> pool;
    std::thread accept_thread;
    std::atomic<bool> stopping{false};
    std::atomic<int> active{0};

    void serve(tcp::socket raw) {
        TimedSocket socket(raw, config.io_timeout);
        beast::flat_buffer buffer;
        // Beast reads max(512, free capacity) bytes at a time, and the body parser empties the
        // buffer as it goes: without room reserved an 80 KB upload takes ~160 reads.
        buffer.reserve(kReadChunk);
        beast::error_code ec;
        std::string peer_ip;
        if (auto peer = raw.remote_endpoint(ec); !ec) peer_ip = peer.address().to_string();
        while (!stopping) {
            bhttp::request_parser<bhttp::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
            parser.body_limit(config.max_body_bytes);
            RequestContext context;
            context.peer_ip = peer_ip;
            // The whole header within header_timeout: per-read timeouts alone would let a client
            // that sends a byte every few seconds hold this thread for ever.
            socket.set_deadline(std::chrono::steady_clock::now() + config.header_timeout);
            bhttp::read_header(socket, buffer, parser, ec);
            socket.clear_deadline();
            if (ec == bhttp::error::body_limit) {
                // Beast checks Content-Length against the body limit as soon as the headers
                // are complete: refuse before reading any of the body.
                write(socket, too_large(parser.get().version()));
                linger_close(raw, socket);
                return;
            }
            if (ec) {
                if (ec == bhttp::error::header_limit) {
                    write(socket, error_response(make_error(ErrorCode::kRequestTooLarge,
                                                            "request headers over " +
                                                                std::to_string(config.max_header_bytes) + " bytes"),
                                                 ""));
                }
                return;  // closed, timed out or garbage: drop the connection
            }
            if (auto early = handlers.precheck(parser.get(), context)) {
                early->keep_alive(false);  // the unread body makes the connection unusable
                write(socket, *early);
                linger_close(raw, socket);
                return;
            }
            bhttp::read(socket, buffer, parser, ec);
            if (ec == bhttp::error::body_limit) {  // chunked bodies have no Content-Length
                write(socket, too_large(parser.get().version()));
                linger_close(raw, socket);
                return;
            }
            if (ec) return;
            Request request = parser.release();
            SocketStream stream(socket, stopping);
            std::optional<Response> response;
            try {
                response = handlers.handle(request, stream, context);
            } catch (const std::exception& e) {
                obs::log_error("http_handler_exception", {{"error", e.what()}});
                response = error_response(make_error(ErrorCode::kInternal, "internal error"), "");
            }
            if (!response) return;  // streamed
            response->keep_alive(request.keep_alive() && !stopping);
            if (!write(socket, *response) || !response->keep_alive()) return;
        }
    }

    Response too_large(unsigned version) const {
        Response r = error_response(make_error(ErrorCode::kRequestTooLarge,
                                               "request body over " + std::to_string(config.max_body_bytes) +
                                                   " bytes: send smaller images"),
                                    "", version);
        r.keep_alive(false);
        return r;
    }

    // After answering early (413, 415...) the client may still be sending its body; closing at
    // once would reset the connection and the client would never read our answer. So: stop
    // sending, then read and discard what arrives for at most 2 s or 64 MiB -- never storing
    // it -- and close.
    static void linger_close(tcp::socket& raw, TimedSocket& socket) {
        beast::error_code ec;
        raw.shutdown(tcp::socket::shutdown_send, ec);
        socket.set_timeout(std::chrono::seconds(2));
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        std::array<char, 64 * 1024> sink{};
        std::size_t discarded = 0;
        while (!ec && discarded < (64u << 20) && std::chrono::steady_clock::now() < until) {
            discarded += socket.read_some(asio::buffer(sink), ec);
        }
    }

    template <typename Socket>
    static bool write(Socket& socket, Response& response) {
        beast::error_code ec;
        bhttp::write(socket, response, ec);
        return !ec;
    }
    template <typename Socket>
    static bool write(Socket& socket, Response&& response) { return write(socket, response); }

    void accept_loop() {
        while (!stopping) {
            beast::error_code ec;
            tcp::socket socket(io);
            acceptor.accept(socket, ec);
            if (ec) {
                if (stopping) return;
                continue;
            }
            if (active.load() >= config.max_connections) {
                // Over capacity: answer 503 at once rather than queue the client silently.
                TimedSocket timed(socket, std::chrono::seconds(1));
                Response busy = error_response(make_error(ErrorCode::kUnavailable,
                                                          "server busy: too many connections, retry shortly"),
                                               "");
                busy.keep_alive(false);
                write(timed, busy);
                continue;
            }
            ++active;
            asio::post(*pool, [this, s = std::make_shared<tcp::socket>(std::move(socket))]() mutable {
                serve(std::move(*s));
                --active;
            });
        }
    }
};

Server::Server(ServerConfig config, Handlers handlers) : impl_(std::make_unique<Impl>()) {
    impl_->config = std::move(config);
    impl_->handlers = std::move(handlers);
}

Server::~Server() { stop(); }

Status Server::start() {
    beast::error_code ec;
    const auto address = asio::ip::make_address(impl_->config.host, ec);
    if (ec) return make_error(ErrorCode::kUsage, "--listen: '" + impl_->config.host + "' is not an IP address");
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(impl_->config.port));
    impl_->acceptor.open(endpoint.protocol(), ec);
    if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) impl_->acceptor.bind(endpoint, ec);
    if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        return make_error(ErrorCode::kUnavailable, "cannot listen on " + impl_->config.host + ":" +
                                                       std::to_string(impl_->config.port) + ": " + ec.message());
    }
    bound_port_ = impl_->acceptor.local_endpoint().port();
    impl_->pool = std::make_unique<asio::thread_pool>(impl_->config.max_connections);
    impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
    return Status::Ok();
}

void Server::stop() {
    if (!impl_ || !impl_->accept_thread.joinable()) return;
    impl_->stopping = true;
    beast::error_code ec;
    impl_->acceptor.cancel(ec);
    // accept() is blocking: shutting the listening socket down wakes it.
    ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
    impl_->acceptor.close(ec);
    impl_->accept_thread.join();
    impl_->pool->join();
}

}  // namespace facefuse::http
