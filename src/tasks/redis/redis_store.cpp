// Task records of the cluster shape, in Redis.
//
// Keys:
//   <prefix>:task:<id>               hash: the Task's fields (task_codec.hpp) plus `rev`, a count
//                                    of writes. PEXPIREAT expires_at_ms + ttl_grace.
//   <prefix>:tenant:<tenant>:tasks   sorted set of task ids scored by created_at_ms, for list().
//                                    Its TTL is pushed out to its longest-lived task's.
//   <prefix>:idem:<tenant>:<sha256 of the key>
//                                    "<task id> <request hash>", PX until key_expires_at_ms.
//                                    Hashing keeps client-chosen keys short and free of ':'.
//   <prefix>:expiry                  sorted set of "<id> <tenant>" scored by expires_at_ms: how
//                                    expire() finds what is due. Infrastructure: no TTL; its
//                                    members leave through expire().
//
// Atomicity. Redis runs a script alone, so every check-then-write is one script: create()
// checks the idempotency key and creates the task in one step (of many concurrent creates with
// one key, exactly one creates; the others replay or conflict). transition() applies the
// caller's change in C++ (the change is a function, so it cannot run in Lua), then writes with
// a compare-and-set on `rev`; if anything wrote the record in between it reads again, up to
// cas_attempts times. Every write but a progress report bumps `rev`, so a transition can never
// overwrite a cancel request or a competing transition it did not see; progress it does not
// write at all unless its change set it.
//
// Expiry. The TTL is a safety net, not the mechanism. Records stay readable past expires_at_ms
// (TaskService answers kGone for them and keeps them as tombstones for a while), and expire()
// deletes them and returns them whole, so the caller can delete their blobs. The key's TTL is
// expires_at_ms + ttl_grace: it only removes records that expire() never got to.
#include "tasks/redis/redis_store.hpp"

#include "common/sha256.hpp"
#include "tasks/page_cursor.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>

#include "tasks/redis/store_scripts.hpp"
#include "tasks/redis/task_codec.hpp"

