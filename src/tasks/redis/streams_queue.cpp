// The task queue of the cluster shape, on Redis Streams.
//
// Lanes. Each priority is a stream, <prefix>:q:vip, :q:normal and :q:batch, read by one
// consumer group, "workers"; every worker process is a consumer named by its worker id. An
// entry holds one field, task = <task id>. A stream entry id ("1700000000000-0") is the lease
// token: it names one placement of a task in the queue, and every re-queue makes a new one.
//
// Leases are the group's pending entries list. XREADGROUP hands an entry to one consumer and
// records it as pending with an idle time and a delivery count. A worker's heartbeat is XCLAIM of
// its own entry with JUSTID: the idle time goes back to zero and the count stays. So "the lease
// expired" is simply "the entry has been idle longer than the lease": no clock of ours is
// involved, only the Redis server's. Note the consequence: the reclaiming side decides the
// duration, so every worker of a deployment should lease for the same time.
//
// Reclaim. At the start of every lease() and on each lane, XAUTOCLAIM moves entries idle for
// longer than lease_for to the caller before new entries are read: a task whose worker died
// has waited longest. XAUTOCLAIM increments the delivery count, which is how the task's next
// holder learns it is a re-delivery (Lease::deliveries) and how the old holder learns it lost
// the task: heartbeat, ack, retry and dead_letter compare the count it was given with the one
// Redis now holds and answer kLeaseLost if they differ. (A heartbeat also gives up once the
// lease's own expires_at_ms has passed: from then on a reclaim can come at any moment.) The
// entry id alone would not do: a worker may reclaim its own entry under the same consumer
// name, e.g. after a restart with the same worker id. A cursor per lane keeps XAUTOCLAIM
// walking the whole pending list across calls. Redelivery therefore happens within lease_for
// plus the time until some worker next calls lease(), which idle workers do every max_block.
//
// Retries and delays. A delayed task (enqueue with not_before in the future, or retry with a
// backoff) waits in a sorted set per lane, <prefix>:q:delayed:<lane>, scored by not_before_ms;
// a script at the start of lease() moves the due ones into their streams. One set per lane
// (instead of a single one) makes depth() and the bound O(1). retry() acknowledges and deletes
// the leased entry and parks the task in the delayed set in one script, so a crash in between
// can neither lose the task nor queue it twice. dead_letter() likewise acknowledges, deletes and
// appends {task, priority, reason, deliveries, at_ms} to <prefix>:dead.
//
// Bound. A lane holds at most max_depth waiting tasks (runnable + delayed, not leased). XADD's
// MAXLEN would trim the oldest tasks silently, so enqueue() counts in a script and answers
// kQueueFull instead. Retries are not bounded: they come from a task already admitted.
//
// Weighted share. One round of lease slots (8 vip, 3 normal, 1 batch by default) is interleaved
// smoothly; each lease() takes the next `max` slots, asks each lane for its slots, and gives the
// slots of an empty lane to the others in priority order. With every lane full, batch gets one
// lease in twelve, so it never starves; with vip empty, normal and batch share everything.
//
// Waiting. When nothing is ready, lease() blocks in XREADGROUP on all three streams for at most
// max_block at a time (it occupies one pooled connection meanwhile), then looks at delayed and
// expired entries again, until `wait` has passed.
//
// Keys and TTLs. The streams, delayed sets, the index hash (task id -> where it waits, for
// remove() and to never queue a task twice), the XAUTOCLAIM cursors and the dead-letter stream
// are long-lived infrastructure keys and have no TTL: their entries leave when tasks leave the
// queue, and the dead-letter stream is trimmed to about dead_letter_cap entries. The TTLs the
// task records need are set by RedisTaskStore. Run Redis with maxmemory-policy noeviction (an
// evicted stream loses its tasks; volatile-* would evict task records early) and with AOF if
// queued tasks must survive a Redis restart: after an empty restart the scripts recreate the
// streams and group, but the tasks that waited are gone.
#include "tasks/redis/streams_queue.hpp"

#include <algorithm>
#include <numeric>

#include "tasks/redis/queue_scripts.hpp"

