#include "http/access.hpp"

#include <cmath>

#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace facefuse::http {
namespace {

obs::Family<obs::Counter>& denials() {
    static auto& family = obs::Registry::global().counter(
        "facefuse_http_denied_total", "Requests refused before the service saw them, by reason", {"reason"});
    return family;
}

}  // namespace

Access::Access(AccessConfig config) : config_(std::move(config)) {}

std::string Access::client_ip(const RequestHeader& header, const RequestContext& context) const {
    // Proxies append to the last X-Forwarded-For; several headers are one list (RFC 9110 5.3).
    std::string forwarded;
    const auto [first, last] = header.equal_range("X-Forwarded-For");
    for (auto it = first; it != last; ++it) {
        if (!forwarded.empty()) forwarded += ", ";
        forwarded.append(it->value().data(), it->value().size());
    }
    return audit::client_ip(context.peer_ip, forwarded, config_.trusted_proxies);
}

void Access::record(const RequestHeader& header, const RequestContext& context, std::string_view action,
                    std::string_view object, const Error* error) const {
    if (!config_.audit || !config_.audit->enabled()) return;
    audit::AuditRecord r;
    r.request_id = context.request_id;
    r.client_ip = client_ip(header, context);
    if (context.principal) {
        r.tenant = context.principal->tenant;
        r.subject = context.principal->subject;
        r.role = std::string(auth::role_name(context.principal->role));
    }
    r.action = std::string(action);
    r.object = std::string(object);
    if (error == nullptr) {
        r.outcome = "allowed";
    } else {
        const bool denied = error->code == ErrorCode::kUnauthenticated || error->code == ErrorCode::kForbidden ||
                            error->code == ErrorCode::kRateLimited || error->code == ErrorCode::kQuotaExceeded;
        r.outcome = denied ? "denied" : "failed";
        r.reason = std::string(error->code_name());
    }
    config_.audit->write(r);
}

Result<auth::Principal> Access::authenticate(const RequestHeader& header, const RequestContext& context) const {
    if (!config_.verifier) return config_.anonymous;
    auto principal = [&]() -> Result<auth::Principal> {
        auto token = auth::bearer_token(header[boost::beast::http::field::authorization]);
        if (!token) return token.error();
        return config_.verifier->verify(*token);
    }();
    if (!principal) {
        denials().labels({"unauthenticated"}).inc();
        record(header, context, "authenticate", "", &principal.error());
    }
    return principal;
}

Status Access::authorize(const RequestHeader& header, const RequestContext& context, auth::Action action,
                         std::string_view object) const {
    const auth::Role role = context.principal ? context.principal->role : auth::Role::kUser;
    if (auth::allowed(role, action)) return Status::Ok();
    Error error = make_error(ErrorCode::kForbidden, "role '" + std::string(auth::role_name(role)) + "' may not " +
                                                        std::string(auth::action_name(action)) +
                                                        "; ask an administrator for a token with the right role");
    denials().labels({"forbidden"}).inc();
    record(header, context, auth::action_name(action), object, &error);
    return error;
}

std::optional<Denial> Access::admit(const RequestHeader& header, const RequestContext& context) const {
    if (!config_.limiter || !context.principal) return std::nullopt;
    const auth::Principal& who = *context.principal;
    const ratelimit::RateLimit limit = config_.policy.limit_for(who.tenant, auth::role_name(who.role));
    if (!limit.enabled()) return std::nullopt;
    // One bucket per tenant and role: a tenant's vip traffic does not eat its users' budget.
    auto decision = config_.limiter->take(who.tenant + ":" + std::string(auth::role_name(who.role)), limit);
    if (!decision) {
        obs::log_warn("rate_limiter_unavailable", {{"error", decision.error().message}});
        return std::nullopt;
    }
    if (decision->allowed) return std::nullopt;
    const auto seconds = std::max<std::int64_t>(1, (decision->retry_after.count() + 999) / 1000);
    Denial denial{make_error(ErrorCode::kRateLimited,
                             "tenant '" + who.tenant + "' is over its rate limit of " +
                                 ratelimit::format_rate_limit(limit) + " (requests per second:burst); retry after " +
                                 std::to_string(seconds) + " s"),
                  std::chrono::seconds(seconds)};
    denials().labels({"rate_limited"}).inc();
    record(header, context, "task.submit", "", &denial.error);
    return denial;
}

}  // namespace facefuse::http
