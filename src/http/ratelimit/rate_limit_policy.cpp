#include "http/ratelimit/rate_limit_policy.hpp"

#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

namespace facefuse::http::ratelimit {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxFileBytes = 4 << 20;  // a policy, not a data set
constexpr std::size_t kMaxTenantBytes = 256;

class PolicyError {
  public:
    explicit PolicyError(std::string_view source) : source_(source) {}
    Error operator()(const std::string& what) const {
        return make_error(ErrorCode::kUsage, "Rate policy " + source_ + ": " + what);
    }

  private:
    std::string source_;
};

// The slot of `limits` that role key `key` names, or nullptr for an unknown key.
std::optional<RateLimit>* tenant_slot(RatePolicy::TenantLimits& limits, std::string_view key) {
    if (key == "user") return &limits.user;
    if (key == "vip") return &limits.vip;
    if (key == "admin") return &limits.admin;
    if (key == "*") return &limits.any;
    return nullptr;
}

Result<RateLimit> limit_value(const json& value, const std::string& where,
                              const PolicyError& fail) {
    if (!value.is_string()) {
        return fail(where + " must be a string like \"20:40\" or \"off\", not " +
                    std::string(value.type_name()) + ".");
    }
    auto limit = parse_rate_limit(value.get<std::string>());
    if (!limit.ok()) return fail(where + ": " + limit.error().message);
    return limit;
}

Result<RatePolicy::TenantLimits> role_map(const json& object, const std::string& where,
                                          const PolicyError& fail) {
    if (!object.is_object()) {
        return fail(where +
                    " must be an object of role keys (\"user\", \"vip\", \"admin\", "
                    "\"*\").");
    }
    RatePolicy::TenantLimits limits;
    for (const auto& [key, value] : object.items()) {
        std::optional<RateLimit>* slot = tenant_slot(limits, key);
        const std::string at = where + " key \"" + key.substr(0, 64) + "\"";
        if (slot == nullptr) {
            return fail("unknown role key at " + at +
                        "; the role keys are \"user\", \"vip\", \"admin\" and \"*\".");
        }
        auto limit = limit_value(value, at, fail);
        if (!limit.ok()) return limit.error();
        *slot = *limit;
    }
    return limits;
}

Result<std::int64_t> quota_value(const json& value, const std::string& where,
                                 const PolicyError& fail) {
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0) {
        return fail(where + " must be a whole number >= 0 (0: no quota).");
    }
    return value.get<std::int64_t>();
}

}  // namespace

RatePolicy::RatePolicy(RoleLimits defaults, std::int64_t default_max_queued)
    : defaults_(defaults), default_max_queued_(default_max_queued) {}

RateLimit RatePolicy::limit_for(std::string_view tenant, std::string_view role) const {
    // Any other role name is treated as "user".
    const bool vip = role == "vip";
    const bool admin = role == "admin";
    if (auto it = tenants_.find(tenant); it != tenants_.end()) {
        const TenantLimits& t = it->second;
        const std::optional<RateLimit>& own = vip ? t.vip : admin ? t.admin : t.user;
        if (own) return *own;
        if (t.any) return *t.any;
    }
    return vip ? defaults_.vip : admin ? defaults_.admin : defaults_.user;
}

std::int64_t RatePolicy::max_queued_for(std::string_view tenant) const {
    if (auto it = max_queued_.find(tenant); it != max_queued_.end()) return it->second;
    return default_max_queued_;
}

Result<RatePolicy> parse_rate_policy(std::string_view json_text, std::string_view source_name,
                                     RoleLimits defaults, std::int64_t default_max_queued) {
    const PolicyError fail(source_name);
    try {
        const json doc = json::parse(json_text);
        if (!doc.is_object()) return fail("the top level must be a JSON object.");
        RatePolicy policy(defaults, default_max_queued);
        for (const auto& [section, body] : doc.items()) {
            if (section == "defaults") {
                auto limits = role_map(body, "\"defaults\"", fail);
                if (!limits.ok()) return limits.error();
                RoleLimits& d = policy.defaults_;
                if (limits->any) d.user = d.vip = d.admin = *limits->any;
                if (limits->user) d.user = *limits->user;
                if (limits->vip) d.vip = *limits->vip;
                if (limits->admin) d.admin = *limits->admin;
            } else if (section == "tenants") {
                if (!body.is_object()) return fail("\"tenants\" must be an object.");
                for (const auto& [tenant, roles] : body.items()) {
                    if (tenant.empty() || tenant.size() > kMaxTenantBytes) {
                        return fail("a tenant name in \"tenants\" is empty or too long.");
                    }
                    auto limits = role_map(roles, "tenant \"" + tenant + "\"", fail);
                    if (!limits.ok()) return limits.error();
                    policy.tenants_.insert_or_assign(tenant, *limits);
                }
            } else if (section == "max_queued_tasks") {
                if (!body.is_object()) {
                    return fail(
                        "\"max_queued_tasks\" must be an object like "
                        "{\"default\": 1000, \"acme\": 5000}.");
                }
                for (const auto& [tenant, value] : body.items()) {
                    if (tenant.empty() || tenant.size() > kMaxTenantBytes) {
                        return fail("a tenant name in \"max_queued_tasks\" is empty or too long.");
                    }
                    auto quota =
                        quota_value(value, "\"max_queued_tasks\" \"" + tenant + "\"", fail);
                    if (!quota.ok()) return quota.error();
                    if (tenant == "default") {
                        policy.default_max_queued_ = *quota;
                    } else {
                        policy.max_queued_.insert_or_assign(tenant, *quota);
                    }
                }
            } else {
                return fail("unknown key \"" + section.substr(0, 64) +
                            "\"; the keys are \"defaults\", \"tenants\" and "
                            "\"max_queued_tasks\".");
            }
        }
        return policy;
    } catch (const json::exception& e) {
        return fail(std::string("not valid JSON (") + e.what() + ").");
    } catch (const std::exception& e) {
        return fail(std::string("cannot be parsed: ") + e.what());
    }
}

Result<RatePolicy> load_rate_policy(const std::string& path, RoleLimits defaults,
                                    std::int64_t default_max_queued) {
    const PolicyError fail("file '" + path + "'");
    try {
        std::ifstream in(path, std::ios::binary);
        if (!in) return fail(std::string("cannot be opened: ") + std::strerror(errno) + ".");
        std::string text(kMaxFileBytes + 1, '\0');
        in.read(text.data(), static_cast<std::streamsize>(text.size()));
        if (in.bad()) return fail("cannot be read.");
        text.resize(static_cast<std::size_t>(in.gcount()));
        if (text.size() > kMaxFileBytes) return fail("is over 4 MiB.");
        return parse_rate_policy(text, "file '" + path + "'", defaults, default_max_queued);
    } catch (const std::exception& e) {
        return fail(std::string("cannot be read: ") + e.what());
    }
}

}  // namespace facefuse::http::ratelimit