namespace facefuse::tasks::redis {
namespace {

constexpr int kMaxPerLease = 1000;    // COUNT cap: one script must stay short
constexpr int kPromotePerCall = 256;  // delayed tasks moved per lane per lease() call

std::string lane_name(int lane) {
    return std::string(priority_name(static_cast<Priority>(lane)));
}

bool valid(Priority priority) {
    return static_cast<int>(priority) >= 0 && static_cast<int>(priority) < kPriorityCount;
}

Error bad_priority(Priority priority) {
    return make_error(ErrorCode::kUsage, "priority " + std::to_string(static_cast<int>(priority)) +
                                             " is not vip, normal or batch");
}

Error lease_lost(const Lease& lease) {
    return make_error(ErrorCode::kLeaseLost,
                      "the lease on task " + lease.task_id +
                          " was lost (it expired, the task was leased again, or it left the "
                          "queue); stop working on it and do not write its state");
}

}  // namespace

std::vector<Priority> RedisTaskQueue::share_schedule(const std::array<int, kPriorityCount>& share) {
    // Smooth weighted round robin: each step every lane gains its weight, the richest lane
    // takes the slot and pays the total. 8:3:1 gives v n v v b v n v v v n v.
    std::array<int, kPriorityCount> credit{};
    const int total = std::accumulate(share.begin(), share.end(), 0);
    std::vector<Priority> out;
    for (int slot = 0; slot < total; ++slot) {
        int best = 0;
        for (int lane = 0; lane < kPriorityCount; ++lane) {
            credit[lane] += share[lane];
            if (credit[lane] > credit[best]) best = lane;
        }
        credit[best] -= total;
        out.push_back(static_cast<Priority>(best));
    }
    if (out.empty()) out.push_back(Priority::kVip);  // all weights zero: plain priority order
    return out;
}

RedisTaskQueue::RedisTaskQueue(std::shared_ptr<RedisClient> client, RedisQueueOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      schedule_(share_schedule(options_.share)) {}

std::string RedisTaskQueue::stream_key(int lane) const {
    return options_.key_prefix + ":q:" + lane_name(lane);
}

std::string RedisTaskQueue::delayed_key(int lane) const {
    return options_.key_prefix + ":q:delayed:" + lane_name(lane);
}

std::string RedisTaskQueue::index_key() const {
    return options_.key_prefix + ":q:index";
}

Error RedisTaskQueue::queue_full(int lane) const {
    return make_error(ErrorCode::kQueueFull, "the " + lane_name(lane) +
                                                 " queue holds its limit of " +
                                                 std::to_string(options_.max_depth) +
                                                 " waiting tasks; retry after a while");
}

Status RedisTaskQueue::enqueue(const std::string& task_id, Priority priority,
                               std::int64_t not_before_ms) {
    if (!valid(priority)) return bad_priority(priority);
    const int lane = static_cast<int>(priority);
    auto r =
        client_->eval(queue_scripts::enqueue(), {stream_key(lane), delayed_key(lane), index_key()},
                      {task_id, lane_name(lane), std::to_string(not_before_ms),
                       std::to_string(unix_now_ms()), std::to_string(options_.max_depth)});
    if (!r) return r.error();
    if (r->as_int() == 0) return queue_full(lane);
    return Status::Ok();
}

Result<std::vector<Lease>> RedisTaskQueue::lease(const std::string& worker_id, int max,
                                                 std::chrono::milliseconds lease_for,
                                                 std::chrono::milliseconds wait) {
    using clock = std::chrono::steady_clock;
    if (max < 1 || lease_for.count() <= 0) {
        return make_error(ErrorCode::kUsage, "lease() needs max >= 1 and lease_for > 0, not max " +
                                                 std::to_string(max) + " and lease_for " +
                                                 std::to_string(lease_for.count()) + " ms");
    }
    max = std::min(max, kMaxPerLease);
    const auto deadline = clock::now() + wait;
    for (;;) {
        auto ready = lease_ready(worker_id, max, lease_for);
        if (!ready || !ready->empty()) return ready;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0) return ready;
        auto blocked = lease_blocking(worker_id, max, std::min(left, options_.max_block));
        if (!blocked || !blocked->empty()) {
            if (blocked) {
                for (Lease& l : *blocked) l.expires_at_ms = unix_now_ms() + lease_for.count();
            }
            return blocked;
        }
    }
}

// One pass of the lease script: due delayed tasks, expired leases, then new entries.
Result<std::vector<Lease>> RedisTaskQueue::lease_ready(const std::string& worker_id, int max,
                                                       std::chrono::milliseconds lease_for) {
    std::array<int, kPriorityCount> wanted{};
    const std::uint64_t first = next_slot_.load();
    for (int i = 0; i < max; ++i) {
        ++wanted[static_cast<int>(schedule_[(first + i) % schedule_.size()])];
    }
    std::vector<std::string> keys;
    for (int lane = 0; lane < kPriorityCount; ++lane) keys.push_back(stream_key(lane));
    for (int lane = 0; lane < kPriorityCount; ++lane) keys.push_back(delayed_key(lane));
    for (int lane = 0; lane < kPriorityCount; ++lane) keys.push_back(stream_key(lane) + ":cursor");
    keys.push_back(index_key());
    const std::int64_t now = unix_now_ms();
    auto r = client_->eval(queue_scripts::lease(), keys,
                           {worker_id, std::to_string(now), std::to_string(lease_for.count()),
                            std::to_string(wanted[0]), std::to_string(wanted[1]),
                            std::to_string(wanted[2]), std::to_string(kPromotePerCall)});
    if (!r) return r.error();
    std::vector<Lease> out;
    for (size_t i = 0; i + 3 < r->elements.size(); i += 4) {
        Lease l;
        l.priority = static_cast<Priority>(r->elements[i].as_int() - 1);
        l.token = r->elements[i + 1].str;
        l.task_id = r->elements[i + 2].str;
        l.deliveries = static_cast<int>(r->elements[i + 3].as_int());
        l.expires_at_ms = now + lease_for.count();
        out.push_back(std::move(l));
    }
    next_slot_ += out.size();
    return out;
}

// Blocks until an entry arrives on any lane, or `block` passes.
Result<std::vector<Lease>> RedisTaskQueue::lease_blocking(const std::string& worker_id, int max,
                                                          std::chrono::milliseconds block) {
    std::vector<std::string> argv{"XREADGROUP", "GROUP",
                                  "workers",    worker_id,
                                  "COUNT",      std::to_string(max),
                                  "BLOCK",      std::to_string(std::max<long>(1, block.count())),
                                  "STREAMS"};
    for (int lane = 0; lane < kPriorityCount; ++lane) argv.push_back(stream_key(lane));
    for (int lane = 0; lane < kPriorityCount; ++lane) argv.push_back(">");
    auto r = client_->blocking_command(argv, block);
    if (!r) {
        // NOGROUP: Redis restarted empty since the lease script made the groups; the next
        // round makes them again.
        if (r.error().message.find("NOGROUP") != std::string::npos) return std::vector<Lease>{};
        return r.error();
    }
    std::vector<Lease> out;
    for (const RedisReply& stream : r->elements) {  // nil (timeout) has no elements
        if (stream.elements.size() < 2) continue;
        int lane = 0;
        while (lane < kPriorityCount && stream_key(lane) != stream.elements[0].str) ++lane;
        if (lane == kPriorityCount) continue;
        for (const RedisReply& entry : stream.elements[1].elements) {
            if (entry.elements.size() < 2) continue;
            const auto& fields = entry.elements[1].elements;
            Lease l;
            l.priority = static_cast<Priority>(lane);
            l.token = entry.elements[0].str;
            for (size_t f = 0; f + 1 < fields.size(); f += 2) {
                if (fields[f].str == "task") l.task_id = fields[f + 1].str;
            }
            out.push_back(std::move(l));
        }
    }
    // Servers that re-run a woken XREADGROUP on every stream (Redis 7.2+) can hand out up to
    // COUNT per stream; what is over `max` goes straight back to its lane.
    while (static_cast<int>(out.size()) > max) {
        if (Status s = settle(out.back(), "retry", 0, ""); !s) return s.error();
        out.pop_back();
    }
    next_slot_ += out.size();
    return out;
}

Status RedisTaskQueue::heartbeat(Lease& lease, std::chrono::milliseconds lease_for) {
    // Past its expiry the task may be reclaimed at any moment, so the holder must stop even if
    // no one has taken it yet. (ack() still goes through until someone does.)
    if (unix_now_ms() >= lease.expires_at_ms || !valid(lease.priority)) return lease_lost(lease);
    auto r =
        client_->eval(queue_scripts::heartbeat(), {stream_key(static_cast<int>(lease.priority))},
                      {lease.token, std::to_string(lease.deliveries)});
    if (!r) return r.error();
    if (r->as_int() != 1) return lease_lost(lease);
    lease.expires_at_ms = unix_now_ms() + lease_for.count();
    return Status::Ok();
}

Status RedisTaskQueue::settle(const Lease& lease, const std::string& mode,
                              std::int64_t not_before_ms, const std::string& reason) {
    if (lease.token.empty() || !valid(lease.priority)) return lease_lost(lease);
    const int lane = static_cast<int>(lease.priority);
    auto r = client_->eval(
        queue_scripts::settle(),
        {stream_key(lane), delayed_key(lane), index_key(), options_.key_prefix + ":dead"},
        {mode, lease.token, std::to_string(lease.deliveries), lease.task_id, lane_name(lane),
         std::to_string(not_before_ms), std::to_string(unix_now_ms()), reason,
         std::to_string(options_.dead_letter_cap)});
    if (!r) return r.error();
    if (r->as_int() != 1) return lease_lost(lease);
    return Status::Ok();
}

Status RedisTaskQueue::ack(const Lease& lease) {
    return settle(lease, "ack", 0, "");
}

Status RedisTaskQueue::retry(const Lease& lease, std::int64_t not_before_ms) {
    return settle(lease, "retry", not_before_ms, "");
}

Status RedisTaskQueue::dead_letter(const Lease& lease, const std::string& reason) {
    return settle(lease, "dead", 0, reason);
}

Result<std::int64_t> RedisTaskQueue::depth(Priority priority) {
    if (!valid(priority)) return bad_priority(priority);
    const int lane = static_cast<int>(priority);
    auto r = client_->eval(queue_scripts::depth(), {stream_key(lane), delayed_key(lane)}, {});
    if (!r) return r.error();
    return static_cast<std::int64_t>(r->as_int());
}

Status RedisTaskQueue::remove(const std::string& task_id, Priority /*priority: the index knows*/) {
    std::vector<std::string> keys;
    for (int lane = 0; lane < kPriorityCount; ++lane) keys.push_back(stream_key(lane));
    for (int lane = 0; lane < kPriorityCount; ++lane) keys.push_back(delayed_key(lane));
    keys.push_back(index_key());
    auto r = client_->eval(queue_scripts::remove(), keys, {task_id});
    if (!r) return r.error();
    return Status::Ok();
}

}  // namespace facefuse::tasks::redis
