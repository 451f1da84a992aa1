// Expiry works in two steps so an expired task answers 410 rather than 404 for a while: from
// expires_at_ms on, get() and result() report kGone (and delete the task's blobs on the way, so
// no expired image is ever served); expire_once() deletes records one TTL after that, with any
// blobs left. A 404 after that is honest: we no longer know the id.
#include "tasks/service.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "common/clock.hpp"
#include "common/sha256.hpp"
#include "fusion/options_json.hpp"
#include "image/format.hpp"

namespace facefuse::tasks {
namespace {

std::string_view as_text(std::span<const std::uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Cheap checks a worker would otherwise fail on later: format from bytes, size from header.
Result<image::ImageFormat> check_image(std::span<const std::uint8_t> bytes, const std::string& name,
                                       const image::DecodeLimits& limits) {
    if (bytes.empty()) return make_error(ErrorCode::kEmptyInput, name + " is empty (0 bytes): send an image file");
    if (bytes.size() > limits.max_bytes)
        return make_error(ErrorCode::kImageTooLarge, name + " is " + std::to_string(bytes.size()) +
                                                         " bytes; the limit is " + std::to_string(limits.max_bytes));
    const auto format = image::sniff_format(bytes);
    if (!format)
        return make_error(ErrorCode::kUnsupportedFormat,
                          name + " is not an image we accept: send JPEG, PNG, WebP or BMP");
    auto size = image::peek_dimensions(bytes, *format);
    if (!size) return Error{size.error().code, name + ": " + size.error().message};
    const std::int64_t pixels = static_cast<std::int64_t>(size->width) * size->height;
    if (pixels > limits.max_pixels || size->width > limits.max_side || size->height > limits.max_side)
        return make_error(ErrorCode::kImageTooLarge,
                          name + " is " + std::to_string(size->width) + "x" + std::to_string(size->height) +
                              "; the limit is " + std::to_string(limits.max_pixels) + " pixels");
    return *format;
}

bool expired(const Task& task, std::int64_t now) { return task.expires_at_ms > 0 && now >= task.expires_at_ms; }

}  // namespace

TaskService::TaskService(std::shared_ptr<TaskStore> store, std::shared_ptr<TaskQueue> queue,
                         std::shared_ptr<storage::BlobStore> blobs, ServiceConfig config)
    : store_(std::move(store)), queue_(std::move(queue)), blobs_(std::move(blobs)), config_(std::move(config)) {
    if (!config_.now_ms) config_.now_ms = unix_now_ms;
}

Result<Created> TaskService::submit(const SubmitRequest& request) {
    auto options = fusion::parse_job_options(request.options_json);
    if (!options) return options.error();
    const bool needs_source = std::any_of(options->processors.begin(), options->processors.end(),
                                          [](const std::string& p) { return p == "face_swapper"; });
    auto target_format = check_image(request.target, "target", config_.limits);
    if (!target_format) return target_format.error();
    std::optional<image::ImageFormat> source_format;
    if (needs_source || !request.source.empty()) {
        auto checked = check_image(request.source, "source", config_.limits);
        if (!checked) return checked.error();
        source_format = *checked;
    }

    if (request.max_queued > 0) {
        auto queued = store_->count_queued(request.tenant);
        if (!queued) return queued.error();
        if (*queued >= request.max_queued)
            return make_error(ErrorCode::kQuotaExceeded,
                              "tenant '" + request.tenant + "' has " + std::to_string(*queued) +
                                  " tasks queued, its quota: wait for some to finish, or ask for a larger quota");
    }

    const std::string canonical = fusion::to_json(*options);
    const std::int64_t now = config_.now_ms();
    Task task;
    task.id = new_task_id();
    task.tenant = request.tenant;
    task.kind = request.kind;
    task.priority = request.priority;
    task.max_attempts = config_.max_attempts;
    task.options_json = canonical;
    task.idempotency_key = request.idempotency_key;
    // Only an idempotent request is ever compared with another: hashing 100 KB images for every
    // other submit would be work for nothing.
    if (!request.idempotency_key.empty())
        task.request_hash = sha256_hex(request.kind + "\n" + std::string(priority_name(request.priority)) + "\n" +
                                       canonical + "\n" + sha256_hex(as_text(request.source)) + "\n" +
                                       sha256_hex(as_text(request.target)));
    task.created_at_ms = task.updated_at_ms = now;
    task.expires_at_ms = now + config_.task_ttl.count();
    task.target_key = storage::blob_key(task.tenant, task.id, "target", image::format_name(*target_format));
    if (source_format)
        task.source_key = storage::blob_key(task.tenant, task.id, "source", image::format_name(*source_format));

    // Inputs first: a record must never point at blobs that are not there. A replayed request
    // leaves its unused blobs to be overwritten never; they are removed right below.
    if (Status st = blobs_->put(task.target_key, request.target, image::content_type(*target_format)); !st) return st.error();
    if (!task.source_key.empty()) {
        if (Status st = blobs_->put(task.source_key, request.source, image::content_type(*source_format)); !st)
            return st.error();
    }
    auto created = store_->create(task, now + config_.idempotency_ttl.count());
    if (!created || created->replayed) {
        (void)blobs_->remove(task.target_key);
        if (!task.source_key.empty()) (void)blobs_->remove(task.source_key);
        return created;
    }
    // serve's and the cluster's stores queue the task inside create() (atomically: store.hpp).
    // A store built without its queue (the worker-pool test) leaves it to us.
    if (created->enqueued) return created;
    if (Status st = queue_->enqueue(task.id, task.priority, 0); !st) {
        // Not queued: the record must not linger as "queued" forever.
        (void)store_->transition(task.id, {TaskState::kQueued}, [&](Task& t) {
            t.state = TaskState::kFailed;
            t.error = TaskError{std::string(st.error().code_name()), st.error().message};
            t.finished_at_ms = config_.now_ms();
        });
        return st.error();
    }
    return created;
}

Result<Task> TaskService::get(const std::string& tenant, const std::string& id) {
    auto task = store_->get(tenant, id);
    if (!task) return task;
    if (expired(*task, config_.now_ms())) {
        for (const std::string* key : {&task->source_key, &task->target_key, &task->result_key})
            if (!key->empty()) (void)blobs_->remove(*key);
        return make_error(ErrorCode::kGone, "task " + id + " expired; its images were deleted");
    }
    return task;
}

Result<Task> TaskService::cancel(const std::string& tenant, const std::string& id) {
    auto task = get(tenant, id);
    if (!task) return task;
    if (is_terminal(task->state)) return task;
    auto cancelled = store_->transition(id, {TaskState::kQueued}, [&](Task& t) {
        t.state = TaskState::kCancelled;
        t.finished_at_ms = config_.now_ms();
    });
    if (cancelled) {
        (void)queue_->remove(id, task->priority);
        return cancelled;
    }
    // Already running (or just finished): ask the worker to stop at its next stage boundary.
    return store_->request_cancel(tenant, id);
}

namespace {

// kNotFinished while queued or running; kConflict (with the task's error) if it failed or was
// cancelled.
Status has_result(const Task& task) {
    const std::string& id = task.id;
    if (!is_terminal(task.state))
        return make_error(ErrorCode::kNotFinished, "task " + id + " is " + std::string(state_name(task.state)) +
                                                       ": poll GET /v1/tasks/" + id + " until it has succeeded");
    if (task.state != TaskState::kSucceeded) {
        const std::string why = task.error ? " (" + task.error->code + ": " + task.error->message + ")" : "";
        return make_error(ErrorCode::kConflict,
                          "task " + id + " " + std::string(state_name(task.state)) + " and has no result" + why);
    }
    return Status::Ok();
}

}  // namespace

Result<ResultBlob> TaskService::result(const std::string& tenant, const std::string& id) {
    auto task = get(tenant, id);
    if (!task) return task.error();
    if (Status ready = has_result(*task); !ready) return ready.error();
    auto bytes = blobs_->get(task->result_key);
    if (!bytes) return bytes.error();
    return ResultBlob{std::move(bytes.value()), task->result_content_type};
}

Result<TaskService::ResultUrl> TaskService::result_url(const std::string& tenant, const std::string& id,
                                                       std::chrono::seconds expires) {
    auto task = get(tenant, id);
    if (!task) return task.error();
    if (Status ready = has_result(*task); !ready) return ready.error();
    // Never beyond the task's own expiry: its blobs are deleted then.
    const std::int64_t now = config_.now_ms();
    const auto left = std::chrono::seconds((task->expires_at_ms - now) / 1000);
    if (task->expires_at_ms > 0 && left < expires) expires = std::max(left, std::chrono::seconds(1));
    auto url = blobs_->presign_get(task->result_key, expires);
    if (!url) return url.error();
    return ResultUrl{std::move(url.value()), now + expires.count() * 1000};
}

Result<Page> TaskService::list(const std::string& tenant, int limit, const std::string& cursor) {
    return store_->list(tenant, std::clamp(limit, 1, 100), cursor);
}

Result<Task> TaskService::wait(const std::string& tenant, const std::string& id, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::chrono::milliseconds interval(5);
    while (true) {
        auto task = get(tenant, id);
        if (!task || is_terminal(task->state) || std::chrono::steady_clock::now() >= deadline) return task;
        // Polling the store works across processes (gateway and workers share only Redis);
        // the interval grows to 100 ms so a long wait costs little.
        std::this_thread::sleep_for(std::min(interval, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                           deadline - std::chrono::steady_clock::now())));
        interval = std::min(interval * 2, std::chrono::milliseconds(100));
    }
}

Result<int> TaskService::expire_once() {
    // Records are kept one TTL past their expiry as tombstones (see the top of this file).
    auto gone = store_->expire(config_.now_ms() - config_.task_ttl.count(), 1000);
    if (!gone) return gone.error();
    for (const Task& t : *gone)
        for (const std::string* key : {&t.source_key, &t.target_key, &t.result_key})
            if (!key->empty()) (void)blobs_->remove(*key);
    return static_cast<int>(gone->size());
}

}  // namespace facefuse::tasks
