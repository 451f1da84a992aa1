// The task record's state machine and names (tasks/task.hpp).
#include "tasks/task.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

namespace facefuse::tasks {
namespace {

constexpr TaskState kAll[] = {TaskState::kQueued, TaskState::kRunning, TaskState::kSucceeded,
                              TaskState::kFailed, TaskState::kCancelled};

TEST(TaskStateMachine, AllowsExactlyTheDocumentedTransitions) {
    using S = TaskState;
    // Rows: from; columns: to (queued, running, succeeded, failed, cancelled).
    const bool table[5][5] = {
        /* queued    */ {false, true, false, true, true},
        /* running   */ {true, true, true, true, true},
        /* succeeded */ {false, false, false, false, false},
        /* failed    */ {false, false, false, false, false},
        /* cancelled */ {false, false, false, false, false},
    };
    for (int from = 0; from < 5; ++from)
        for (int to = 0; to < 5; ++to)
            EXPECT_EQ(can_transition(static_cast<S>(from), static_cast<S>(to)), table[from][to])
                << state_name(static_cast<S>(from)) << " -> " << state_name(static_cast<S>(to));
}

TEST(TaskStateMachine, TerminalStatesAreTheFinishedOnes) {
    EXPECT_FALSE(is_terminal(TaskState::kQueued));
    EXPECT_FALSE(is_terminal(TaskState::kRunning));
    EXPECT_TRUE(is_terminal(TaskState::kSucceeded));
    EXPECT_TRUE(is_terminal(TaskState::kFailed));
    EXPECT_TRUE(is_terminal(TaskState::kCancelled));
}

TEST(TaskNames, StatesRoundTrip) {
    for (TaskState state : kAll) EXPECT_EQ(parse_state(state_name(state)), state);
    EXPECT_EQ(state_name(TaskState::kQueued), "queued");
    EXPECT_EQ(state_name(TaskState::kCancelled), "cancelled");
    EXPECT_FALSE(parse_state("done").has_value());
    EXPECT_FALSE(parse_state("").has_value());
}

TEST(TaskNames, PrioritiesRoundTrip) {
    for (Priority p : {Priority::kVip, Priority::kNormal, Priority::kBatch})
        EXPECT_EQ(parse_priority(priority_name(p)), p);
    EXPECT_EQ(priority_name(Priority::kBatch), "batch");
    EXPECT_FALSE(parse_priority("urgent").has_value());
}

TEST(TaskId, Is32LowercaseHexAndUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = new_task_id();
        ASSERT_EQ(id.size(), 32u);
        for (char c : id) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
        EXPECT_TRUE(seen.insert(id).second) << "duplicate id " << id;
    }
}

TEST(TaskId, SortsByCreationTimeAndKeepsEightyRandomBits) {
    const std::string first = new_task_id();
    const auto later = std::chrono::steady_clock::now() + std::chrono::milliseconds(3);
    while (std::chrono::steady_clock::now() < later) {
    }  // a few ms pass (busy: the test is about the clock, not about waiting for something)
    const std::string second = new_task_id();
    EXPECT_LT(first.substr(0, 12), second.substr(0, 12)) << first << " then " << second;
    const auto ms = std::stoll(first.substr(0, 12), nullptr, 16);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    EXPECT_LE(now - ms, 60'000) << "the prefix is the creation time in ms";
    std::set<std::string> tails;
    for (int i = 0; i < 100; ++i) tails.insert(new_task_id().substr(12));
    EXPECT_EQ(tails.size(), 100u) << "the random part differs within one millisecond";
}

}  // namespace
}  // namespace facefuse::tasks
