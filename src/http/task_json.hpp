#pragma once
// The public JSON view of a task (what GET /v1/tasks/{id} returns and SSE events carry).
#include <nlohmann/json.hpp>

#include "tasks/task.hpp"

namespace facefuse::http {

nlohmann::json task_json(const tasks::Task& task);

}  // namespace facefuse::http
