#pragma once
// Who is calling: what a verified bearer token says about its holder. It is the only identity
// the HTTP layer trusts; the tenant scopes every task read and write, the role decides (rbac.hpp)
// what the caller may do.
#include <optional>
#include <string>
#include <string_view>

namespace facefuse::http::auth {

enum class Role { kUser, kVip, kAdmin };
inline constexpr int kRoleCount = 3;

// The claim value, as tokens and docs spell it: "user", "vip", "admin".
constexpr std::string_view role_name(Role role) {
    switch (role) {
        case Role::kUser: return "user";
        case Role::kVip: return "vip";
        case Role::kAdmin: return "admin";
    }
    return "unknown";
}

// Exact, case-sensitive: a token saying "Admin" is refused rather than guessed at.
constexpr std::optional<Role> parse_role(std::string_view name) {
    for (Role role : {Role::kUser, Role::kVip, Role::kAdmin})
        if (role_name(role) == name) return role;
    return std::nullopt;
}

struct Principal {
    std::string subject;  // the token's `sub`: who, for logs and audit
    std::string tenant;   // [A-Za-z0-9._-]{1,64}, never "." or "..": safe inside storage keys
    Role role = Role::kUser;
};

}  // namespace facefuse::http::auth
