#pragma once
// The task record and its state machine: what every shape (embedded, cluster) stores per task.
//
//   queued -> running -> succeeded | failed | cancelled
//   running -> queued      retry after a transient error (attempts+1, not before now+backoff),
//                          or a lease that expired because the worker died
//   queued -> cancelled    cancel before it ran
//   queued -> failed       expired or dead-lettered before it could run
//   running -> running     re-delivered after its lease was lost (a new attempt)
// Terminal states never change again (expiry deletes the record instead).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace facefuse::tasks {

enum class TaskState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
enum class Priority { kVip, kNormal, kBatch };
inline constexpr int kPriorityCount = 3;

std::string_view state_name(TaskState state);           // "queued", "running", ...
std::optional<TaskState> parse_state(std::string_view name);
std::string_view priority_name(Priority priority);      // "vip", "normal", "batch"
std::optional<Priority> parse_priority(std::string_view name);

bool is_terminal(TaskState state);
// Whether the state machine above allows from -> to.
bool can_transition(TaskState from, TaskState to);

struct TaskError {
    std::string code;     // stable code from common/errors.hpp, e.g. "no_face_in_target"
    std::string message;
};

struct Task {
    std::string id;      // opaque, URL-safe, unguessable (128 random bits)
    std::string tenant;  // every read is scoped by it
    std::string kind;    // "swap" (later "age")
    Priority priority = Priority::kNormal;
    TaskState state = TaskState::kQueued;
    int attempts = 0;      // runs started so far
    int max_attempts = 3;  // transient failures retry until this many runs
    std::string options_json;                  // validated options, as the worker needs them
    std::string source_key, target_key;        // blob keys of the inputs
    std::string result_key;                    // set when succeeded
    std::string result_content_type;           // e.g. "image/png"
    std::string moderation;                    // the content policy's decision as JSON; "" if none ran
    std::string idempotency_key;               // empty when the client sent none
    std::string request_hash;                  // sha256 of the request, for idempotency checks; empty without a key
    double progress = 0;                       // 0..1
    bool cancel_requested = false;             // cooperative cancel of a running task
    std::optional<TaskError> error;            // set when failed (or the last transient error)
    std::int64_t created_at_ms = 0;
    std::int64_t updated_at_ms = 0;
    std::int64_t started_at_ms = 0;            // last time it went to running
    std::int64_t finished_at_ms = 0;
    std::int64_t expires_at_ms = 0;            // record and blobs are deleted after this
};

// 32 lowercase hex characters: 48 bits of the current time in ms (so ids sort by creation, and
// index inserts land together) then 80 random bits from the OS's CSPRNG.
std::string new_task_id();

}  // namespace facefuse::tasks
