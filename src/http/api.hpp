#pragma once
// API v1 on top of TaskService: routes, the JSON views of tasks, request ids, metrics. Only
// translation happens here -- every decision about tasks is the service's.
//
//   POST   /v1/swaps                multipart source, target, options -> 202 {id,status,links}
//   GET    /v1/tasks                the caller's tasks, newest first, ?limit=&cursor=
//   GET    /v1/tasks/{id}           status, attempts, timings, progress, error, links
//   GET    /v1/tasks/{id}/result    the image (409 while not finished)
//   GET    /v1/tasks/{id}/events    server-sent events: state changes and progress
//   DELETE /v1/tasks/{id}           cancel
//   GET    /v1/capabilities         processors, options, limits
//   GET    /healthz /readyz /metrics /version
//   POST   /v1/admin/models/reload  hot model reload (admin); the models that serve after it
//
// Every /v1 route needs a bearer token when auth is on (access.hpp); the caller's tenant
// scopes every task it names, and another tenant's task answers 404 like a missing one.
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "http/access.hpp"
#include "http/server.hpp"
#include "tasks/service.hpp"

namespace facefuse::http {

struct ApiConfig {
    // Authentication, RBAC, rate limits and audit (access.hpp). Null: --auth none with no
    // limits and no audit.
    std::shared_ptr<const Access> access;
    // /metrics without a token (a separate --metrics-listen port, or auth off); otherwise it
    // needs a role allowed read_metrics.
    bool metrics_public = false;
    int max_wait_seconds = 30;           // cap of ?wait=
    std::function<bool()> ready;         // /readyz: models loaded and backends reachable
    std::function<void()> before_scrape; // refresh gauges (queue depth, busy workers)
    std::function<bool()> draining;      // shutting down: refuse new submits with 503
    bool ops_only = false;               // only /healthz /readyz /metrics /version (workers)
    // Loads, verifies and warms up the manifest's models and swaps them in; returns what
    // serves afterwards (JSON). Null where the process runs no models (the gateway).
    std::function<Result<nlohmann::json>()> reload_models;
};

// Builds the server's handlers. `service` must outlive the server.
Handlers make_api(std::shared_ptr<tasks::TaskService> service, ApiConfig config);

}  // namespace facefuse::http
