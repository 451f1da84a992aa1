#pragma once
// Role-based access control: which role may do what. One table (rbac.cpp) is the only source
// of truth; routes ask allowed(), tests walk every cell, and docs/security.md prints the same
// table (a unit test fails when the two drift apart).
#include <array>
#include <optional>
#include <span>
#include <string_view>

#include "http/auth/principal.hpp"

namespace facefuse::http::auth {

// What a request does, not which URL it hits: one route may need several (a submit on the vip
// lane needs kSubmitVip). Tenant scoping is separate: every task action below acts on the
// caller's own tenant only, except kListAllTenants.
enum class Action {
    kSubmit,            // POST /v1/swaps on the normal lane
    kSubmitVip,         // ... on the vip lane
    kSubmitBatch,       // ... on the batch lane
    kReadTask,          // GET /v1/tasks/{id}, /v1/tasks/{id}/events
    kCancelTask,        // DELETE /v1/tasks/{id}
    kReadResult,        // GET /v1/tasks/{id}/result
    kListTasks,         // GET /v1/tasks (own tenant)
    kListAllTenants,    // GET /v1/tasks across every tenant
    kReadCapabilities,  // GET /v1/capabilities
    kReadMetrics,       // GET /metrics
    kReloadModels,      // reload the model files without a restart
};
inline constexpr int kActionCount = 11;

struct RbacRule {
    Action action;
    std::string_view name;                 // snake_case, as in docs/security.md: "submit_vip"
    std::array<bool, kRoleCount> allowed;  // indexed by Role: user, vip, admin
    std::string_view summary;              // one line for the docs
};

// Every action once, in enum order.
std::span<const RbacRule> rbac_table();

bool allowed(Role role, Action action);
std::string_view action_name(Action action);
std::optional<Action> parse_action(std::string_view name);

}  // namespace facefuse::http::auth
