#pragma once
// A blocking TCP stream whose every read and write has a deadline, for Beast's synchronous
// read/write (it models SyncReadStream and SyncWriteStream).
//
// Why not SO_RCVTIMEO on an asio socket: asio's synchronous recv, on EAGAIN, falls back to an
// unbounded poll(), so the socket option never bounds a slow client. Here each read_some /
// write_some polls with the remaining time and fails with `timed_out` when it is up: a client
// that sends one byte a minute (slowloris) loses its connection after `timeout`.
//
// Each call tries the non-blocking recv/send first and polls only when the socket is not
// ready: a body that is already in the kernel's buffer costs one system call per read, not two.
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <optional>

namespace facefuse::http {

class TimedSocket {
public:
    TimedSocket(boost::asio::ip::tcp::socket& socket, std::chrono::milliseconds timeout)
        : socket_(socket), timeout_(timeout) {}

    void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
    // An absolute limit on top of the per-call timeout, for a whole exchange (a request's
    // headers): no call runs past it.
    void set_deadline(std::chrono::steady_clock::time_point deadline) { deadline_ = deadline; }
    void clear_deadline() { deadline_.reset(); }

    template <typename Buffers>
    std::size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
        return transfer(buffers, POLLIN, ec);
    }
    template <typename Buffers>
    std::size_t write_some(const Buffers& buffers, boost::system::error_code& ec) {
        return transfer(buffers, POLLOUT, ec);
    }
    template <typename Buffers>
    std::size_t read_some(const Buffers& buffers) {
        boost::system::error_code ec;
        const std::size_t n = read_some(buffers, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }
    template <typename Buffers>
    std::size_t write_some(const Buffers& buffers) {
        boost::system::error_code ec;
        const std::size_t n = write_some(buffers, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }

private:
    template <typename Buffers>
    std::size_t transfer(const Buffers& buffers, short event, boost::system::error_code& ec) {
        std::array<iovec, 16> iov{};
        int count = 0;
        for (auto it = boost::asio::buffer_sequence_begin(buffers);
             it != boost::asio::buffer_sequence_end(buffers) && count < 16; ++it) {
            boost::asio::const_buffer b(*it);
            if (b.size() == 0) continue;
            iov[count].iov_base = const_cast<void*>(b.data());
            iov[count].iov_len = b.size();
            ++count;
        }
        ec = {};
        if (count == 0) return 0;
        const int fd = socket_.native_handle();
        auto deadline = std::chrono::steady_clock::now() + timeout_;
        if (deadline_ && *deadline_ < deadline) deadline = *deadline_;
        while (true) {
            msghdr msg{};
            msg.msg_iov = iov.data();
            msg.msg_iovlen = static_cast<std::size_t>(count);
            const ssize_t n = event == POLLIN ? ::recvmsg(fd, &msg, MSG_DONTWAIT) : ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) return static_cast<std::size_t>(n);
            if (n == 0 && event == POLLIN) {
                ec = boost::asio::error::eof;
                return 0;
            }
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                ec = boost::system::error_code(n < 0 ? errno : EPIPE, boost::system::system_category());
                return 0;
            }
            // Not ready: wait for it, within what is left of the deadline.
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                ec = boost::asio::error::timed_out;
                return 0;
            }
            pollfd p{fd, event, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) {
                ec = ready == 0 ? boost::asio::error::timed_out : boost::system::error_code(errno, boost::system::system_category());
                return 0;
            }
        }
    }

    boost::asio::ip::tcp::socket& socket_;
    std::optional<std::chrono::steady_clock::time_point> deadline_;
    std::chrono::milliseconds timeout_;
};

}  // namespace facefuse::http
