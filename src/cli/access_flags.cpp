#include "cli/access_flags.hpp"

#include <cstdlib>
#include <iostream>

#include "cli/duration.hpp"
#include "http/auth/secret_file.hpp"
#include "obs/log.hpp"

namespace facefuse::cli {

void AccessFlags::add_to(CLI::App& c) {
    c.add_option("--auth", auth,
                 "jwt: every /v1 request needs a bearer token; none: no authentication (loopback only, "
                 "unless --insecure)")
        ->check(CLI::IsMember({"jwt", "none"}))
        ->envname("FACEFUSE_AUTH")
        ->capture_default_str();
    c.add_option("--jwt-secret-file", jwt_secret_file,
                 "HS256 shared secret, read from this file (>= 32 bytes); or set FACEFUSE_JWT_SECRET")
        ->envname("FACEFUSE_JWT_SECRET_FILE");
    c.add_option("--jwt-public-key-file", jwt_public_key_file, "RS256: the issuer's RSA public key (PEM)")
        ->envname("FACEFUSE_JWT_PUBLIC_KEY_FILE");
    c.add_option("--jwt-issuer", jwt_issuer, "required `iss` claim (empty: not checked)")->envname("FACEFUSE_JWT_ISSUER");
    c.add_option("--jwt-audience", jwt_audience, "required `aud` claim (empty: not checked)")
        ->envname("FACEFUSE_JWT_AUDIENCE");
    c.add_option("--jwt-leeway", jwt_leeway, "clock skew allowed on exp and nbf (at most 5m)")
        ->check(duration_validator())
        ->envname("FACEFUSE_JWT_LEEWAY")
        ->capture_default_str();
    c.add_flag("--insecure", insecure, "allow --auth none on an address that is not loopback (never in production)")
        ->envname("FACEFUSE_INSECURE");
    c.add_option("--rate-limit", rate_limit, "submits per second:burst per tenant for role user (off: none)")
        ->envname("FACEFUSE_RATE_LIMIT")
        ->capture_default_str();
    c.add_option("--rate-limit-vip", rate_limit_vip, "the same for role vip")
        ->envname("FACEFUSE_RATE_LIMIT_VIP")
        ->capture_default_str();
    c.add_option("--rate-limit-admin", rate_limit_admin, "the same for role admin")
        ->envname("FACEFUSE_RATE_LIMIT_ADMIN")
        ->capture_default_str();
    c.add_option("--tenant-queue-quota", tenant_queue_quota,
                 "tasks one tenant may have queued at once before its submits get 429 quota_exceeded (0: none)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{100'000'000}))
        ->envname("FACEFUSE_TENANT_QUEUE_QUOTA")
        ->capture_default_str();
    c.add_option("--rate-limits-file", rate_limits_file, "JSON file of per-tenant overrides (docs/security.md)")
        ->envname("FACEFUSE_RATE_LIMITS_FILE");
    c.add_option("--audit-log", audit_log, "audit stream of JSON lines: a file, or - for stdout (default: none)")
        ->envname("FACEFUSE_AUDIT_LOG");
    c.add_option("--trusted-proxy", trusted_proxies,
                 "address or CIDR of a proxy whose X-Forwarded-For is believed (repeatable)")
        ->envname("FACEFUSE_TRUSTED_PROXY")
        ->delimiter(',');
    c.add_option("--metrics-listen", metrics_listen,
                 "HOST:PORT serving /metrics, /healthz, /readyz without a token (default: /metrics on "
                 "--listen, for admin tokens)")
        ->envname("FACEFUSE_METRICS_LISTEN");
}

bool is_loopback_host(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

Result<std::shared_ptr<const http::Access>> AccessFlags::build(
    const std::string& listen_host, std::shared_ptr<http::ratelimit::RateLimiter> limiter) const {
    http::AccessConfig config;
    if (auth == "none") {
        if (!is_loopback_host(listen_host)) {
            if (!insecure)
                return make_error(ErrorCode::kUsage,
                                  "--auth none on " + listen_host +
                                      " would let anyone on the network in: bind 127.0.0.1, or configure "
                                      "--jwt-secret-file / --jwt-public-key-file, or add --insecure if you "
                                      "really mean it");
            std::cerr << "facefuse: WARNING: --auth none on " << listen_host
                      << " (--insecure): anyone who can reach this address can submit and read tasks\n";
            obs::log_warn("auth_disabled_on_network", {{"listen", listen_host}});
        }
    } else {
        http::auth::JwtConfig jwt;
        const char* env_secret = std::getenv("FACEFUSE_JWT_SECRET");
        const int sources = !jwt_secret_file.empty() + !jwt_public_key_file.empty() +
                            (env_secret != nullptr && *env_secret != '\0');
        if (sources == 0)
            return make_error(ErrorCode::kUsage,
                              "--auth jwt needs a key: --jwt-secret-file FILE (HS256), FACEFUSE_JWT_SECRET "
                              "(HS256) or --jwt-public-key-file FILE (RS256); for local use only, --auth none");
        if (sources > 1)
            return make_error(ErrorCode::kUsage,
                              "give one JWT key: --jwt-secret-file, FACEFUSE_JWT_SECRET or --jwt-public-key-file");
        if (!jwt_public_key_file.empty()) {
            auto key = http::auth::read_secret_file(jwt_public_key_file, "--jwt-public-key-file");
            if (!key) return key.error();
            jwt.algorithm = http::auth::JwtConfig::Algorithm::kRS256;
            jwt.key = std::move(key.value());
        } else if (!jwt_secret_file.empty()) {
            auto key = http::auth::read_secret_file(jwt_secret_file, "--jwt-secret-file");
            if (!key) return key.error();
            jwt.key = std::move(key.value());
        } else {
            jwt.key = env_secret;
        }
        jwt.issuer = jwt_issuer;
        jwt.audience = jwt_audience;
        jwt.leeway = std::chrono::duration_cast<std::chrono::seconds>(*parse_duration(jwt_leeway));
        auto verifier = http::auth::JwtVerifier::create(std::move(jwt));
        if (!verifier) return verifier.error();
        config.verifier.emplace(std::move(verifier.value()));
    }

    http::ratelimit::RoleLimits roles;
    for (auto [text, flag, slot] : {std::tuple{&rate_limit, "--rate-limit", &roles.user},
                                    std::tuple{&rate_limit_vip, "--rate-limit-vip", &roles.vip},
                                    std::tuple{&rate_limit_admin, "--rate-limit-admin", &roles.admin}}) {
        auto parsed = http::ratelimit::parse_rate_limit(*text);
        if (!parsed) return make_error(ErrorCode::kUsage, std::string(flag) + ": " + parsed.error().message);
        *slot = *parsed;
    }
    if (!rate_limits_file.empty()) {
        auto policy = http::ratelimit::load_rate_policy(rate_limits_file, roles, tenant_queue_quota);
        if (!policy) return policy.error();
        config.policy = std::move(policy.value());
    } else {
        config.policy = http::ratelimit::RatePolicy(roles, tenant_queue_quota);
    }
    // --auth none is one trusted local caller (tenant `local`): per-tenant limits and quotas
    // would only throttle the developer; --queue-max still bounds the queue.
    if (auth == "none") {
        config.policy = http::ratelimit::RatePolicy(roles, 0);
    } else {
        config.limiter = std::move(limiter);
    }

    auto proxies = http::audit::TrustedProxies::parse(trusted_proxies);
    if (!proxies) return make_error(ErrorCode::kUsage, "--trusted-proxy: " + proxies.error().message);
    config.trusted_proxies = std::move(proxies.value());
    if (!audit_log.empty()) {
        auto log = http::audit::AuditLog::open(audit_log);
        if (!log) return log.error();
        config.audit = std::shared_ptr<http::audit::AuditLog>(std::move(log.value()));
    }
    return std::shared_ptr<const http::Access>(std::make_shared<const http::Access>(std::move(config)));
}

}  // namespace facefuse::cli
