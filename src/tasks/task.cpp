#include "tasks/task.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace facefuse::tasks {
namespace {
constexpr std::array<std::string_view, 5> kStateNames = {"queued", "running", "succeeded", "failed",
                                                         "cancelled"};
constexpr std::array<std::string_view, 3> kPriorityNames = {"vip", "normal", "batch"};
}  // namespace

std::string_view state_name(TaskState state) { return kStateNames[static_cast<size_t>(state)]; }

std::optional<TaskState> parse_state(std::string_view name) {
    for (size_t i = 0; i < kStateNames.size(); ++i)
        if (kStateNames[i] == name) return static_cast<TaskState>(i);
    return std::nullopt;
}

std::string_view priority_name(Priority priority) {
    return kPriorityNames[static_cast<size_t>(priority)];
}

std::optional<Priority> parse_priority(std::string_view name) {
    for (size_t i = 0; i < kPriorityNames.size(); ++i)
        if (kPriorityNames[i] == name) return static_cast<Priority>(i);
    return std::nullopt;
}

bool is_terminal(TaskState state) {
    return state == TaskState::kSucceeded || state == TaskState::kFailed ||
           state == TaskState::kCancelled;
}

bool can_transition(TaskState from, TaskState to) {
    using S = TaskState;
    switch (from) {
        case S::kQueued: return to == S::kRunning || to == S::kCancelled || to == S::kFailed;
        case S::kRunning:
            // running -> running: re-delivery after a lost lease starts a new attempt.
            return to == S::kQueued || to == S::kRunning || to == S::kSucceeded ||
                   to == S::kFailed || to == S::kCancelled;
        default: return false;  // terminal
    }
}

std::string new_task_id() {
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        // The OS CSPRNG failing is not something to paper over with a weaker id.
        throw std::runtime_error("RAND_bytes failed: no secure randomness for task ids");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id;
    id.reserve(32);
    for (unsigned char b : bytes) {
        id.push_back(kHex[b >> 4]);
        id.push_back(kHex[b & 15]);
    }
    return id;
}

}  // namespace facefuse::tasks
