#pragma once
// A server process started by a test (redis-server, s3rver, facefuse serve, prometheus): spawned
// without a shell, its output kept in a log file, ready when its TCP port accepts connections,
// and killed (whole process group) when the object goes out of scope -- so a failing test never
// leaves a server behind. Readiness is awaited by polling the port with a deadline, never by
// sleeping a fixed time.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace facefuse::test {

// A TCP port on 127.0.0.1 that was free a moment ago, from 10000-19999: below the kernel's
// ephemeral range (32768 and up on Debian). A port from bind(0) lies inside that range, and
// between our close and the child's listen any outgoing connection on the machine (the tests
// beside this one make thousands) may take it as its local port; the child then fails with
// "Address already in use". Below the range only another listener can collide, and the bind
// here checks that. tests/cluster/cluster_test.sh takes its blocks from 20000 up, so the two
// never pick the same port.
inline sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    return addr;
}

inline int free_port() {
    const int lowest = 10000;
    const int highest = 19999;
    std::mt19937 pick(std::random_device{}());
    std::uniform_int_distribution<int> port_in(lowest, highest);
    for (int attempt = 0; attempt < 200; ++attempt) {
        const int port = port_in(pick);
        // SOCK_CLOEXEC: a process another thread forks meanwhile must not keep the port bound.
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const sockaddr_in addr = loopback(port);
        const bool free = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
        ::close(fd);
        if (free) return port;
    }
    throw std::runtime_error("free_port: no free port found below " + std::to_string(highest + 1));
}

inline bool port_accepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in addr = loopback(port);
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

class BackgroundProcess {
  public:
    BackgroundProcess() = default;
    // Starts argv[0] (searched in PATH) with `extra_env` ("NAME=value") added; stdout and stderr
    // go to log_path.
    BackgroundProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_path,
                      const std::vector<std::string>& extra_env = {})
        : log_path_(log_path) {
        // Everything the child needs is made before fork(): tests fork from several threads,
        // and after fork() only async-signal-safe calls are sure to work.
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        // extra_env replaces what this process has under the same name: getenv() takes the
        // first of two.
        auto overridden = [&](std::string_view entry) {
            for (const auto& e : extra_env) {
                const auto eq = e.find('=');
                if (eq == std::string::npos) continue;
                const auto name_end = eq + 1;
                if (entry.substr(0, name_end) == std::string_view(e).substr(0, name_end))
                    return true;
            }
            return false;
        };
        std::vector<char*> env;
        for (char** e = environ; *e != nullptr; ++e)
            if (!overridden(*e)) env.push_back(*e);
        for (const auto& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
        env.push_back(nullptr);
        const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);  // own group: kill() takes its children too (npx -> node)
            if (log >= 0) {
                ::dup2(log, 1);
                ::dup2(log, 2);
            }
            if (null >= 0) ::dup2(null, 0);
            // Only stdio goes with it. Any other descriptor of this process -- a socket another
            // thread's free_port() has bound, a client connection libcurl opened without
            // CLOEXEC -- would otherwise live on in the server: one serve once held the port the
            // next was about to listen on, and failed it with "Address already in use".
            ::close_range(3, ~0U, 0);
            ::execvpe(args[0], args.data(), env.data());
            ::_exit(127);
        }
        for (const int fd : {log, null})
            if (fd >= 0) ::close(fd);
        if (pid_ > 0) ::setpgid(pid_, pid_);
    }
    BackgroundProcess(const BackgroundProcess&) = delete;
    BackgroundProcess& operator=(const BackgroundProcess&) = delete;
    BackgroundProcess(BackgroundProcess&& o) noexcept { *this = std::move(o); }
    BackgroundProcess& operator=(BackgroundProcess&& o) noexcept {
        if (this != &o) {
            kill();
            pid_ = std::exchange(o.pid_, -1);
            log_path_ = std::move(o.log_path_);
        }
        return *this;
    }
    ~BackgroundProcess() { kill(); }

    // True once `port` accepts connections; false if the process exited or the deadline passed.
    bool wait_for_port(int port, std::chrono::seconds deadline = std::chrono::seconds(30)) {
        const auto until = std::chrono::steady_clock::now() + deadline;
        while (std::chrono::steady_clock::now() < until) {
            if (port_accepts(port)) return true;
            if (!running()) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling interval
        }
        return false;
    }

    bool running() {
        if (pid_ <= 0) return false;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            exit_status_ = status;
            pid_ = -1;
            return false;
        }
        return true;
    }

    // Sends `signal` to the process group.
    void signal(int sig) {
        if (pid_ > 0) ::kill(-pid_, sig);
    }

    // Waits for exit up to `deadline`; returns the wait status, or -1 if it is still running.
    int wait_exit(std::chrono::seconds deadline) {
        const auto until = std::chrono::steady_clock::now() + deadline;
        while (std::chrono::steady_clock::now() < until) {
            if (!running()) return exit_status_;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }

    // SIGKILL to the whole group, then reap. Idempotent.
    void kill() {
        if (pid_ > 0) {
            ::kill(-pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            exit_status_ = status;
            pid_ = -1;
        }
    }

    pid_t pid() const { return pid_; }
    std::string log() const {
        std::ifstream in(log_path_);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

  private:
    pid_t pid_ = -1;
    int exit_status_ = 0;
    std::filesystem::path log_path_;
};

}  // namespace facefuse::test
