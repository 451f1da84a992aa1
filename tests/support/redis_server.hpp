#pragma once
// A throwaway redis-server for one test: its own port and data folder, no persistence, killed
// with the object. stop() and start() again keep the port, so a test can take Redis away for a
// while ("Redis down for a few seconds") and bring it back empty, as after a crash without
// persistence; freeze() and thaw() make it hang instead (SIGSTOP / SIGCONT), to test timeouts.
//
//   facefuse::test::RedisServer redis;
//   ASSERT_TRUE(redis.ready()) << redis.log();
//   auto client = RedisClient::open({.url = redis.url()});
//
// Needs redis-server in PATH (Debian: apt-get install redis-server).
#include <signal.h>

#include <chrono>
#include <string>

#include "support/background_process.hpp"
#include "support/test_support.hpp"

namespace facefuse::test {

class RedisServer {
  public:
    RedisServer() : port_(free_port()) { start(); }

    // Starts redis-server on this object's port and waits until it accepts connections;
    // returns ready(). A failure to start is a test failure (with the server's log).
    bool start() {
        stop();
        process_ = BackgroundProcess(
            {"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", dir_.path().string(), "--protected-mode", "no"},
            dir_ / "redis.log");
        ready_ = process_.wait_for_port(port_, std::chrono::seconds(20));
        if (!ready_) {
            ADD_FAILURE() << "redis-server did not start on port " << port_
                          << " (is it installed?):\n"
                          << process_.log();
        }
        return ready_;
    }

    // Kills it (SIGKILL, like a crash) and waits until the port refuses connections. Data is
    // lost: nothing is persisted.
    void stop() {
        process_.kill();
        ready_ = false;
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (port_accepts(port_) && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling interval
        }
    }

    // The server stops answering (the kernel still accepts connections) until thaw().
    void freeze() { process_.signal(SIGSTOP); }
    void thaw() { process_.signal(SIGCONT); }

    bool ready() const { return ready_; }
    int port() const { return port_; }
    std::string url(int db = 0) const {
        return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
    }
    std::string log() const { return process_.log(); }

  private:
    TempDir dir_;
    int port_;
    BackgroundProcess process_;
    bool ready_ = false;
};

}  // namespace facefuse::test
