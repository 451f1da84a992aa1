#pragma once
// The parts every service shape runs: models (loaded and warmed up before /readyz says ready),
// the worker pool, the HTTP API, the expiry sweeper and the gauges Prometheus reads. `serve`
// runs all of them on SQLite + a local folder; `gateway` runs the API, `worker` the pool, on
// Redis + S3. Shutdown order matters: stop taking requests, drain the workers, then exit.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "cli/engine_flags.hpp"
#include "face/landmarker.hpp"
#include "http/access.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "models/model_spec.hpp"
#include "storage/blob_store.hpp"
#include "tasks/queue.hpp"
#include "tasks/service.hpp"
#include "tasks/store.hpp"
#include "worker/worker_pool.hpp"

namespace facefuse::cli {

struct ServiceFlags {
    std::int64_t queue_max = 10000;  // waiting tasks per priority before 429
    std::string task_ttl = "24h";    // results and records
    std::string lease = "30s";       // worker lease (heartbeats at a third of it)
    int max_attempts = 3;
    int max_wait_seconds = 30;  // cap of ?wait=
    int max_connections = 256;
    std::string drain_timeout = "20s";
    int batch_size = 1;              // micro-batching hook: leases per worker slot
    int source_face_cache_mib = 64;  // memory for the source faces a worker keeps (0: none)

    void add_to(CLI::App& command);
};

// Blocks SIGTERM/SIGINT/SIGHUP in every thread started after it, then waits for one.
// Construct it before starting any thread: threads inherit the blocked mask, so the signal
// reaches only wait().
class SignalWait {
  public:
    SignalWait() {
        sigemptyset(&set_);
        sigaddset(&set_, SIGTERM);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGHUP);  // reload models; never the default "terminate"
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    }
    int wait() {
        int received = 0;
        sigwait(&set_, &received);
        return received;
    }

  private:
    sigset_t set_;
};

// "HOST:PORT" -> (host, port). kUsage naming --listen.
Result<std::pair<std::string, int>> parse_listen(const std::string& listen);

class Runtime {
  public:
    Runtime(ServiceFlags flags, EngineFlags engine);
    ~Runtime();

    // Loads the manifest's landmark model, verifies its checksum and warms it up (one detection
    // and one landmark inference on a synthetic image, so the first real task does not pay for
    // cold code paths and a model that loads but cannot infer is caught). Until it succeeds
    // /readyz says not ready. kModelUnavailable, kUsage or kFileNotFound on failure.
    Status load_models();
    // Hot reload (SIGHUP, POST /v1/admin/models/reload): reads the manifest again, loads and
    // warms the new models beside the old, then swaps them into the workers; tasks in flight
    // finish on the old ones. On failure the old models keep serving and
    // facefuse_model_reload_failures_total goes up. Returns what serves afterwards.
    Result<models::ModelSpec> reload_models();
    // Handles SIGHUP (reload) until SIGTERM or SIGINT arrives; returns that signal.
    int wait_for_stop(SignalWait& signals);
    void start_workers(std::shared_ptr<tasks::TaskStore> store,
                       std::shared_ptr<tasks::TaskQueue> queue,
                       std::shared_ptr<storage::BlobStore> blobs, int slots);
    // ops_only: a worker's endpoint (health, readiness, metrics) without the task API.
    Status start_http(const std::pair<std::string, int>& endpoint,
                      std::shared_ptr<tasks::TaskStore> store,
                      std::shared_ptr<tasks::TaskQueue> queue,
                      std::shared_ptr<storage::BlobStore> blobs, bool ops_only = false);
    // Authentication, rate limits and audit for the API started by start_http (before it).
    // Without: --auth none, no limits (the worker's ops-only endpoint).
    void set_access(std::shared_ptr<const http::Access> access) { access_ = std::move(access); }
    // Moderation, provenance and watermark for the workers started by start_workers (before it).
    void set_content_policy(worker::ContentPolicy policy) { policy_ = std::move(policy); }
    // A second endpoint with /healthz, /readyz and /metrics only, no token needed (after
    // start_http): Prometheus scrapes it while the API port demands tokens.
    Status start_metrics_http(const std::pair<std::string, int>& endpoint);
    int metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }
    // For roles without models (the gateway): ready once its backends answered.
    void mark_ready() { ready_ = true; }
    int port() const { return server_ ? server_->port() : 0; }

    // Refuses new submits, stops the HTTP server (requests in flight finish), drains the
    // workers within the drain timeout, stops the sweeper.
    void shutdown();

  private:
    ServiceFlags flags_;
    EngineFlags engine_;
    // Loads, verifies and warms up the landmark model the flags name.
    Result<std::shared_ptr<const face::LandmarkProvider>> load_warm_landmarker() const;
    void publish_serving(const models::ModelSpec& spec);
    bool serves_models();

    std::shared_ptr<const face::LandmarkProvider> landmarker_;  // guarded by reload_mutex_
    std::mutex reload_mutex_;                                   // one load or reload at a time
    std::unique_ptr<worker::WorkerPool> workers_;
    std::shared_ptr<tasks::TaskService> service_;
    std::unique_ptr<http::Server> server_;
    std::unique_ptr<http::Server> metrics_server_;
    std::shared_ptr<const http::Access> access_;
    worker::ContentPolicy policy_;
    http::ApiConfig metrics_api_;  // the API's settings, for the metrics endpoint
    std::atomic<bool> ready_{false};
    std::atomic<bool> draining_{false};
    std::thread sweeper_;
    std::mutex sweeper_mutex_;
    std::condition_variable sweeper_wake_;
};

}  // namespace facefuse::cli
