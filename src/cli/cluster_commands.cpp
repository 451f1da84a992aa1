// facefuse gateway / facefuse worker: the cluster roles. Both share their state only through
// Redis (queue on Streams, task records) and an S3-compatible store (images), so any number of
// each can run on any hosts. The gateway serves the API; workers lease and run tasks.
#include <iostream>
#include <memory>
#include <thread>

#include "build_info.hpp"
#include "cli/access_flags.hpp"
#include "cli/commands.hpp"
#include "cli/duration.hpp"
#include "cli/engine_flags.hpp"
#include "cli/policy_flags.hpp"
#include "cli/s3_flags.hpp"
#include "cli/service_runtime.hpp"
#include "obs/log.hpp"
#include "storage/s3/s3_blob_store.hpp"
#include "http/ratelimit/redis_rate_limiter.hpp"
#include "tasks/redis/redis_client.hpp"
#include "tasks/redis/redis_store.hpp"
#include "tasks/redis/streams_queue.hpp"

namespace facefuse::cli {
namespace {

struct ClusterFlags {
    std::string redis = "redis://127.0.0.1:6379/0";
    S3Flags s3;

    void add_to(CLI::App& c) {
        c.add_option("--redis", redis, "Redis URL redis://[:password@]host:port/db (password: prefer FACEFUSE_REDIS)")
            ->envname("FACEFUSE_REDIS")
            ->capture_default_str();
        s3.add_to(c);
    }

    struct Backends {
        std::shared_ptr<tasks::TaskStore> store;
        std::shared_ptr<tasks::TaskQueue> queue;
        std::shared_ptr<storage::BlobStore> blobs;
        std::shared_ptr<tasks::redis::RedisClient> redis;  // also the gateways' shared rate limits
    };

    Result<Backends> open(const ServiceFlags& service, int redis_connections) const {
        const std::int64_t queue_max = service.queue_max;
        tasks::redis::RedisOptions options;
        options.url = redis;
        options.pool_size = redis_connections;
        auto client = tasks::redis::RedisClient::open(options);
        if (!client) return client.error();
        tasks::redis::RedisQueueOptions queue_options;
        queue_options.max_depth = queue_max;
        auto blobs = storage::make_s3_blob_store(s3.options());
        if (!blobs) return blobs.error();
        // Expired tasks stay as tombstones for one more TTL (410, then 404): Redis must keep a
        // record longer than that, or the blob keys of a record it dropped would be lost.
        tasks::redis::RedisStoreOptions store_options;
        store_options.ttl_grace = 2 * *parse_duration(service.task_ttl) + std::chrono::hours(1);
        auto queue = std::make_shared<tasks::redis::RedisTaskQueue>(*client, queue_options);
        // Built with its queue, the store's create() enqueues in the same script.
        return Backends{
            std::make_shared<tasks::redis::RedisTaskStore>(*client, store_options, queue), queue,
            std::shared_ptr<storage::BlobStore>(std::move(blobs.value())), *client};
    }
};

struct GatewayCommand {
    std::string listen = "127.0.0.1:8080";
    ClusterFlags cluster;
    ServiceFlags service;
    AccessFlags access;
    EngineFlags engine;  // only the input limits matter here

    int run() {
        SignalWait signals;
        auto endpoint = parse_listen(listen);
        if (!endpoint) return report(endpoint.error());
        auto backends = cluster.open(service, service.max_connections + 4);
        if (!backends) return report(backends.error());
        // Token buckets in Redis: a tenant's limit holds across all gateways together.
        auto guard = access.build(endpoint->first, std::make_shared<http::ratelimit::RedisRateLimiter>(backends->redis));
        if (!guard) return report(guard.error());
        Runtime runtime(service, engine);
        runtime.set_access(*guard);
        if (Status st = runtime.start_http(*endpoint, backends->store, backends->queue, backends->blobs); !st)
            return report(st.error());
        if (!access.metrics_listen.empty()) {
            auto metrics_endpoint = parse_listen(access.metrics_listen);
            if (!metrics_endpoint) return report(make_error(ErrorCode::kUsage, "--metrics-listen: " + metrics_endpoint.error().message));
            if (Status st = runtime.start_metrics_http(*metrics_endpoint); !st) return report(st.error());
        }
        runtime.mark_ready();
        obs::log_info("gateway_started", {{"listen", listen}, {"port", runtime.port()}, {"version", build::kVersion}});
        std::cerr << "facefuse: gateway on http://" << endpoint->first << ":" << runtime.port() << "\n";
        obs::log_info("shutdown_started", {{"signal", runtime.wait_for_stop(signals)}});
        runtime.shutdown();
        return 0;
    }
};

struct WorkerCommand {
    std::string listen = "127.0.0.1:9090";
    int concurrency = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    ClusterFlags cluster;
    ServiceFlags service;
    PolicyFlags policy;
    EngineFlags engine;

    int run() {
        SignalWait signals;
        auto endpoint = parse_listen(listen);
        if (!endpoint) return report(endpoint.error());
        auto content_policy = policy.build();
        if (!content_policy) return report(content_policy.error());
        auto backends = cluster.open(service, concurrency * 2 + 4);
        if (!backends) return report(backends.error());
        Runtime runtime(service, engine);
        runtime.set_content_policy(std::move(content_policy.value()));
        if (Status st = runtime.load_models(); !st) return report(st.error());
        runtime.start_workers(backends->store, backends->queue, backends->blobs, concurrency);
        if (Status st = runtime.start_http(*endpoint, backends->store, backends->queue, backends->blobs, true); !st)
            return report(st.error());
        obs::log_info("worker_ready", {{"listen", listen}, {"port", runtime.port()}, {"concurrency", concurrency}});
        obs::log_info("shutdown_started", {{"signal", runtime.wait_for_stop(signals)}});
        runtime.shutdown();
        return 0;
    }
};

}  // namespace

void add_cluster_commands(CLI::App& app, CommandRun& run) {
    auto gateway = std::make_shared<GatewayCommand>();
    CLI::App* g = app.add_subcommand("gateway", "Serve the HTTP API on Redis + S3 (cluster shape)");
    g->footer("Example:\n  AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... facefuse gateway --listen 0.0.0.0:8080 \\\n"
              "      --redis redis://redis:6379/0 --s3-endpoint http://minio:9000 --s3-bucket facefuse");
    g->add_option("--listen", gateway->listen, "HOST:PORT to bind")->envname("FACEFUSE_LISTEN")->capture_default_str();
    gateway->cluster.add_to(*g);
    gateway->service.add_to(*g);
    gateway->access.add_to(*g);
    gateway->engine.add_to(*g);
    g->callback([gateway, &run] { run = [gateway] { return gateway->run(); }; });

    auto worker = std::make_shared<WorkerCommand>();
    CLI::App* w = app.add_subcommand("worker", "Run tasks from Redis + S3 (cluster shape)");
    w->footer("Serves /healthz, /readyz and /metrics on --listen for probes and Prometheus.");
    w->add_option("--listen", worker->listen, "HOST:PORT for health and metrics")
        ->envname("FACEFUSE_LISTEN")
        ->capture_default_str();
    w->add_option("--concurrency", worker->concurrency, "tasks run at once (default: CPU cores)")
        ->check(CLI::Range(1, 256))
        ->envname("FACEFUSE_CONCURRENCY")
        ->capture_default_str();
    worker->cluster.add_to(*w);
    worker->service.add_to(*w);
    worker->policy.add_to(*w);
    worker->engine.add_to(*w);
    w->callback([worker, &run] { run = [worker] { return worker->run(); }; });
}

}  // namespace facefuse::cli
