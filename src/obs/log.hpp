#pragma once
// Structured logs: one JSON object a line on stderr, with ts, level, event and fields, so one
// task can be followed from gateway to worker by task_id (`jq 'select(.task_id=="...")'`).
// Audit records are a separate stream (later issue).
//
//   obs::log_info("task_submitted", {{"task_id", id}, {"tenant", tenant}, {"request_id", rid}});
//
// writes
//
//   {"ts":"2026-11-25T01:02:03.456Z","level":"info","event":"task_submitted","request_id":...}
//
// ts, level and event always come first, in that order; the fields follow sorted by key (that
// is how nlohmann::json stores an object). Fields cannot override the three: a field named ts,
// level or event is written as "fields.ts" (and so on), so nothing the caller logged is lost
// and a filter on .level or .event can trust what it reads. A `fields` value that is not an
// object (a string, an array) is written whole under the key "fields"; null writes no fields.
// Strings that are not valid UTF-8 are written with U+FFFD in place of the bad bytes.
#include <nlohmann/json.hpp>
#include <string>

namespace facefuse::obs {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Sets the minimum level written (default info). Thread-safe.
void set_log_level(LogLevel level);

// Whether a line at this level would be written: lets a caller skip building costly fields.
bool log_enabled(LogLevel level);

// Writes {"ts": RFC 3339 UTC with ms, "level", "event", ...fields} as one line. Thread-safe;
// lines from concurrent threads never interleave (one write of the whole line under a mutex).
// Never throws: if the line cannot be built or written, it is dropped.
void log(LogLevel level, const std::string& event,
         const nlohmann::json& fields = nlohmann::json::object()) noexcept;
inline void log_debug(const std::string& event,
                      const nlohmann::json& fields = nlohmann::json::object()) noexcept {
    log(LogLevel::kDebug, event, fields);
}
inline void log_info(const std::string& event,
                     const nlohmann::json& fields = nlohmann::json::object()) noexcept {
    log(LogLevel::kInfo, event, fields);
}
inline void log_warn(const std::string& event,
                     const nlohmann::json& fields = nlohmann::json::object()) noexcept {
    log(LogLevel::kWarn, event, fields);
}
inline void log_error(const std::string& event,
                      const nlohmann::json& fields = nlohmann::json::object()) noexcept {
    log(LogLevel::kError, event, fields);
}

}  // namespace facefuse::obs
