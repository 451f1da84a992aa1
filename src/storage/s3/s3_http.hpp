#pragma once
// One signed HTTP exchange with an S3-compatible server, over libcurl. S3BlobStore builds the
// URL and interprets the status; this layer only moves bytes and signs.
//
// Signing is libcurl's CURLOPT_AWS_SIGV4 ("aws:amz:<region>:s3"). curl 7.88 signs every header
// we pass plus Host and the x-amz-date it adds, but it does not hash an uploaded body: it takes
// the payload hash from an x-amz-content-sha256 header when one is present (and hashes an empty
// string otherwise, which S3 would reject for a PUT). So perform() always adds that header with
// the hex SHA-256 of the body, computed here with OpenSSL. A session token (temporary
// credentials) goes in x-amz-security-token, which is then signed like any other header.
// tests/unit/storage/s3_sigv4_test.cpp checks this path against AWS's published examples.
//
// Thread-safe: an exchange uses an easy handle taken from a small pool (a handle keeps its
// connections alive between requests), never shared by two threads at once.
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace facefuse::storage::s3 {

struct HttpConfig {
    std::string region;
    std::string access_key;     // empty: requests are sent unsigned (anonymous)
    std::string secret_key;     // never logged, never put in a message
    std::string session_token;  // empty unless temporary credentials are used
    long timeout_ms = 30000;    // whole exchange, connect included
    long connect_timeout_ms = 5000;
    std::uint64_t max_response_bytes = 64ull << 20;
    // curl CONNECT_TO entries ("HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT"): send requests for
    // a host name to another address; lets tests use real S3 host names against a local server.
    std::vector<std::string> connect_to;
};

struct HttpRequest {
    std::string method;                // "GET", "PUT", "DELETE", "HEAD"
    std::string url;                   // already percent-encoded
    std::vector<std::string> headers;  // "Name: value"; all are signed
    std::span<const std::uint8_t> body;
};

struct HttpResponse {
    long status = 0;
    std::vector<std::uint8_t> body;
};

class HttpClient {
  public:
    explicit HttpClient(HttpConfig config);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Any HTTP status is a response. Errors: kUnavailable when the server could not be reached
    // or did not answer in time, kInternal for everything else (including a response body over
    // max_response_bytes).
    Result<HttpResponse> perform(const HttpRequest& request);

    const HttpConfig& config() const { return config_; }

  private:
    void* acquire();  // CURL*, kept opaque so that this header does not need curl.h
    void release(void* handle);

    HttpConfig config_;
    std::mutex mutex_;
    std::vector<void*> idle_;  // guarded by mutex_
};

}  // namespace facefuse::storage::s3
