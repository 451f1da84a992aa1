// facefuse serve: the embedded shape. One process: the HTTP API, a worker pool, a durable
// queue and task table in SQLite (WAL), images in segment files (cli/embedded_blob_store.hpp).
// Restarting it loses nothing: queued tasks run after restart, and tasks that were running are
// run again (their leases are released at start-up, since the only process that could hold
// them is the dead one).
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "build_info.hpp"
#include "cli/access_flags.hpp"
#include "cli/commands.hpp"
#include "cli/duration.hpp"
#include "cli/embedded_blob_store.hpp"
#include "cli/engine_flags.hpp"
#include "cli/policy_flags.hpp"
#include "cli/service_runtime.hpp"
#include "http/ratelimit/memory_rate_limiter.hpp"
#include "obs/log.hpp"
#include "tasks/sqlite/sqlite_backend.hpp"

namespace facefuse::cli {
namespace {

struct ServeCommand {
    std::string listen = "127.0.0.1:8080";
    std::string data_dir = "./facefuse-data";
    int workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::string blob_store = "auto";
    ServiceFlags service;
    AccessFlags access;
    PolicyFlags policy;
    EngineFlags engine;

    int run() {
        SignalWait signals;

        auto endpoint = parse_listen(listen);
        if (!endpoint) return report(endpoint.error());
        // One process: the token buckets live in its memory.
        auto guard = access.build(endpoint->first, std::make_shared<http::ratelimit::MemoryRateLimiter>());
        if (!guard) return report(guard.error());
        std::optional<std::pair<std::string, int>> metrics_endpoint;
        if (!access.metrics_listen.empty()) {
            auto parsed = parse_listen(access.metrics_listen);
            if (!parsed) return report(make_error(ErrorCode::kUsage, "--metrics-listen: " + parsed.error().message));
            metrics_endpoint = *parsed;
        }
        std::error_code ec;
        std::filesystem::create_directories(data_dir, ec);
        if (ec) return report(make_error(ErrorCode::kOutputError, "--data-dir " + data_dir + ": " + ec.message()));

        auto db = tasks::open_sqlite((std::filesystem::path(data_dir) / "facefuse.db").string());
        if (!db) return report(db.error());
        tasks::SqliteQueueOptions queue_options;
        queue_options.max_depth.fill(service.queue_max);
        auto queue = std::make_shared<tasks::SqliteTaskQueue>(*db, queue_options);
        auto store = std::make_shared<tasks::SqliteTaskStore>(*db, queue);  // create() enqueues
        auto released = queue->release_all_leases();
        if (!released) return report(released.error());
        if (*released > 0) obs::log_info("tasks_recovered", {{"count", *released}});
        auto opened_blobs = open_embedded_blob_store(blob_store, data_dir);
        if (!opened_blobs) return report(opened_blobs.error());
        std::shared_ptr<storage::BlobStore> blobs = opened_blobs->store;

        Runtime runtime(service, engine);
        runtime.set_access(*guard);
        auto content_policy = policy.build();
        if (!content_policy) return report(content_policy.error());
        runtime.set_content_policy(std::move(content_policy.value()));
        if (Status st = runtime.load_models(); !st) return report(st.error());
        if (workers > 0) runtime.start_workers(store, queue, blobs, workers);
        if (Status st = runtime.start_http(*endpoint, store, queue, blobs); !st) return report(st.error());
        if (metrics_endpoint) {
            if (Status st = runtime.start_metrics_http(*metrics_endpoint); !st) return report(st.error());
            std::cerr << "facefuse: metrics on http://" << metrics_endpoint->first << ":" << runtime.metrics_port()
                      << "/metrics\n";
        }
        obs::log_info("serve_started",
                      {{"listen", listen}, {"port", runtime.port()}, {"data_dir", data_dir},
                       {"blob_store", opened_blobs->kind}, {"workers", workers},
                       {"version", build::kVersion}});
        std::cerr << "facefuse: serving on http://" << endpoint->first << ":" << runtime.port()
                  << " (data in " << data_dir << "; Ctrl-C to stop)\n";

        obs::log_info("shutdown_started", {{"signal", runtime.wait_for_stop(signals)}});
        runtime.shutdown();
        obs::log_info("shutdown_complete", {});
        return 0;
    }
};

}  // namespace

void add_serve_command(CLI::App& app, CommandRun& run) {
    auto cmd = std::make_shared<ServeCommand>();
    CLI::App* c = app.add_subcommand("serve", "Run the HTTP API and workers in one process (embedded shape)");
    c->footer(
        "Example:\n"
        "  facefuse serve --auth none        # local use: no tokens, loopback only\n"
        "  curl -F source=@me.jpg -F target=@you.jpg 'http://127.0.0.1:8080/v1/swaps?wait=10'\n"
        "  facefuse serve --listen 0.0.0.0:8080 --jwt-secret-file /run/secrets/jwt --audit-log audit.jsonl\n"
        "  curl -H \"Authorization: Bearer $TOKEN\" -F source=@me.jpg -F target=@you.jpg ...\n"
        "Auth is on by default (--auth jwt): tokens carry sub, tenant and role (docs/security.md).\n"
        "State (SQLite task table and queue, uploaded and result images) lives in --data-dir;\n"
        "restarting with the same directory loses no task. SIGTERM drains and exits 0.");
    c->add_option("--listen", cmd->listen, "HOST:PORT to bind (port 0: any free port)")
        ->envname("FACEFUSE_LISTEN")
        ->capture_default_str();
    c->add_option("--data-dir", cmd->data_dir, "where tasks and images are kept")
        ->envname("FACEFUSE_DATA_DIR")
        ->capture_default_str();
    c->add_option("--workers", cmd->workers, "tasks processed at once (default: CPU cores; 0: API only)")
        ->check(CLI::Range(0, 256))
        ->envname("FACEFUSE_WORKERS")
        ->capture_default_str();
    c->add_option("--blob-store", cmd->blob_store,
                  "how images are kept in --data-dir: segments (segments/: appended to large files, "
                  "fastest), sqlite (one file, blobs.db) or files (blobs/<key>, one file per image). "
                  "auto: what the directory already holds, segments for a new one")
        ->check(CLI::IsMember({"auto", "segments", "sqlite", "files"}))
        ->envname("FACEFUSE_BLOB_STORE")
        ->capture_default_str();
    cmd->service.add_to(*c);
    cmd->access.add_to(*c);
    cmd->policy.add_to(*c);
    cmd->engine.add_to(*c);
    c->callback([cmd, &run] { run = [cmd] { return cmd->run(); }; });
}

}  // namespace facefuse::cli
