#pragma once
// Which rate limit and which queued-task quota apply to a request: per-role defaults, and
// per-tenant overrides read from a JSON file, so a big customer can get more and an abusive
// one less without a rebuild.
//
// The file (every section optional; unknown keys are errors so typos do not pass silently):
//
//   {
//     "defaults": {"user": "20:40", "vip": "100:200", "admin": "50:100"},
//     "tenants": {
//       "acme": {"user": "50:100", "vip": "200:400"},
//       "tiny": {"*": "1:2"},
//       "internal": {"*": "off"}
//     },
//     "max_queued_tasks": {"default": 1000, "acme": 5000, "batchco": 0}
//   }
//
// Limits use the --rate-limit syntax ("RPS:BURST", "off"). Role keys are "user", "vip",
// "admin" and "*" (every role of that tenant, or every default). Resolution for (tenant, role):
// the tenant's entry for the role, else the tenant's "*", else "defaults" for the role (a
// "defaults" in the file wins over the defaults the program passes, i.e. its flags), else the
// built-in default. A role name other than the three is limited like "user", the least
// privileged, so a new role is never unlimited by accident.
//
// max_queued_tasks: tasks a tenant may have queued at once (the caller answers 429
// quota_exceeded beyond it); "default" applies to tenants not listed (so no tenant can be
// called "default" here); 0 means no quota.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "http/ratelimit/rate_limit.hpp"

namespace facefuse::http::ratelimit {

struct RoleLimits {
    RateLimit user{20, 40};
    RateLimit vip{100, 200};
    RateLimit admin{50, 100};
};

inline constexpr std::int64_t kDefaultMaxQueuedTasks = 1000;

class RatePolicy {
  public:
    // Only defaults, no tenant overrides (what runs when no policy file is configured). The
    // default constructor is implicit so `Config{}` aggregates can hold a policy.
    RatePolicy() : RatePolicy(RoleLimits{}) {}
    explicit RatePolicy(RoleLimits defaults,
                        std::int64_t default_max_queued = kDefaultMaxQueuedTasks);

    // Never fails; O(log tenants).
    RateLimit limit_for(std::string_view tenant, std::string_view role) const;
    // 0: no quota.
    std::int64_t max_queued_for(std::string_view tenant) const;

    const RoleLimits& role_defaults() const { return defaults_; }

    // Tenant overrides, as the file states them.
    struct TenantLimits {
        std::optional<RateLimit> user, vip, admin, any;
    };

  private:
    friend Result<RatePolicy> parse_rate_policy(std::string_view, std::string_view, RoleLimits,
                                                std::int64_t);
    RoleLimits defaults_;
    std::int64_t default_max_queued_;
    std::map<std::string, TenantLimits, std::less<>> tenants_;
    std::map<std::string, std::int64_t, std::less<>> max_queued_;
};

// Reads and parses the policy file at `path` (at most 4 MiB). kUsage naming the file (and the
// tenant and key, where one is at fault) when it cannot be read or is not a valid policy.
Result<RatePolicy> load_rate_policy(const std::string& path, RoleLimits defaults = {},
                                    std::int64_t default_max_queued = kDefaultMaxQueuedTasks);

// The same from text; `source_name` names it in error messages.
Result<RatePolicy> parse_rate_policy(std::string_view json_text, std::string_view source_name,
                                     RoleLimits defaults = {},
                                     std::int64_t default_max_queued = kDefaultMaxQueuedTasks);

}  // namespace facefuse::http::ratelimit
