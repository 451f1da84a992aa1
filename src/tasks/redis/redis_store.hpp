#pragma once
// RedisTaskStore: the cluster shape's TaskStore, task records as Redis hashes (design notes at
// the top of redis_store.cpp).
//
// Beyond the TaskStore contract (the same choices as SqliteTaskStore where both apply):
//   - create() gives a task without an id a new_task_id(), sets created_at_ms to now when it is
//     0 and updated_at_ms to now, and expires_at_ms to now + default_retention when it is 0, so
//     every record gets a TTL (SQLite reads 0 as "never"). kConflict if the id exists.
//   - transition() keeps id, tenant and created_at_ms as stored whatever the change does; sets
//     updated_at_ms to now, started_at_ms to now on entering running and finished_at_ms on
//     entering a terminal state (when the change left them); a change that throws gives
//     kInternal and stores nothing; kConflict also for a state the state machine forbids;
//     kUnavailable if the record kept changing under it for cas_attempts tries (retry later).
//   - Records past expires_at_ms are returned as they are (TaskService turns them into kGone)
//     until expire() deletes them; expire() returns each record whole, or a stub with only id
//     and tenant when its key's TTL (expires_at_ms + ttl_grace) removed it first.
//   - request_cancel() leaves a finished task as it is and returns it.
//   - list(): kUsage for limit < 1 or a cursor it did not make; pages hold at most 1000 tasks.
//   - count_queued() counts <prefix>:queued:<tenant>, a sorted set that create() and every
//     transition keep in step with the record's state (scored by expires_at_ms).
//   - Needs one Redis node (the Lua scripts touch several keys; no Redis Cluster).
#include <chrono>
#include <memory>
#include <string>

#include "tasks/redis/redis_client.hpp"
#include "tasks/redis/streams_queue.hpp"
#include "tasks/store.hpp"

namespace facefuse::tasks::redis {

struct RedisStoreOptions {
    std::string key_prefix = "facefuse";  // keys are <prefix>:task:<id>, ...
    // A record's key outlives expires_at_ms by this much: the TTL only removes what expire()
    // never got to. Must exceed how long the caller keeps expired records before expire()
    // (TaskService: task_ttl, 24 h by default) plus its expire interval, or blob keys are lost.
    std::chrono::milliseconds ttl_grace{std::chrono::hours(72)};
    // expires_at_ms given to a task created without one.
    std::chrono::milliseconds default_retention{std::chrono::hours(24)};
    int cas_attempts = 16;     // read-compute-write rounds of transition() before kUnavailable
    int list_scan_cap = 2000;  // index entries one list() call looks at, at most
};

class RedisTaskStore final : public TaskStore {
  public:
    // `client` may be shared with a RedisTaskQueue. With `queue` (on the same Redis), create()
    // enqueues a new queued task in the same script (Created::enqueued), and gives kQueueFull,
    // writing nothing, when its lane is full.
    explicit RedisTaskStore(std::shared_ptr<RedisClient> client, RedisStoreOptions options = {},
                            std::shared_ptr<RedisTaskQueue> queue = nullptr);

    Result<Created> create(const Task& task, std::int64_t key_expires_at_ms) override;
    Result<Task> get(const std::string& tenant, const std::string& id) override;
    Result<Task> transition(const std::string& id, std::vector<TaskState> from,
                            const std::function<void(Task&)>& change) override;
    Status set_progress(const std::string& id, double progress) override;
    Result<Task> request_cancel(const std::string& tenant, const std::string& id) override;
    Result<Page> list(const std::string& tenant, int limit, const std::string& cursor) override;
    Result<std::vector<Task>> expire(std::int64_t now_ms, int max) override;
    Result<std::int64_t> count_queued(const std::string& tenant) override;

    // The Redis key of a task's record (for tests and operators).
    std::string task_key(const std::string& id) const;

  private:
    std::string tenant_key(const std::string& tenant) const;
    std::string idempotency_key(const std::string& tenant, const std::string& key) const;
    std::string expiry_key() const;
    std::string queued_key(const std::string& tenant) const;
    std::int64_t key_ttl_end(const Task& task) const;

    std::shared_ptr<RedisClient> client_;
    RedisStoreOptions options_;
    std::shared_ptr<RedisTaskQueue> queue_;
};

}  // namespace facefuse::tasks::redis
