#pragma once
// `facefuse serve` started by a test on a loopback port, with its own data directory (kept across
// restarts when the test passes the same one), ready once /readyz says so.
//
// serve listens on port 0 and the test reads the port the kernel gave it from serve's start-up
// log line. A port chosen beforehand (free_port()) can be taken by anything else on the machine
// in the seconds serve spends loading its models, and tests start serves from several threads
// and ctest runs two test processes at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/background_process.hpp"
#include "support/http_client.hpp"
#include "support/test_support.hpp"

namespace facefuse::test {

class ServeProcess {
  public:
    ServeProcess(const std::filesystem::path& data_dir, std::vector<std::string> extra_args = {})
        : data_dir_(data_dir), extra_(std::move(extra_args)) {
        start();
    }

    void start() {
        port_ = 0;
        std::vector<std::string> argv = {
            facefuse_binary().string(), "serve", "--listen", "127.0.0.1:0", "--data-dir",
            data_dir_.string()};
        // Tests of the API's behaviour run without tokens (on loopback, as a developer would);
        // tests of authentication pass their own --auth.
        if (std::find(extra_.begin(), extra_.end(), "--auth") == extra_.end())
            argv.insert(argv.end(), {"--auth", "none"});
        argv.insert(argv.end(), extra_.begin(), extra_.end());
        static std::atomic<int> started{0};
        process_ = BackgroundProcess(
            argv, data_dir_.parent_path() / ("serve-" + std::to_string(::getpid()) + "-" +
                                             std::to_string(++started) + ".log"));
        ASSERT_TRUE(wait_ready()) << "facefuse serve did not become ready:\n" << process_.log();
    }

    // Waits for serve's "serve_started" log line (which names the port), then polls /readyz
    // until 200 (model load takes ~0.5 s, several under ASan).
    bool wait_ready(std::chrono::seconds deadline = std::chrono::seconds(120)) {
        const auto until = std::chrono::steady_clock::now() + deadline;
        while (port_ == 0) {
            port_ = port_from_log(process_.log());
            if (port_ != 0) break;
            if (!process_.running() || std::chrono::steady_clock::now() >= until) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling interval
        }
        while (std::chrono::steady_clock::now() < until) {
            if (http_get(url("/readyz"), {}, 5).status == 200) return true;
            if (!process_.running()) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    // SIGTERM and wait; returns the exit code (-1 if it did not exit in time).
    int terminate(std::chrono::seconds deadline = std::chrono::seconds(60)) {
        process_.signal(SIGTERM);
        const int status = process_.wait_exit(deadline);
        return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    void kill9() { process_.kill(); }

    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    int port() const { return port_; }
    std::string log() const { return process_.log(); }
    BackgroundProcess& process() { return process_; }

  private:
    // The port of the log's "serve_started" line, or 0 while there is none.
    static int port_from_log(const std::string& log) {
        std::istringstream lines(log);
        for (std::string line; std::getline(lines, line);) {
            if (line.find("\"serve_started\"") == std::string::npos) continue;
            const auto entry = nlohmann::json::parse(line, nullptr, false);
            if (!entry.is_discarded() && entry.value("event", "") == "serve_started")
                return entry.value("port", 0);
        }
        return 0;
    }

    std::filesystem::path data_dir_;
    std::vector<std::string> extra_;
    int port_ = 0;
    BackgroundProcess process_;
};

}  // namespace facefuse::test
