#pragma once
// Access: the checks every API request passes before the service sees it, in one place --
// who is calling (JWT, or the local principal under --auth none), may they (RBAC), how often
// (per-tenant token buckets), and the audit record of each decision.
//
// The API calls these from precheck, before the body is read, so a request without a valid
// token, with a role that may not submit, or over its tenant's rate is refused for the cost of
// its headers: a 10x overload burst is answered from memory (or one Redis script), never by
// reading uploads.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "http/audit/audit_log.hpp"
#include "http/audit/client_ip.hpp"
#include "http/auth/jwt_verifier.hpp"
#include "http/auth/principal.hpp"
#include "http/auth/rbac.hpp"
#include "http/ratelimit/rate_limit.hpp"
#include "http/ratelimit/rate_limit_policy.hpp"
#include "http/server.hpp"

namespace facefuse::http {

struct AccessConfig {
    // Empty: --auth none, every caller is `anonymous` (local use only; the CLI refuses it on
    // a non-loopback address without --insecure).
    std::optional<auth::JwtVerifier> verifier;
    auth::Principal anonymous{"local", "local", auth::Role::kAdmin};
    ratelimit::RatePolicy policy;
    std::shared_ptr<ratelimit::RateLimiter> limiter;  // null: no rate limits
    std::shared_ptr<audit::AuditLog> audit;           // null: no audit stream
    audit::TrustedProxies trusted_proxies;
};

// A refusal with what the response needs beyond the error: Retry-After for a 429.
struct Denial {
    Error error;
    std::chrono::seconds retry_after{0};
};

class Access {
  public:
    explicit Access(AccessConfig config);

    bool auth_enabled() const { return config_.verifier.has_value(); }

    // The caller of a request: from its bearer token (kUnauthenticated when missing or
    // invalid), or `anonymous` when auth is off. Audits a refusal.
    Result<auth::Principal> authenticate(const RequestHeader& header, const RequestContext& context) const;

    // kForbidden (audited) when the caller's role may not do `action`.
    Status authorize(const RequestHeader& header, const RequestContext& context, auth::Action action,
                     std::string_view object) const;

    // One token from the caller's tenant bucket; a Denial (kRateLimited, audited) when empty.
    // A rate limiter that cannot be reached (Redis down) lets the request through: the submit
    // needs Redis anyway and fails with 503 on its own, and a limiter outage must not turn
    // into refusing every tenant.
    std::optional<Denial> admit(const RequestHeader& header, const RequestContext& context) const;

    // The audit record of a decision or an outcome (`error` null: "allowed").
    void record(const RequestHeader& header, const RequestContext& context, std::string_view action,
                std::string_view object, const Error* error) const;

    std::int64_t max_queued_for(const std::string& tenant) const { return config_.policy.max_queued_for(tenant); }

  private:
    std::string client_ip(const RequestHeader& header, const RequestContext& context) const;

    AccessConfig config_;
};

}  // namespace facefuse::http
