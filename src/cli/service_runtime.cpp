#include "cli/service_runtime.hpp"

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "build_info.hpp"
#include "cli/duration.hpp"
#include "face/analyser.hpp"
#include "http/api.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace facefuse::cli {

void ServiceFlags::add_to(CLI::App& c) {
    c.add_option("--queue-max", queue_max, "waiting tasks per priority before submits get 429")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}))
        ->envname("FACEFUSE_QUEUE_MAX")
        ->capture_default_str();
    c.add_option("--task-ttl", task_ttl, "how long tasks and their images are kept (then 410)")
        ->check(duration_validator())
        ->envname("FACEFUSE_TASK_TTL")
        ->capture_default_str();
    c.add_option("--lease", lease, "worker lease; a task whose worker died runs again after it")
        ->check(duration_validator())
        ->envname("FACEFUSE_LEASE")
        ->capture_default_str();
    c.add_option("--max-attempts", max_attempts,
                 "runs of a task before transient errors fail it (fixed per task at submit)")
        ->check(CLI::Range(1, 100))
        ->envname("FACEFUSE_MAX_ATTEMPTS")
        ->capture_default_str();
    c.add_option("--max-wait", max_wait_seconds, "cap in seconds of the ?wait= of POST /v1/swaps")
        ->check(CLI::Range(0, 300))
        ->envname("FACEFUSE_MAX_WAIT")
        ->capture_default_str();
    c.add_option("--max-connections", max_connections, "concurrent HTTP connections (beyond: 503)")
        ->check(CLI::Range(1, 10000))
        ->envname("FACEFUSE_MAX_CONNECTIONS")
        ->capture_default_str();
    c.add_option("--batch-size", batch_size,
                 "tasks a worker slot leases at once, for stages that run across a batch (1: none)")
        ->check(CLI::Range(1, 64))
        ->envname("FACEFUSE_BATCH_SIZE")
        ->capture_default_str();
    c.add_option("--source-face-cache", source_face_cache_mib,
                 "MiB for source faces a worker keeps analysed, with the pixels around them, by "
                 "tenant and image checksum, for tasks that bring the same source again; an entry "
                 "is about 0.2-1 MiB (0: decode and analyse every source)")
        ->check(CLI::Range(0, 65536))
        ->type_name("MIB")
        ->envname("FACEFUSE_SOURCE_FACE_CACHE")
        ->capture_default_str();
    c.add_option("--drain-timeout", drain_timeout, "on SIGTERM, time for running tasks to finish")
        ->check(duration_validator())
        ->envname("FACEFUSE_DRAIN_TIMEOUT")
        ->capture_default_str();
}

Result<std::pair<std::string, int>> parse_listen(const std::string& listen) {
    const size_t colon = listen.rfind(':');
    int port = -1;
    if (colon != std::string::npos) {
        try {
            port = std::stoi(listen.substr(colon + 1));
        } catch (const std::exception&) {
            port = -1;
        }
    }
    if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535)
        return make_error(ErrorCode::kUsage,
                          "--listen '" + listen + "': use HOST:PORT, e.g. 127.0.0.1:8080");
    return std::make_pair(listen.substr(0, colon), port);
}

Runtime::Runtime(ServiceFlags flags, EngineFlags engine)
    : flags_(std::move(flags)), engine_(std::move(engine)) {
    obs::Registry::global()
        .gauge("facefuse_build_info", "Build information", {"version"})
        .labels({build::kVersion})
        .set(1);
}

Runtime::~Runtime() {
    shutdown();
}

