#pragma once
// The public JSON view of a task (what GET /v1/tasks/{id} returns and SSE events carry).
#include <nlohmann/json.hpp>

#include "tasks/task.hpp"

namespace facefuse::http {

nlohmann::json task_json(const tasks::Task& task);

// RFC 3339 UTC with milliseconds, as every time in the API; null for 0 ("not yet").
nlohmann::json timestamp_json(std::int64_t unix_ms);

}  // namespace facefuse::http
