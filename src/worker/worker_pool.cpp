// Threads and leases of the worker pool; what happens to one task is in task_runner.cpp.
#include "worker/worker_pool.hpp"

#include <pthread.h>
#include <unistd.h>

#include "obs/log.hpp"
#include "worker/slot.hpp"

namespace facefuse::worker {

WorkerPool::WorkerPool(std::shared_ptr<tasks::TaskStore> store,
                       std::shared_ptr<tasks::TaskQueue> queue,
                       std::shared_ptr<storage::BlobStore> blobs,
                       std::shared_ptr<const face::LandmarkProvider> landmarker,
                       WorkerConfig config)
    : store_(std::move(store)),
      queue_(std::move(queue)),
      blobs_(std::move(blobs)),
      config_(std::move(config)),
      landmarker_(std::move(landmarker)),
      source_faces_(config_.source_face_cache_bytes) {
    if (config_.worker_id.empty()) {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        config_.worker_id = std::string(host) + ":" + std::to_string(::getpid());
    }
    config_.slots = std::max(1, config_.slots);
    config_.batch_size = std::max(1, config_.batch_size);
    batch_size_ = config_.batch_size;
}

WorkerPool::~WorkerPool() {
    stop();
}

void WorkerPool::start() {
    for (int i = 0; i < config_.slots; ++i) {
        slots_.push_back(std::make_unique<Slot>(landmarker_, config_.detector));
    }
    for (auto& slot : slots_) threads_.emplace_back([this, s = slot.get()] { run_slot(*s); });
    heartbeat_ = std::thread([this] { heartbeat_loop(); });
    obs::log_info("worker_started", {{"worker_id", config_.worker_id}, {"slots", config_.slots}});
}

void WorkerPool::stop() {
    if (threads_.empty()) return;
    stopping_ = true;
    stop_signal_.notify_all();
    // Give in-flight tasks their drain time, then tell them to give their work back.
    const auto deadline = std::chrono::steady_clock::now() + config_.drain_timeout;
    while (busy_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::unique_lock lock(mutex_);
        stop_signal_.wait_for(lock, std::chrono::milliseconds(50));
    }
    releasing_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
    stop_signal_.notify_all();
    if (heartbeat_.joinable()) heartbeat_.join();
    obs::log_info("worker_stopped", {{"worker_id", config_.worker_id}});
}

void WorkerPool::use_landmarker(std::shared_ptr<const face::LandmarkProvider> landmarker) {
    {
        std::lock_guard lock(mutex_);
        landmarker_ = std::move(landmarker);
    }
    ++model_generation_;
}

void WorkerPool::refresh_models(Slot& slot) {
    const std::uint64_t generation = model_generation_.load();
    if (slot.model_generation == generation) return;
    std::shared_ptr<const face::LandmarkProvider> landmarker;
    {
        std::lock_guard lock(mutex_);
        landmarker = landmarker_;
    }
    // A new analyser (its own detector, the shared new landmarker); the old one, and with the
    // last of them the old model, is freed here, after its last task.
    slot.analyser = std::make_unique<face::FaceAnalyser>(std::move(landmarker), config_.detector);
    slot.model_generation = generation;
}

void WorkerPool::run_slot(Slot& slot) {
    // Named so `top -H`, perf and gdb tell the worker slots from the HTTP threads.
    pthread_setname_np(pthread_self(), "ff-worker");
    while (!stopping_) {
        auto leases = queue_->lease(config_.worker_id, batch_size_.load(), config_.lease_for,
                                    config_.poll_wait);
        if (!leases) {
            obs::log_warn("lease_failed",
                          {{"worker_id", config_.worker_id}, {"error", leases.error().message}});
            std::unique_lock lock(mutex_);
            stop_signal_.wait_for(lock, config_.poll_wait);  // backend down: do not spin
            continue;
        }
        // Micro-batching hook: a slot may hold up to batch_size leases; stages that batch
        // (model-backed ones, later) would run across them. Today they run one after another.
        refresh_models(slot);
        bool out_of_memory = false;
        for (tasks::Lease& lease : *leases) {
            {
                std::lock_guard lock(mutex_);
                slot.lease = lease;
                slot.lease_lost = false;
            }
            ++busy_;
            slot.out_of_memory = false;
            process(slot, lease);
            out_of_memory = out_of_memory || slot.out_of_memory;
            --busy_;
            {
                std::lock_guard lock(mutex_);
                slot.lease.reset();
            }
            stop_signal_.notify_all();
        }
        adapt_batch_size(out_of_memory, leases->size());
    }
}

void WorkerPool::adapt_batch_size(bool out_of_memory, std::size_t leased) {
    // An accelerator out of memory: the tasks went back to the queue with a backoff (transient
    // errors), and the next leases are half as many, so the retry runs in a smaller batch. A
    // full batch without such an error grows it back by one, up to the configured size.
    int current = batch_size_.load();
    if (out_of_memory) {
        const int smaller = std::max(1, current / 2);
        if (batch_size_.compare_exchange_strong(current, smaller) && smaller != current)
            obs::log_warn("batch_size_reduced",
                          {{"worker_id", config_.worker_id}, {"batch_size", smaller}});
    } else if (leased > 0 && static_cast<int>(leased) >= current && current < config_.batch_size) {
        batch_size_.compare_exchange_strong(current, current + 1);
    }
}

void WorkerPool::heartbeat_loop() {
    const auto interval = std::max(config_.lease_for / 3, std::chrono::milliseconds(10));
    std::unique_lock lock(mutex_);
    auto next_beat = std::chrono::steady_clock::now() + interval;
    while (!(stopping_ && releasing_)) {
        // stop_signal_ is also notified after every task: wake-ups before the beat is due only
        // re-check for shutdown (renewing every lease after every task was a write per task).
        stop_signal_.wait_until(lock, next_beat);
        if (std::chrono::steady_clock::now() < next_beat) continue;
        next_beat = std::chrono::steady_clock::now() + interval;
        for (auto& slot : slots_) {
            if (!slot->lease) continue;
            tasks::Lease lease = *slot->lease;
            lock.unlock();  // never hold the pool's lock across a backend call
            const Status st = queue_->heartbeat(lease, config_.lease_for);
            lock.lock();
            if (!slot->lease || slot->lease->token != lease.token) continue;
            if (st) {
                slot->lease = lease;
            } else if (st.error().code == ErrorCode::kLeaseLost) {
                slot->lease_lost = true;
                obs::log_warn("lease_lost",
                              {{"task_id", lease.task_id}, {"worker_id", config_.worker_id}});
            }
        }
    }
}

}  // namespace facefuse::worker