namespace {

struct ModelMetrics {
    obs::Family<obs::Gauge>& info = obs::Registry::global().gauge(
        "facefuse_model_info", "Models by name and version: 1 serves now, 0 served before a reload",
        {"name", "version"});
    obs::Family<obs::Counter>& reloads = obs::Registry::global().counter(
        "facefuse_model_reloads_total", "Model reloads that swapped new models in");
    obs::Family<obs::Counter>& reload_failures = obs::Registry::global().counter(
        "facefuse_model_reload_failures_total",
        "Model reloads that failed; the previous models kept serving");
};

ModelMetrics& model_metrics() {
    static ModelMetrics m;
    return m;
}

// One inference of each model on a synthetic face-like frame: the detector on the frame, the
// landmark model on a box at its centre. Points that are not finite mean a model that loaded
// but cannot infer.
Status warm_up(const std::shared_ptr<const face::LandmarkProvider>& landmarker,
               const face::DetectorOptions& options) {
    cv::Mat frame(256, 256, CV_8UC3, cv::Scalar(128, 128, 128));
    cv::circle(frame, {128, 128}, 60, cv::Scalar(180, 170, 160), cv::FILLED);
    face::FaceAnalyser analyser(landmarker, options);
    (void)analyser.analyse(frame);
    cv::Mat gray;
    cv::cvtColor(frame, gray, cv::COLOR_BGR2GRAY);
    const face::Landmarks68 points = landmarker->locate(gray, cv::Rect2f(68, 68, 120, 120));
    for (const cv::Point2f& p : points) {
        if (!std::isfinite(p.x) || !std::isfinite(p.y))
            return make_error(ErrorCode::kModelUnavailable,
                              "model '" + landmarker->spec().name +
                                  "' failed its warm-up inference (non-finite points)");
    }
    return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<const face::LandmarkProvider>> Runtime::load_warm_landmarker() const {
    auto landmarker = engine_.load_landmarker();
    if (!landmarker) return landmarker.error();
    if (Status st = warm_up(*landmarker, engine_.detector_options()); !st) return st.error();
    return landmarker;
}

void Runtime::publish_serving(const models::ModelSpec& spec) {
    auto& info = model_metrics().info;
    if (landmarker_) info.labels({landmarker_->spec().name, landmarker_->spec().version}).set(0);
    info.labels({spec.name, spec.version}).set(1);
}

Status Runtime::load_models() {
    std::lock_guard lock(reload_mutex_);
    auto landmarker = load_warm_landmarker();
    if (!landmarker) return landmarker.error();
    const auto& spec = (*landmarker)->spec();
    publish_serving(spec);
    (void)model_metrics().reloads.get();  // exposed as 0 from the first scrape
    (void)model_metrics().reload_failures.get();
    landmarker_ = std::move(landmarker.value());
    obs::log_info("model_loaded", {{"name", spec.name},
                                   {"version", spec.version},
                                   {"path", spec.path.string()},
                                   {"sha256", spec.sha256}});
    ready_ = true;
    return Status::Ok();
}

Result<models::ModelSpec> Runtime::reload_models() {
    std::lock_guard lock(reload_mutex_);
    if (!landmarker_)
        return make_error(ErrorCode::kModelUnavailable,
                          "models are still loading: try again later");
    const models::ModelSpec old = landmarker_->spec();
    auto landmarker = load_warm_landmarker();
    if (!landmarker) {
        model_metrics().reload_failures.get().inc();
        obs::log_error("model_reload_failed", {{"error", landmarker.error().message},
                                               {"serving", old.name},
                                               {"version", old.version}});
        return make_error(landmarker.error().code, landmarker.error().message +
                                                       " (the previous model " + old.name + " " +
                                                       old.version + " keeps serving)");
    }
    const models::ModelSpec spec = (*landmarker)->spec();
    if (workers_) workers_->use_landmarker(*landmarker);
    publish_serving(spec);
    landmarker_ = std::move(landmarker.value());
    model_metrics().reloads.get().inc();
    obs::log_info("model_reloaded", {{"name", spec.name},
                                     {"version", spec.version},
                                     {"previous", old.version},
                                     {"sha256", spec.sha256}});
    return spec;
}

bool Runtime::serves_models() {
    std::lock_guard lock(reload_mutex_);
    return landmarker_ != nullptr;
}

int Runtime::wait_for_stop(SignalWait& signals) {
    for (;;) {
        const int received = signals.wait();
        if (received != SIGHUP) return received;
        if (!serves_models()) {
            obs::log_info("sighup_ignored", {{"reason", "this process serves no models"}});
            continue;
        }
        (void)reload_models();  // logged and counted either way
    }
}

void Runtime::start_workers(std::shared_ptr<tasks::TaskStore> store,
                            std::shared_ptr<tasks::TaskQueue> queue,
                            std::shared_ptr<storage::BlobStore> blobs, int slots) {
    worker::WorkerConfig config;
    config.slots = slots;
    config.batch_size = flags_.batch_size;
    config.source_face_cache_bytes = static_cast<std::size_t>(flags_.source_face_cache_mib) << 20;
    config.lease_for = *parse_duration(flags_.lease);
    config.drain_timeout = *parse_duration(flags_.drain_timeout);
    config.limits = engine_.limits;
    config.policy = policy_;
    config.detector = engine_.detector_options();
    std::shared_ptr<const face::LandmarkProvider> landmarker;
    {
        std::lock_guard lock(reload_mutex_);
        landmarker = landmarker_;
    }
    workers_ = std::make_unique<worker::WorkerPool>(std::move(store), std::move(queue),
                                                    std::move(blobs), landmarker, config);
    workers_->start();
}

Status Runtime::start_http(const std::pair<std::string, int>& endpoint,
                           std::shared_ptr<tasks::TaskStore> store,
                           std::shared_ptr<tasks::TaskQueue> queue,
                           std::shared_ptr<storage::BlobStore> blobs, bool ops_only) {
    tasks::ServiceConfig config;
    config.limits = engine_.limits;
    config.task_ttl = *parse_duration(flags_.task_ttl);
    config.max_attempts = flags_.max_attempts;
    service_ = std::make_shared<tasks::TaskService>(std::move(store), std::move(queue),
                                                    std::move(blobs), config);

    http::ApiConfig api;
    api.max_wait_seconds = flags_.max_wait_seconds;
    api.ops_only = ops_only;
    api.access = access_;
    // Without auth, or on a worker's ops-only port, /metrics is as open as the rest.
    api.metrics_public = ops_only || !access_ || !access_->auth_enabled();
    api.ready = [this] { return ready_.load() && !draining_.load(); };
    api.draining = [this] { return draining_.load(); };
    if (!ops_only && serves_models()) {
        api.reload_models = [this]() -> Result<nlohmann::json> {
            auto spec = reload_models();
            if (!spec) return spec.error();
            return nlohmann::json{{"models",
                                   {{{"name", spec->name},
                                     {"version", spec->version},
                                     {"kind", spec->kind},
                                     {"sha256", spec->sha256},
                                     {"license", spec->license}}}}};
        };
    }
    api.before_scrape = [this] {
        auto& depth = obs::Registry::global().gauge("facefuse_queue_depth",
                                                    "Tasks waiting, by priority", {"priority"});
        for (auto p : {tasks::Priority::kVip, tasks::Priority::kNormal, tasks::Priority::kBatch}) {
            if (auto d = service_->queue_depth(p))
                depth.labels({std::string(tasks::priority_name(p))}).set(static_cast<double>(*d));
        }
        obs::Registry::global()
            .gauge("facefuse_workers_busy", "Worker slots running a task")
            .get()
            .set(workers_ ? workers_->busy() : 0);
    };
    http::ServerConfig server;
    server.host = endpoint.first;
    server.port = endpoint.second;
    server.max_connections = flags_.max_connections;
    server.max_body_bytes = 2 * engine_.limits.max_bytes + (1u << 20);
    server_ = std::make_unique<http::Server>(server, http::make_api(service_, api));
    if (Status st = server_->start(); !st) return st;
    metrics_api_ = api;

    // Expiry sweeper: once a minute, and promptly on shutdown.
    sweeper_ = std::thread([this] {
        std::unique_lock lock(sweeper_mutex_);
        while (!draining_) {
            lock.unlock();
            if (auto n = service_->expire_once(); n && *n > 0)
                obs::log_info("tasks_expired", {{"count", *n}});
            lock.lock();
            sweeper_wake_.wait_for(lock, std::chrono::minutes(1),
                                   [this] { return draining_.load(); });
        }
    });
    return Status::Ok();
}

Status Runtime::start_metrics_http(const std::pair<std::string, int>& endpoint) {
    http::ApiConfig api = metrics_api_;
    api.ops_only = true;
    api.metrics_public = true;
    http::ServerConfig server;
    server.host = endpoint.first;
    server.port = endpoint.second;
    server.max_connections = 16;  // Prometheus and probes, not clients
    metrics_server_ = std::make_unique<http::Server>(server, http::make_api(service_, api));
    return metrics_server_->start();
}

void Runtime::shutdown() {
    if (draining_.exchange(true)) return;
    sweeper_wake_.notify_all();
    if (server_) server_->stop();
    if (metrics_server_) metrics_server_->stop();
    if (workers_) workers_->stop();
    if (sweeper_.joinable()) sweeper_.join();
}

}  // namespace facefuse::cli
