#pragma once
// WorkerPool: `slots` threads, each leasing one task at a time (no prefetch: a task waits in
// the queue, visible to every worker, until a slot is free), running its processors and
// storing the result. One heartbeat thread renews the leases held.
//
// Outcomes per task:
//   succeeded  result stored under its deterministic key, then the record, then ack
//   failed     permanent error (bad image, no face, bad options): at once, ack
//   retried    transient error (storage or queue unreachable, out of memory): back to queued
//              with exponential backoff + jitter, until max_attempts; then failed + dead letter
//   cancelled  cancel requested: checked at every stage boundary
//   abandoned  lease lost (we were too slow or partitioned): stop, write nothing
// A worker that dies mid-task loses its lease; the queue re-delivers the task elsewhere, and the
// deterministic result key makes the second run harmless.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "face/detector.hpp"
#include "face/landmarker.hpp"
#include "fusion/moderation/content_classifier.hpp"
#include "fusion/moderation/moderation.hpp"
#include "image/decode.hpp"
#include "image/provenance.hpp"
#include "storage/blob_store.hpp"
#include "tasks/queue.hpp"
#include "tasks/store.hpp"
#include "worker/source_face_cache.hpp"

namespace facefuse::worker {

// What happens to inputs and results besides processing (docs/content-policy.md).
struct ContentPolicy {
    // Moderation before any processing. A null classifier or mode off: nothing runs and the
    // task records no decision.
    std::shared_ptr<const fusion::moderation::ContentClassifier> classifier;
    fusion::moderation::ModerationMode moderation = fusion::moderation::ModerationMode::kOff;
    float moderation_threshold = fusion::moderation::kDefaultThreshold;
    // Provenance: the "AI-generated" marker in every result's metadata (empty text: none),
    // and an optional visible watermark.
    std::string provenance_text = std::string(image::kDefaultProvenanceText);
    std::string watermark;
};

struct WorkerConfig {
    std::string worker_id;  // unique per process; default host:pid
    int slots = 1;          // tasks run at once
    int batch_size = 1;     // micro-batching hook: leases up to this many per slot
    std::size_t source_face_cache_bytes =
        64u << 20;  // analysed source faces (source_face_cache.hpp); 0: none
    std::chrono::milliseconds lease_for{30'000};
    std::chrono::milliseconds poll_wait{500};  // how long one lease() call waits for work
    std::chrono::milliseconds backoff_base{1'000};
    std::chrono::milliseconds backoff_max{60'000};
    std::chrono::milliseconds drain_timeout{20'000};  // stop(): time for in-flight tasks
    image::DecodeLimits limits;
    face::DetectorOptions detector;
    ContentPolicy policy;
};

class WorkerPool {
  public:
    WorkerPool(std::shared_ptr<tasks::TaskStore> store, std::shared_ptr<tasks::TaskQueue> queue,
               std::shared_ptr<storage::BlobStore> blobs,
               std::shared_ptr<const face::LandmarkProvider> landmarker, WorkerConfig config);
    ~WorkerPool();  // stop()s

    void start();
    // Stops leasing, lets in-flight tasks finish for up to drain_timeout, then gives the rest
    // back to the queue (retry now) so another worker runs them. Idempotent.
    void stop();

    int busy() const { return busy_.load(); }

    // Hot reload: tasks leased from now on run on `landmarker` (already loaded and warmed up by
    // the caller); each slot switches between two tasks, so a task in flight finishes on the
    // model it started with, and the old model is freed when its last task ends.
    void use_landmarker(std::shared_ptr<const face::LandmarkProvider> landmarker);

    // Tasks a slot leases at once now: config's batch_size, halved after an out-of-memory
    // error (so the retry runs in a smaller batch), grown back by one per clean batch.
    int batch_size() const { return batch_size_.load(); }

    // Source faces this pool has analysed and kept (for tests and /metrics).
    std::size_t cached_source_faces() const { return source_faces_.size(); }

  private:
    struct Slot;
    void run_slot(Slot& slot);
    void heartbeat_loop();
    void process(Slot& slot, tasks::Lease& lease);
    void refresh_models(Slot& slot);
    void adapt_batch_size(bool out_of_memory, std::size_t leased);

    std::shared_ptr<tasks::TaskStore> store_;
    std::shared_ptr<tasks::TaskQueue> queue_;
    std::shared_ptr<storage::BlobStore> blobs_;
    WorkerConfig config_;
    std::shared_ptr<const face::LandmarkProvider> landmarker_;  // guarded by mutex_
    std::atomic<std::uint64_t> model_generation_{0};            // bumped by use_landmarker
    std::atomic<int> batch_size_{1};
    SourceFaceCache source_faces_;

    std::vector<std::unique_ptr<Slot>> slots_;
    std::vector<std::thread> threads_;
    std::thread heartbeat_;
    std::atomic<bool> stopping_{false};   // no new leases
    std::atomic<bool> releasing_{false};  // drain time is up: abandon in-flight work
    std::atomic<int> busy_{0};
    std::mutex mutex_;  // guards Slot::lease and heartbeat bookkeeping
    std::condition_variable stop_signal_;
};

}  // namespace facefuse::worker
