#include "tasks/task.hpp"

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdint>
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
    // The first 6 bytes are the time (ms since the epoch, big-endian), as in UUIDv7: ids made
    // one after another sort together, so a database inserts them at the end of its primary-key
    // index instead of into a random page each time. Measured on serve, random ids dirtied a
    // page per task in each id index. The other 10 bytes stay random.
    std::array<unsigned char, 16> bytes{};
    const auto now_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    for (int i = 0; i < 6; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<unsigned char>(now_ms >> (8 * (5 - i)));
    if (RAND_bytes(bytes.data() + 6, static_cast<int>(bytes.size()) - 6) != 1) {
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
