#pragma once
// RedisTaskQueue: the cluster shape's TaskQueue, on Redis Streams (design notes at the top of
// streams_queue.cpp).
//
// Beyond the TaskQueue contract:
//   - enqueue() of a task that is already in the queue (waiting, delayed or leased) is a no-op.
//   - lease(): kUsage if max < 1 or lease_for <= 0; at most 1000 tasks per call.
//   - heartbeat(): kLeaseLost once the lease's expires_at_ms has passed, even if no one has
//     taken the task yet (it may be reclaimed at any moment).
//   - ack(), retry(), dead_letter(): kLeaseLost when another delivery took the task or it left
//     the queue; then they change nothing. A lease that expired but was not taken yet still
//     counts as held. retry() starts deliveries over: the next lease has deliveries == 1.
//   - depth() and remove() see a task whose lease expired but was not reclaimed yet as leased
//     (SqliteTaskQueue sees it as waiting): only the next lease() call knows the lease duration.
//   - A lease expires when its entry has been idle (no lease, heartbeat) for longer than the
//     lease_for of the lease() call that reclaims it: workers of one deployment are expected to
//     share one lease duration. A worker with a shorter one reclaims early, which at worst runs
//     a task twice (allowed by at-least-once) and makes the first holder see kLeaseLost.
//   - The weighted share is kept per RedisTaskQueue object (each worker process its own).
//   - Needs Redis 6.2 or later (XAUTOCLAIM) and one Redis node (the Lua scripts touch several
//     keys, so this does not run on Redis Cluster).
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tasks/queue.hpp"
#include "tasks/redis/redis_client.hpp"

namespace facefuse::tasks::redis {

struct RedisQueueOptions {
    std::string key_prefix = "facefuse";             // keys are <prefix>:q:vip, <prefix>:dead, ...
    std::int64_t max_depth = 10000;                  // per lane: waiting tasks (runnable + delayed)
    std::array<int, kPriorityCount> share{8, 3, 1};  // leases per round: vip, normal, batch
    // Longest single XREADGROUP BLOCK inside lease(): a blocked call holds a pooled connection,
    // and delayed tasks and expired leases are only looked at between blocks.
    std::chrono::milliseconds max_block{500};
    std::int64_t dead_letter_cap = 100000;  // approximate length kept of <prefix>:dead
};

class RedisTaskQueue final : public TaskQueue {
  public:
    // `client` may be shared with a RedisTaskStore. Options are used as given (validated by the
    // caller's configuration).
    explicit RedisTaskQueue(std::shared_ptr<RedisClient> client, RedisQueueOptions options = {});

    Status enqueue(const std::string& task_id, Priority priority,
                   std::int64_t not_before_ms) override;
    Result<std::vector<Lease>> lease(const std::string& worker_id, int max,
                                     std::chrono::milliseconds lease_for,
                                     std::chrono::milliseconds wait) override;
    Status heartbeat(Lease& lease, std::chrono::milliseconds lease_for) override;
    Status ack(const Lease& lease) override;
    Status retry(const Lease& lease, std::int64_t not_before_ms) override;
    Status dead_letter(const Lease& lease, const std::string& reason) override;
    Result<std::int64_t> depth(Priority priority) override;
    Status remove(const std::string& task_id, Priority priority) override;

    // The lane each lease slot of one round prefers, e.g. 8:3:1 -> 12 slots, smoothly
    // interleaved (vip, normal, vip, vip, batch, ...). Exposed for tests.
    static std::vector<Priority> share_schedule(const std::array<int, kPriorityCount>& share);

  private:
    friend class RedisTaskStore;  // create() enqueues in its own script
    Error queue_full(int lane) const;
    std::string index_key() const;
    std::string stream_key(int lane) const;
    std::string delayed_key(int lane) const;
    Result<std::vector<Lease>> lease_ready(const std::string& worker_id, int max,
                                           std::chrono::milliseconds lease_for);
    Result<std::vector<Lease>> lease_blocking(const std::string& worker_id, int max,
                                              std::chrono::milliseconds block);
    Status settle(const Lease& lease, const std::string& mode, std::int64_t not_before_ms,
                  const std::string& reason);

    std::shared_ptr<RedisClient> client_;
    RedisQueueOptions options_;
    std::vector<Priority> schedule_;
    std::atomic<std::uint64_t> next_slot_{0};  // position in schedule_ of the next lease
};

}  // namespace facefuse::tasks::redis
