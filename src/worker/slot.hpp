#pragma once
// One worker slot's private state: its own face analyser (dlib's detector is not thread-safe;
// the landmark model is shared) and the lease it holds.
#include <atomic>
#include <optional>

#include "face/analyser.hpp"
#include "worker/worker_pool.hpp"
#include "tasks/queue.hpp"

namespace facefuse::worker {

struct WorkerPool::Slot {
    Slot(std::shared_ptr<const face::LandmarkProvider> landmarker, face::DetectorOptions options)
        : analyser(std::move(landmarker), options) {}
    face::FaceAnalyser analyser;
    std::optional<tasks::Lease> lease;  // guarded by WorkerPool::mutex_
    std::atomic<bool> lease_lost{false};
};

}  // namespace facefuse::worker
