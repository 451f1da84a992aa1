#pragma once
// facefuse loadgen's HTTP side: the loopback-only URL check and a keep-alive libcurl handle.
//
// Load tests must only ever hit this machine, so the base URL is checked here, before any
// request, and every handle is told to ignore proxy settings (an http_proxy in the
// environment would otherwise carry "loopback" requests off the machine).
#include <curl/curl.h>

#include <string>

#include "common/result.hpp"

namespace facefuse::cli::loadgen {

// "http://HOST[:PORT][/]" -> "http://HOST:PORT" when HOST is 127.0.0.0/8 (dotted quad),
// localhost or [::1]. kUsage naming --url otherwise (other hosts, https, paths, queries).
Result<std::string> loopback_base_url(const std::string& url);

// Must run once before any thread creates a Connection (curl_global_init is not thread-safe).
void init_curl();

struct Reply {
    long status = 0;    // HTTP status; 0 when no response came (see error)
    std::string body;   // the response body
    std::string error;  // curl's message when the transfer failed
    double ms = 0;      // wall time of the whole request
};

// One libcurl easy handle, reused for every request so the connection is kept alive.
// Not thread-safe: one per thread.
class Connection {
  public:
    // `bearer_token`: sent as `Authorization: Bearer ...` on every request when not empty.
    Connection(std::string base_url, long timeout_ms, const std::string& bearer_token = {});
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Builds the multipart form once; every submit() sends it again. `source` may be empty
    // (noop sends no source part).
    void set_form(const std::string& source, const std::string& target, const std::string& options);
    Reply submit();                      // POST /v1/swaps with the form
    Reply get(const std::string& path);  // GET base + path

  private:
    Reply perform();

    CURL* curl_;
    curl_mime* form_ = nullptr;
    curl_slist* headers_ = nullptr;
    std::string base_;
    std::string body_;
};

}  // namespace facefuse::cli::loadgen