namespace facefuse::tasks::redis {
namespace {

constexpr int kMaxPageSize = 1000;

std::vector<std::string> strings(const RedisReply& array) {
    std::vector<std::string> out;
    out.reserve(array.elements.size());
    for (const RedisReply& e : array.elements) out.push_back(e.str);
    return out;
}

Error not_found(const std::string& id) {
    return make_error(ErrorCode::kNotFound, "no task " + id + "; check the id");
}

std::string expiry_member(const Task& t) {
    return t.id + " " + t.tenant;
}

std::string states_text(const std::vector<TaskState>& states) {
    std::string out;
    for (TaskState s : states) out += (out.empty() ? "" : " or ") + std::string(state_name(s));
    return out.empty() ? "(none)" : out;
}

}  // namespace

RedisTaskStore::RedisTaskStore(std::shared_ptr<RedisClient> client, RedisStoreOptions options,
                               std::shared_ptr<RedisTaskQueue> queue)
    : client_(std::move(client)), options_(std::move(options)), queue_(std::move(queue)) {}

std::string RedisTaskStore::task_key(const std::string& id) const {
    return options_.key_prefix + ":task:" + id;
}

std::string RedisTaskStore::tenant_key(const std::string& tenant) const {
    return options_.key_prefix + ":tenant:" + tenant + ":tasks";
}

std::string RedisTaskStore::idempotency_key(const std::string& tenant,
                                            const std::string& key) const {
    return options_.key_prefix + ":idem:" + tenant + ":" + sha256_hex(key);
}

std::string RedisTaskStore::queued_key(const std::string& tenant) const {
    return options_.key_prefix + ":queued:" + tenant;
}

std::string RedisTaskStore::expiry_key() const {
    return options_.key_prefix + ":expiry";
}

std::int64_t RedisTaskStore::key_ttl_end(const Task& task) const {
    return task.expires_at_ms + options_.ttl_grace.count();
}

Result<Created> RedisTaskStore::create(const Task& input, std::int64_t key_expires_at_ms) {
    const std::int64_t now = unix_now_ms();
    Task task = input;
    if (task.id.empty()) task.id = new_task_id();
    if (task.created_at_ms == 0) task.created_at_ms = now;
    task.updated_at_ms = now;
    if (task.expires_at_ms == 0) task.expires_at_ms = now + options_.default_retention.count();
    std::int64_t key_ttl = 0;  // 0: no idempotency key
    if (!task.idempotency_key.empty()) {
        const std::int64_t until = key_expires_at_ms > 0 ? key_expires_at_ms : task.expires_at_ms;
        key_ttl = std::max<std::int64_t>(1, until - now);
    }
    std::vector<std::string> args{task.id,
                                  task.request_hash,
                                  std::to_string(key_ttl),
                                  std::to_string(now),
                                  std::to_string(task.expires_at_ms),
                                  std::to_string(key_ttl_end(task)),
                                  std::to_string(task.created_at_ms),
                                  options_.key_prefix + ":task:",
                                  expiry_member(task)};
    std::vector<std::string> keys{task_key(task.id), tenant_key(task.tenant), expiry_key(),
                                  idempotency_key(task.tenant, task.idempotency_key),
                                  queued_key(task.tenant)};
    const int lane = static_cast<int>(task.priority);
    const bool enqueue = queue_ && task.state == TaskState::kQueued;
    if (enqueue) {
        if (lane < 0 || lane >= kPriorityCount)
            return make_error(ErrorCode::kUsage,
                              "priority " + std::to_string(lane) + " is not vip, normal or batch");
        keys.insert(keys.end(),
                    {queue_->stream_key(lane), queue_->delayed_key(lane), queue_->index_key()});
        args.push_back(std::string(priority_name(task.priority)));
        args.push_back(std::to_string(queue_->options_.max_depth));
    } else {
        args.insert(args.end(), {"", "0"});
    }
    for (auto& [name, value] : encode_task(task)) {
        args.push_back(name);
        args.push_back(value);
    }
    auto r = client_->eval(store_scripts::create(), keys, args);
    if (!r) return r.error();
    const std::string outcome = r->elements.empty() ? "" : r->elements[0].str;
    if (outcome == "created") return Created{std::move(task), false, enqueue};
    if (outcome == "full") return queue_->queue_full(lane);
    if (outcome == "replay") {
        auto earlier = get(task.tenant, r->elements[1].str);
        if (!earlier) return earlier.error();
        return Created{std::move(*earlier), true};
    }
    if (outcome == "conflict") {
        return make_error(ErrorCode::kIdempotencyConflict,
                          "Idempotency-Key \"" + task.idempotency_key +
                              "\" was already used for a different request; use a new key for "
                              "a new request");
    }
    // 128 random bits do not collide; a caller reusing an id is a bug.
    return make_error(ErrorCode::kConflict, "a task with id " + task.id + " already exists");
}

Result<Task> RedisTaskStore::get(const std::string& tenant, const std::string& id) {
    auto r = client_->command({"HGETALL", task_key(id)});
    if (!r) return r.error();
    if (r->elements.empty()) return not_found(id);
    auto task = decode_task(strings(*r));
    if (!task) return task.error();
    if (!tenant.empty() && task->tenant != tenant) return not_found(id);
    return task;
}

Result<Task> RedisTaskStore::transition(const std::string& id, std::vector<TaskState> from,
                                        const std::function<void(Task&)>& change) {
    for (int attempt = 0; attempt < options_.cas_attempts; ++attempt) {
        auto r = client_->command({"HGETALL", task_key(id)});
        if (!r) return r.error();
        if (r->elements.empty()) return not_found(id);
        const std::vector<std::string> flat = strings(*r);
        auto current = decode_task(flat);
        if (!current) return current.error();
        if (std::find(from.begin(), from.end(), current->state) == from.end()) {
            return make_error(ErrorCode::kConflict, "task " + id + " is " +
                                                        std::string(state_name(current->state)) +
                                                        ", not " + states_text(from));
        }
        Task next = *current;
        try {
            change(next);
        } catch (const std::exception& e) {
            return make_error(ErrorCode::kInternal,
                              "changing task " + id + " failed (nothing stored): " + e.what());
        } catch (...) {
            return make_error(ErrorCode::kInternal,
                              "changing task " + id + " failed (nothing stored)");
        }
        next.id = current->id;  // identity is not the change's to alter
        next.tenant = current->tenant;
        next.created_at_ms = current->created_at_ms;
        if (!can_transition(current->state, next.state)) {
            return make_error(ErrorCode::kConflict,
                              "task " + id + " is " + std::string(state_name(current->state)) +
                                  " and cannot become " + std::string(state_name(next.state)));
        }
        const std::int64_t now = unix_now_ms();
        next.updated_at_ms = now;
        if (next.state == TaskState::kRunning && next.started_at_ms == current->started_at_ms) {
            next.started_at_ms = now;
        }
        if (is_terminal(next.state) && next.finished_at_ms == 0) next.finished_at_ms = now;
        if (next.expires_at_ms == 0) next.expires_at_ms = current->expires_at_ms;
        std::vector<std::string> args{find_field(flat, "rev"), std::to_string(key_ttl_end(next)),
                                      std::to_string(next.expires_at_ms), std::to_string(now),
                                      expiry_member(next)};
        if (next.error) {
            args.push_back("0");
        } else {
            args.insert(args.end(), {"2", "error_code", "error_message"});
        }
        for (auto& [name, value] : encode_task(next)) {
            // A progress report may have landed since the read: keep it unless the change set
            // its own.
            if (name == "progress" && next.progress == current->progress) continue;
            args.push_back(name);
            args.push_back(value);
        }
        auto w = client_->eval(store_scripts::write_if_unchanged(),
                               {task_key(id), tenant_key(next.tenant), expiry_key(), queued_key(next.tenant)}, args);
        if (!w) return w.error();
        if (w->as_int() == 1) return next;
        // Someone wrote the record since we read it: read again and re-apply the change.
    }
    return make_error(ErrorCode::kUnavailable,
                      "task " + id + " kept changing while being updated; retry");
}

Status RedisTaskStore::set_progress(const std::string& id, double progress) {
    progress = std::isnan(progress) ? 0.0 : std::clamp(progress, 0.0, 1.0);
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, progress);
    auto r = client_->eval(
        store_scripts::set_progress(), {task_key(id)},
        {std::string(buf, ec == std::errc() ? end : buf), std::to_string(unix_now_ms())});
    if (!r) return r.error();
    return Status::Ok();
}

