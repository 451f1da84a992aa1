#pragma once
// One worker slot's private state: its own face analyser (dlib's detector is not thread-safe;
// the landmark model is shared) and the lease it holds.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "face/analyser.hpp"
#include "worker/worker_pool.hpp"
#include "tasks/queue.hpp"

namespace facefuse::worker {

struct WorkerPool::Slot {
    Slot(std::shared_ptr<const face::LandmarkProvider> landmarker, face::DetectorOptions options)
        : analyser(std::make_unique<face::FaceAnalyser>(std::move(landmarker), options)) {}
    std::unique_ptr<face::FaceAnalyser> analyser;  // rebuilt between tasks on a model reload
    std::uint64_t model_generation = 0;            // of the pool's landmarker the analyser uses
    bool out_of_memory = false;                    // the last task ended in kOutOfMemory
    std::optional<tasks::Lease> lease;  // guarded by WorkerPool::mutex_
    std::atomic<bool> lease_lost{false};
};

}  // namespace facefuse::worker
