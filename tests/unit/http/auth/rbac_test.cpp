// The RBAC table: every cell as the issue states it, and docs/security.md printing the same table.
#include "http/auth/rbac.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace facefuse::http::auth {
namespace {

constexpr Role kRoles[] = {Role::kUser, Role::kVip, Role::kAdmin};

TEST(RbacTest, TableListsEveryActionOnceInOrder) {
    const auto table = rbac_table();
    ASSERT_EQ(table.size(), static_cast<std::size_t>(kActionCount));
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < table.size(); ++i) {
        EXPECT_EQ(static_cast<std::size_t>(table[i].action), i);
        EXPECT_TRUE(names.insert(table[i].name).second) << table[i].name;
        EXPECT_EQ(action_name(table[i].action), table[i].name);
        EXPECT_EQ(parse_action(table[i].name), table[i].action);
        EXPECT_FALSE(table[i].summary.empty());
    }
    EXPECT_EQ(parse_action("Submit"), std::nullopt);
    EXPECT_EQ(parse_action(""), std::nullopt);
}

// The issue's rules, written out independently of the table so a slip in either shows.
bool expected(Role role, Action action) {
    switch (action) {
        case Action::kSubmit:
        case Action::kSubmitBatch:
        case Action::kReadTask:
        case Action::kCancelTask:
        case Action::kReadResult:
        case Action::kListTasks:
        case Action::kReadCapabilities:
            return true;
        case Action::kSubmitVip:
            return role == Role::kVip || role == Role::kAdmin;
        case Action::kListAllTenants:
        case Action::kReadMetrics:
        case Action::kReloadModels:
            return role == Role::kAdmin;
    }
    return false;
}

TEST(RbacTest, EveryCellMatchesTheIssue) {
    for (const RbacRule& rule : rbac_table())
        for (Role role : kRoles) {
            EXPECT_EQ(allowed(role, rule.action), expected(role, rule.action))
                << role_name(role) << " " << rule.name;
            EXPECT_EQ(allowed(role, rule.action), rule.allowed[static_cast<std::size_t>(role)]);
        }
}

TEST(RbacTest, AdminMayDoEverythingAndVipAtLeastWhatUserMay) {
    for (const RbacRule& rule : rbac_table()) {
        EXPECT_TRUE(allowed(Role::kAdmin, rule.action)) << rule.name;
        if (allowed(Role::kUser, rule.action)) {
            EXPECT_TRUE(allowed(Role::kVip, rule.action)) << rule.name;
        }
    }
}

TEST(RbacTest, OutOfRangeValuesAreDenied) {
    EXPECT_FALSE(allowed(Role::kAdmin, static_cast<Action>(kActionCount)));
    EXPECT_FALSE(allowed(static_cast<Role>(kRoleCount), Action::kSubmit));
    EXPECT_EQ(action_name(static_cast<Action>(-1)), "unknown");
}

TEST(RbacTest, RoleNamesRoundTrip) {
    for (Role role : kRoles) EXPECT_EQ(parse_role(role_name(role)), role);
    EXPECT_EQ(parse_role("Admin"), std::nullopt);
    EXPECT_EQ(parse_role("admin "), std::nullopt);
    EXPECT_EQ(parse_role(""), std::nullopt);
}

std::vector<std::string> cells(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream in(line);
    std::string cell;
    std::getline(in, cell, '|');  // before the first '|'
    while (std::getline(in, cell, '|')) {
        const auto first = cell.find_first_not_of(' ');
        const auto last = cell.find_last_not_of(' ');
        out.push_back(first == std::string::npos ? std::string()
                                                 : cell.substr(first, last - first + 1));
    }
    if (!out.empty() && out.back().empty()) out.pop_back();  // after the last '|'
    return out;
}

TEST(RbacTest, DocsTableMatchesTheCode) {
    std::ifstream file(FACEFUSE_SOURCE_DIR "/docs/security.md");
    ASSERT_TRUE(file) << "docs/security.md is missing";
    std::map<std::string, std::vector<std::string>> rows;
    std::vector<std::string> header;
    bool in_table = false;
    std::string line;
    while (std::getline(file, line)) {
        if (!in_table) {
            const auto c = cells(line);
            if (line.starts_with("|") && !c.empty() && c[0] == "action") {
                header = c;
                in_table = true;
                ASSERT_TRUE(std::getline(file, line));  // the |---| separator
            }
            continue;
        }
        if (!line.starts_with("|")) break;
        const auto c = cells(line);
        ASSERT_GE(c.size(), 4u) << line;
        ASSERT_TRUE(c[0].size() > 2 && c[0].front() == '`' && c[0].back() == '`') << line;
        const std::string name = c[0].substr(1, c[0].size() - 2);
        EXPECT_TRUE(rows.emplace(name, c).second) << "twice in docs: " << name;
    }
    ASSERT_TRUE(in_table) << "docs/security.md has no table whose first column is `action`";
    ASSERT_GE(header.size(), 4u);
    for (Role role : kRoles) EXPECT_EQ(header[1 + static_cast<std::size_t>(role)], role_name(role));

    EXPECT_EQ(rows.size(), rbac_table().size()) << "docs and rbac.cpp list different actions";
    for (const RbacRule& rule : rbac_table()) {
        const auto row = rows.find(std::string(rule.name));
        ASSERT_NE(row, rows.end()) << "docs/security.md lacks action " << rule.name;
        for (Role role : kRoles) {
            const std::string& cell = row->second[1 + static_cast<std::size_t>(role)];
            EXPECT_TRUE(cell == "yes" || cell == "no") << rule.name << ": " << cell;
            EXPECT_EQ(cell == "yes", allowed(role, rule.action))
                << rule.name << " / " << role_name(role);
        }
        if (row->second.size() > 4) {
            EXPECT_EQ(row->second[4], rule.summary) << rule.name;
        }
    }
}

}  // namespace
}  // namespace facefuse::http::auth
