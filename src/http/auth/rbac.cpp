// The RBAC table. Deny is the default a new row must argue against: add the action, then decide
// per role. docs/security.md repeats this table and rbac_test.cpp keeps the two equal.
#include "http/auth/rbac.hpp"

#include <cstddef>

namespace facefuse::http::auth {
namespace {

//                                                               user   vip    admin
constexpr std::array<RbacRule, kActionCount> kTable{{
    {Action::kSubmit, "submit", {true, true, true}, "submit a task on the normal lane"},
    {Action::kSubmitVip, "submit_vip", {false, true, true}, "submit a task on the vip lane"},
    {Action::kSubmitBatch, "submit_batch", {true, true, true}, "submit a task on the batch lane"},
    {Action::kReadTask, "read_task", {true, true, true}, "read a task of the own tenant (status, events)"},
    {Action::kCancelTask, "cancel_task", {true, true, true}, "cancel a task of the own tenant"},
    {Action::kReadResult, "read_result", {true, true, true}, "download the result of a task of the own tenant"},
    {Action::kListTasks, "list_tasks", {true, true, true}, "list the own tenant's tasks"},
    {Action::kListAllTenants, "list_all_tenants", {false, false, true}, "list every tenant's tasks"},
    {Action::kReadCapabilities, "read_capabilities", {true, true, true}, "read processors, options and limits"},
    {Action::kReadMetrics, "read_metrics", {false, false, true}, "read the Prometheus metrics"},
    {Action::kReloadModels, "reload_models", {false, false, true}, "reload the model files"},
}};

constexpr bool rows_in_enum_order() {
    for (std::size_t i = 0; i < kTable.size(); ++i)
        if (static_cast<std::size_t>(kTable[i].action) != i) return false;
    return true;
}
static_assert(rows_in_enum_order(), "kTable must list every Action once, in enum order");
static_assert(static_cast<int>(Action::kReloadModels) + 1 == kActionCount, "kActionCount is stale");
static_assert(static_cast<int>(Role::kAdmin) + 1 == kRoleCount, "kRoleCount is stale");

}  // namespace

std::span<const RbacRule> rbac_table() { return kTable; }

bool allowed(Role role, Action action) {
    const auto a = static_cast<std::size_t>(action);
    const auto r = static_cast<std::size_t>(role);
    if (a >= kTable.size() || r >= kRoleCount) return false;  // a cast-in value: deny
    return kTable[a].allowed[r];
}

std::string_view action_name(Action action) {
    const auto a = static_cast<std::size_t>(action);
    return a < kTable.size() ? kTable[a].name : std::string_view("unknown");
}

std::optional<Action> parse_action(std::string_view name) {
    for (const RbacRule& rule : kTable)
        if (rule.name == name) return rule.action;
    return std::nullopt;
}

}  // namespace facefuse::http::auth
