#pragma once
// S3Server: s3rver (an S3-protocol server in Node.js, pinned in tests/peers/package.json) as the
// real S3 peer of the integration tests. Objects live in a temporary directory that survives
// stop()/restart(), so a test can take S3 away and bring it back on the same endpoint.
//
//   test::S3Server s3;                    // started; on failure the test has already failed
//   options.endpoint = s3.endpoint();     // "http://127.0.0.1:<port>", path-style URLs
//   options.bucket = test::S3Server::kBucket;
//   options.access_key = test::S3Server::kAccessKey; ...
//
// Note: s3rver checks that the access key exists but does not verify V4 signatures; signing is
// covered by tests/unit/storage/s3_sigv4_test.cpp against AWS's published examples.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/background_process.hpp"
#include "support/test_support.hpp"

namespace facefuse::test {

class S3Server {
  public:
    static constexpr const char* kBucket = "facefuse-test";
    // s3rver's built-in account.
    static constexpr const char* kAccessKey = "S3RVER";
    static constexpr const char* kSecretKey = "S3RVER";

    // tests/peers/node_modules/s3rver/bin/s3rver.js, installed by `npm ci` in tests/peers.
    static std::filesystem::path script() {
        return source_dir() / "tests" / "peers" / "node_modules" / "s3rver" / "bin" / "s3rver.js";
    }

    S3Server() { start(); }
    S3Server(const S3Server&) = delete;
    S3Server& operator=(const S3Server&) = delete;

    bool ok() const { return ok_; }
    int port() const { return port_; }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
    // The directory holding the buckets: <data_dir>/<bucket>/<key>._S3rver_object.
    std::filesystem::path data_dir() const { return data_ / "data"; }
    std::string log() const { return process_.log(); }

    // Kills the server (SIGKILL: like a crash, connections drop at once). Data is kept.
    void stop() {
        process_.kill();
        ok_ = false;
    }

    // SIGSTOP / SIGCONT: while frozen the kernel still accepts connections but nothing answers,
    // which is how a hung server looks to a client (timeouts, not "connection refused").
    void freeze() { process_.signal(SIGSTOP); }
    void thaw() { process_.signal(SIGCONT); }

    // Starts it again on the same port with the same data. Returns ok().
    bool restart() {
        stop();
        return launch(port_);
    }

  private:
    void start() {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(script(), ec)) {
            ADD_FAILURE() << "s3rver is not installed (" << script()
                          << " is missing). Run scripts/install-deps.sh, which runs `npm ci` in "
                             "tests/peers, or run `npm ci` there yourself.";
            return;
        }
        std::filesystem::create_directories(data_dir(), ec);
        // free_port() can race with another process taking the port: try a few.
        for (int attempt = 0; attempt < 3 && !ok_; ++attempt) launch(free_port());
        if (!ok_) {
            ADD_FAILURE() << "s3rver did not start (is `node` on PATH?); its log:\n" << log();
        }
    }

    bool launch(int port) {
        port_ = port;
        const std::vector<std::string> argv = {"node",
                                               script().string(),
                                               "--address",
                                               "127.0.0.1",
                                               "--port",
                                               std::to_string(port),
                                               "--directory",
                                               data_dir().string(),
                                               "--configure-bucket",
                                               kBucket};
        process_ =
            BackgroundProcess(argv, data_ / ("s3rver-" + std::to_string(++launches_) + ".log"));
        ok_ = process_.wait_for_port(port_);
        return ok_;
    }

    TempDir data_;
    BackgroundProcess process_;
    int port_ = 0;
    int launches_ = 0;
    bool ok_ = false;
};

}  // namespace facefuse::test
