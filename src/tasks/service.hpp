#pragma once
// TaskService: what the API does, independent of HTTP and of which backends serve it.
//
// The HTTP frontend only translates requests into these calls and their Results into
// responses (Triton's split); the worker side lives in worker/. The service validates cheaply
// and early (format sniffed from bytes, dimensions from headers, options parsed) so a bad
// upload fails at submit with the right status instead of later in a worker, stores the
// inputs, creates the record (idempotently) and enqueues it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "image/decode.hpp"
#include "storage/blob_store.hpp"
#include "tasks/queue.hpp"
#include "tasks/store.hpp"

namespace facefuse::tasks {

struct ServiceConfig {
    image::DecodeLimits limits;                       // per input image
    std::chrono::milliseconds task_ttl = std::chrono::hours(24);         // record + blobs
    std::chrono::milliseconds idempotency_ttl = std::chrono::hours(24);
    int max_attempts = 3;
    std::function<std::int64_t()> now_ms;             // default: system clock
};

struct SubmitRequest {
    std::string tenant;
    std::string kind = "swap";
    Priority priority = Priority::kNormal;
    std::string idempotency_key;       // may be empty
    // The images, viewed where they already are (the HTTP request's body): submit() stores
    // them without a copy. They must outlive the call.
    std::span<const std::uint8_t> source;  // may be empty when no processor needs one
    std::span<const std::uint8_t> target;
    std::string options_json;          // may be empty
    // Per-tenant quota: tasks the tenant may have queued at once (0: none). Checked before the
    // inputs are stored; a burst of concurrent submits may overshoot it by a few.
    std::int64_t max_queued = 0;
};

struct ResultBlob {
    std::vector<std::uint8_t> bytes;
    std::string content_type;
};

class TaskService {
public:
    TaskService(std::shared_ptr<TaskStore> store, std::shared_ptr<TaskQueue> queue,
                std::shared_ptr<storage::BlobStore> blobs, ServiceConfig config);

    // Validates, stores inputs, creates and enqueues. Errors: kUsage (options), kEmptyInput,
    // kUnsupportedFormat, kImageTooLarge, kInvalidImage (header), kIdempotencyConflict,
    // kQuotaExceeded, kQueueFull, kUnavailable. A replayed idempotent request returns the first task.
    Result<Created> submit(const SubmitRequest& request);

    // kNotFound for a missing or another tenant's task; kGone once expired.
    Result<Task> get(const std::string& tenant, const std::string& id);

    // Queued: cancelled at once. Running: cancel requested, the worker stops at the next stage
    // boundary. Finished: returned as it is (cancel of a finished task changes nothing).
    Result<Task> cancel(const std::string& tenant, const std::string& id);

    // The result image. kNotFinished while queued or running; kConflict (with the task's error)
    // if it failed or was cancelled.
    Result<ResultBlob> result(const std::string& tenant, const std::string& id);

    // A short-lived URL of the result in the blob store (S3 only; at most 15 minutes), under the
    // same rules as result(). kUsage when the store has no such URLs or `expires` is too long.
    struct ResultUrl {
        std::string url;
        std::int64_t expires_at_ms = 0;
    };
    Result<ResultUrl> result_url(const std::string& tenant, const std::string& id, std::chrono::seconds expires);

    Result<Page> list(const std::string& tenant, int limit, const std::string& cursor);

    // Returns the task once it is finished or `timeout` has passed, whichever is first.
    Result<Task> wait(const std::string& tenant, const std::string& id, std::chrono::milliseconds timeout);

    // Deletes expired records and their blobs; returns how many. Call periodically.
    Result<int> expire_once();

    Result<std::int64_t> queue_depth(Priority priority) { return queue_->depth(priority); }
    const ServiceConfig& config() const { return config_; }

private:
    std::shared_ptr<TaskStore> store_;
    std::shared_ptr<TaskQueue> queue_;
    std::shared_ptr<storage::BlobStore> blobs_;
    ServiceConfig config_;
};

}  // namespace facefuse::tasks
