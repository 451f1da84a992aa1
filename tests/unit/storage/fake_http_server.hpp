#pragma once
// A tiny HTTP/1.1 server for unit tests of the S3 client: listens on an ephemeral port of
// 127.0.0.1, records each request (method, target, headers, body) and answers it with a canned
// response chosen by the test. It answers "Expect: 100-continue" like a real server, and closes
// every connection after one exchange, so that one thread serves clients one after another.
// With `hang` it reads a request and never answers, for timeout tests.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace facefuse::test {

struct CapturedRequest {
    std::string method;
    std::string target;                                        // e.g. "/bucket/a%20b?x=1"
    std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
    std::string head;                                          // the raw request head
    std::string body;

    // The value of the first header named `name` (case-insensitive), or "" if absent.
    std::string header(std::string_view name) const {
        for (const auto& [n, v] : headers) {
            if (n.size() == name.size() &&
                std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
                    return std::tolower(static_cast<unsigned char>(a)) ==
                           std::tolower(static_cast<unsigned char>(b));
                })) {
                return v;
            }
        }
        return {};
    }
};

struct CannedResponse {
    int status = 200;
    std::string body;
    std::string content_type = "application/xml";
    bool hang = false;  // read the request, then never answer
};

class FakeHttpServer {
  public:
    using Handler = std::function<CannedResponse(const CapturedRequest&)>;

    explicit FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        ::listen(listen_fd_, 16);
        thread_ = std::thread([this] { serve(); });
    }
    explicit FakeHttpServer(CannedResponse response)
        : FakeHttpServer([response](const CapturedRequest&) { return response; }) {}
    ~FakeHttpServer() {
        stop_ = true;
        thread_.join();
        ::close(listen_fd_);
    }
    FakeHttpServer(const FakeHttpServer&) = delete;
    FakeHttpServer& operator=(const FakeHttpServer&) = delete;

    int port() const { return port_; }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::vector<CapturedRequest> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

  private:
    // Waits up to 50 ms for `fd` to become readable; false when stopping.
    bool wait_readable(int fd) {
        pollfd p{fd, POLLIN, 0};
        while (!stop_) {
            if (::poll(&p, 1, 50) > 0) return true;
        }
        return false;
    }

    void serve() {
        while (wait_readable(listen_fd_)) {
            const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            handle(fd);
            ::close(fd);
        }
    }

    void handle(int fd) {
        std::string data;
        char buf[65536];
        std::size_t head_end = std::string::npos;
        while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
            if (!wait_readable(fd)) return;
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) return;
            data.append(buf, static_cast<std::size_t>(n));
        }
        CapturedRequest req;
        req.head = data.substr(0, head_end);
        parse_head(req);
        std::size_t length = 0;
        if (const std::string cl = req.header("Content-Length"); !cl.empty())
            length = std::stoul(cl);
        if (req.header("Expect") == "100-continue") send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
        req.body = data.substr(head_end + 4);
        while (req.body.size() < length) {
            if (!wait_readable(fd)) return;
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) return;
            req.body.append(buf, static_cast<std::size_t>(n));
        }
        const CannedResponse response = handler_(req);
        {
            std::lock_guard lock(mutex_);
            requests_.push_back(req);
        }
        if (response.hang) {
            while (wait_readable(fd)) {
                if (::read(fd, buf, sizeof buf) <= 0) return;  // the client gave up
            }
            return;
        }
        std::string out = "HTTP/1.1 " + std::to_string(response.status) + " Canned\r\n";
        if (!response.body.empty()) out += "Content-Type: " + response.content_type + "\r\n";
        out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
        out += "Connection: close\r\n\r\n";
        if (req.method != "HEAD") out += response.body;
        send_all(fd, out);
    }

    static void parse_head(CapturedRequest& req) {
        std::size_t pos = req.head.find("\r\n");
        const std::string line = req.head.substr(0, pos);
        const std::size_t sp1 = line.find(' ');
        const std::size_t sp2 = line.find(' ', sp1 + 1);
        req.method = line.substr(0, sp1);
        req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        while (pos != std::string::npos && pos + 2 < req.head.size()) {
            const std::size_t start = pos + 2;
            pos = req.head.find("\r\n", start);
            const std::string h =
                req.head.substr(start, pos == std::string::npos ? pos : pos - start);
            const std::size_t colon = h.find(':');
            if (colon == std::string::npos) continue;
            std::size_t v = colon + 1;
            while (v < h.size() && h[v] == ' ') ++v;
            req.headers.emplace_back(h.substr(0, colon), h.substr(v));
        }
    }

    static void send_all(int fd, const std::string& s) {
        std::size_t done = 0;
        while (done < s.size()) {
            const ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
            if (n <= 0) return;
            done += static_cast<std::size_t>(n);
        }
    }

    Handler handler_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<CapturedRequest> requests_;
    std::thread thread_;
};

}  // namespace facefuse::test
