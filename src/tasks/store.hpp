#pragma once
// TaskStore: the task records.
//
// Every read is scoped by tenant: asking for another tenant's task is indistinguishable from
// asking for one that does not exist (kNotFound), so ids leak nothing. State changes are
// compare-and-set against the state machine (task.hpp), so two workers racing on one task (a
// lost lease) cannot both finish it. Records expire at expires_at_ms; expire() deletes them.
//
// All methods are safe to call concurrently from many threads and processes. Errors:
// kUnavailable when the backend cannot be reached.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "tasks/task.hpp"

namespace facefuse::tasks {

struct Created {
    Task task;
    bool replayed = false;  // an earlier request with the same idempotency key made it
    bool enqueued = false;  // create() also queued it (a store built with its queue)
};

struct Page {
    std::vector<Task> tasks;  // newest first
    std::string next_cursor;  // empty on the last page
};

class TaskStore {
public:
    virtual ~TaskStore() = default;

    // Stores a new task. With a non-empty idempotency_key: if (tenant, key) was used before
    // and not expired, returns that task with replayed = true when its request_hash matches,
    // kIdempotencyConflict when it does not. Atomic: of many concurrent creates with one key,
    // exactly one creates. Keys live until `key_expires_at_ms`.
    //
    // A store built with its backend's queue also enqueues a new queued task in the same
    // atomic step (Created::enqueued): either both happen or neither, so a crash cannot leave a
    // record that no worker will run, and a full lane gives kQueueFull with nothing stored (a
    // retry with the same key then creates the task). Otherwise the caller enqueues it.
    virtual Result<Created> create(const Task& task, std::int64_t key_expires_at_ms) = 0;

    // The task, if it belongs to `tenant` (empty tenant: any, for workers and admins).
    virtual Result<Task> get(const std::string& tenant, const std::string& id) = 0;

    // Compare-and-set: if the task is in one of `from`, apply `change` to it (which must set
    // the new state, allowed by can_transition) and store it; returns the stored task.
    // kConflict (with the current state in the message) if it is in another state.
    virtual Result<Task> transition(const std::string& id, std::vector<TaskState> from,
                                    const std::function<void(Task&)>& change) = 0;

    // Updates progress and cancel_requested-independent fields of a running task, last writer
    // wins; cheap, for progress reports. Not an error if the task is gone.
    virtual Status set_progress(const std::string& id, double progress) = 0;

    // Sets cancel_requested on a task; returns it.
    virtual Result<Task> request_cancel(const std::string& tenant, const std::string& id) = 0;

    // The tenant's tasks, newest first, `limit` per page, continuing after `cursor`.
    virtual Result<Page> list(const std::string& tenant, int limit, const std::string& cursor) = 0;

    // Deletes records whose expires_at_ms <= now_ms, at most `max`; returns them (their blobs
    // are the caller's to delete).
    virtual Result<std::vector<Task>> expire(std::int64_t now_ms, int max) = 0;

    // How many of the tenant's tasks are queued (waiting, not running), for per-tenant quotas.
    // Tasks past their expiry may or may not be counted until expire() has removed them.
    virtual Result<std::int64_t> count_queued(const std::string& tenant) = 0;
};

}  // namespace facefuse::tasks
