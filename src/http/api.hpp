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
#include <functional>
#include <memory>
#include <string>

#include "http/server.hpp"
#include "tasks/service.hpp"

namespace facefuse::http {

struct ApiConfig {
    std::string tenant = "local";        // until authentication names one per request
    int max_wait_seconds = 30;           // cap of ?wait=
    std::function<bool()> ready;         // /readyz: models loaded and backends reachable
    std::function<void()> before_scrape; // refresh gauges (queue depth, busy workers)
    std::function<bool()> draining;      // shutting down: refuse new submits with 503
    bool ops_only = false;               // only /healthz /readyz /metrics /version (workers)
};

// Builds the server's handlers. `service` must outlive the server.
Handlers make_api(std::shared_ptr<tasks::TaskService> service, ApiConfig config);

}  // namespace facefuse::http