Result<Task> RedisTaskStore::request_cancel(const std::string& tenant, const std::string& id) {
    auto r = client_->eval(store_scripts::request_cancel(), {task_key(id)},
                           {tenant, std::to_string(unix_now_ms())});
    if (!r) return r.error();
    if (r->elements.empty()) return not_found(id);
    return decode_task(strings(*r));
}

Result<Page> RedisTaskStore::list(const std::string& tenant, int limit, const std::string& cursor) {
    if (limit < 1) {
        return make_error(ErrorCode::kUsage,
                          "a page holds at least 1 task, not " + std::to_string(limit));
    }
    limit = std::min(limit, kMaxPageSize);
    std::string score = "+inf", after_id;
    if (!cursor.empty()) {
        std::int64_t ms = 0;
        if (!decode_page_cursor(cursor, ms, after_id)) {
            return make_error(ErrorCode::kUsage,
                              "the cursor is not one this server returned; pass next_cursor from "
                              "the previous page unchanged, or none for the first page");
        }
        score = std::to_string(ms);
    }
    auto r = client_->eval(store_scripts::list(), {tenant_key(tenant)},
                           {options_.key_prefix + ":task:", score, after_id, std::to_string(limit),
                            std::to_string(options_.list_scan_cap)});
    if (!r) return r.error();
    if (r->elements.size() < 3) return make_error(ErrorCode::kInternal, "bad list() reply");
    Page page;
    for (const RedisReply& record : r->elements[2].elements) {
        auto task = decode_task(strings(record));
        if (!task) return task.error();
        page.tasks.push_back(std::move(*task));
    }
    if (!r->elements[0].str.empty()) {
        // The score is the integral created_at_ms that create() indexed the task with.
        std::int64_t created = 0;
        const std::string& score = r->elements[0].str;
        const auto [end, ec] = std::from_chars(score.data(), score.data() + score.size(), created);
        if (ec == std::errc() && end == score.data() + score.size())
            page.next_cursor = encode_page_cursor(created, r->elements[1].str);
    }
    return page;
}

Result<std::vector<Task>> RedisTaskStore::expire(std::int64_t now_ms, int max) {
    if (max <= 0) return std::vector<Task>{};
    auto r = client_->eval(store_scripts::expire(), {expiry_key()},
                           {options_.key_prefix + ":task:", options_.key_prefix + ":tenant:",
                            std::to_string(now_ms), std::to_string(std::min(max, kMaxPageSize))});
    if (!r) return r.error();
    std::vector<Task> out;
    for (size_t i = 0; i + 2 < r->elements.size(); i += 3) {
        auto task = decode_task(strings(r->elements[i + 2]));
        if (task) {
            out.push_back(std::move(*task));
            continue;
        }
        // Its TTL removed the record first (or it did not parse): what the index still knows.
        Task stub;
        stub.id = r->elements[i].str;
        stub.tenant = r->elements[i + 1].str;
        out.push_back(std::move(stub));
    }
    return out;
}

Result<std::int64_t> RedisTaskStore::count_queued(const std::string& tenant) {
    // Entries scored at or before now belong to tasks that expired while queued: drop them,
    // then count what is left.
    const std::string key = queued_key(tenant);
    auto dropped = client_->command({"ZREMRANGEBYSCORE", key, "-inf", std::to_string(unix_now_ms())});
    if (!dropped) return dropped.error();
    auto count = client_->command({"ZCARD", key});
    if (!count) return count.error();
    return count->as_int();
}

}  // namespace facefuse::tasks::redis
