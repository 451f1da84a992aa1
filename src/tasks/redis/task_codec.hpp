#pragma once
// A Task as the fields of a Redis hash, and back. Field names are the Task member names; the
// error is two fields (error_code, error_message) present only when there is one. Numbers are
// decimal text, progress the shortest text that reads back to the same double.
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "tasks/task.hpp"

namespace facefuse::tasks::redis {

using HashFields = std::vector<std::pair<std::string, std::string>>;

HashFields encode_task(const Task& task);

// From HGETALL's flat [field, value, field, value, ...]. Fields it does not know (the store's
// own bookkeeping) are ignored. kInternal, naming the field, when one does not parse.
Result<Task> decode_task(const std::vector<std::string>& flat);

// The value of `field` in a flat HGETALL list, or empty.
std::string find_field(const std::vector<std::string>& flat, std::string_view field);

}  // namespace facefuse::tasks::redis
