#pragma once
// TaskQueue: which task runs next, and who holds it.
//
// Delivery is at-least-once. A worker leases a task for `lease_for`; while it works it renews
// the lease with heartbeat(); when done it ack()s. If the worker dies, the lease expires and the
// task is delivered again (to any worker) within lease_for plus the backend's reclaim interval.
// A task may therefore run twice; its effects (a result written under a deterministic key, a
// compare-and-set state transition) are idempotent, so a second run is harmless.
//
// Priorities: vip before normal before batch, with a weighted share (default 8:3:1 leases) so
// batch never starves. A worker leases at most as many tasks as it has free slots: no prefetch
// hides work from other workers.
//
// All methods are safe to call concurrently from many threads and processes. Errors:
// kUnavailable when the backend cannot be reached (transient: callers retry later).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "tasks/task.hpp"

namespace facefuse::tasks {

struct Lease {
    std::string task_id;
    Priority priority = Priority::kNormal;
    std::string token;              // backend-specific proof of holding (e.g. stream entry id)
    std::int64_t expires_at_ms = 0;
    int deliveries = 1;             // 1 on first delivery; more after lost leases
};

class TaskQueue {
public:
    virtual ~TaskQueue() = default;

    // Makes task_id runnable at or after not_before_ms (0: now) in the lane of `priority`.
    // kQueueFull when that lane already holds its bound of waiting tasks.
    virtual Status enqueue(const std::string& task_id, Priority priority, std::int64_t not_before_ms) = 0;

    // Up to `max` runnable tasks, leased to worker_id until now + lease_for, in priority order
    // with the weighted share. Waits up to `wait` for work when there is none; returns an
    // empty vector if none came (not an error).
    virtual Result<std::vector<Lease>> lease(const std::string& worker_id, int max,
                                             std::chrono::milliseconds lease_for,
                                             std::chrono::milliseconds wait) = 0;

    // Extends a held lease to now + lease_for. kLeaseLost if it expired and was reclaimed: the
    // worker must stop and not write state.
    virtual Status heartbeat(Lease& lease, std::chrono::milliseconds lease_for) = 0;

    // ack, retry and dead_letter answer kLeaseLost when the task was leased again by another
    // worker or has left the queue; a lease that expired but was not taken yet still counts as
    // held, so finished work can be acknowledged. (Both backends behave so; their tests check it.)

    // Done with the task (succeeded, failed permanently, or cancelled): it leaves the queue.
    virtual Status ack(const Lease& lease) = 0;

    // Puts the task back, runnable at not_before_ms (backoff for a transient error). The next
    // delivery counts as a first one (deliveries == 1).
    virtual Status retry(const Lease& lease, std::int64_t not_before_ms) = 0;

    // Gives up on the task: it leaves the queue and a dead-letter record keeps the reason.
    virtual Status dead_letter(const Lease& lease, const std::string& reason) = 0;

    // Tasks waiting (runnable or delayed, not leased) in the lane of `priority`.
    virtual Result<std::int64_t> depth(Priority priority) = 0;

    // Removes a task that has not been leased (cancel of a queued task). Not an error if it is
    // not there (already leased or gone).
    virtual Status remove(const std::string& task_id, Priority priority) = 0;
};

}  // namespace facefuse::tasks
