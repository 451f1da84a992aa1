#pragma once
// The flags of authentication, rate limits and audit that `serve` and `gateway` share, and
// how they become an http::Access.
//
// Secure by default: --auth jwt. Secrets are read from files (or FACEFUSE_JWT_SECRET), never
// taken on the command line, where `ps` and shell history would show them. --auth none is for
// local use: on an address that is not loopback it is refused unless --insecure says so.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "http/access.hpp"
#include "http/ratelimit/rate_limit.hpp"

namespace facefuse::cli {

struct AccessFlags {
    std::string auth = "jwt";
    std::string jwt_secret_file;
    std::string jwt_public_key_file;
    std::string jwt_issuer;
    std::string jwt_audience;
    std::string jwt_leeway = "60s";
    bool insecure = false;
    std::string rate_limit = "20:40";        // role user, per tenant
    std::string rate_limit_vip = "100:200";
    std::string rate_limit_admin = "50:100";
    std::string rate_limits_file;            // per-tenant overrides
    std::int64_t tenant_queue_quota = 10000; // queued tasks per tenant (0: none)
    std::string audit_log;                   // "" off, "-" stdout, else a file
    std::vector<std::string> trusted_proxies;
    std::string metrics_listen;              // "" : /metrics on --listen (admin token when auth is on)

    void add_to(CLI::App& command);

    // `listen_host` is the --listen host (for the loopback rule). `limiter`: the shape's rate
    // limiter (memory for serve, Redis for gateways). kUsage for a bad combination, with what
    // to do; kFileNotFound/kUsage for unreadable or unusable key files.
    Result<std::shared_ptr<const http::Access>> build(const std::string& listen_host,
                                                      std::shared_ptr<http::ratelimit::RateLimiter> limiter) const;
};

// Whether `host` (a --listen host) only accepts connections from this machine.
bool is_loopback_host(const std::string& host);

}  // namespace facefuse::cli
