#include "obs/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string_view>

namespace facefuse::obs {
namespace {

struct LogState {
    std::atomic<LogLevel> min_level{LogLevel::kInfo};
    // Serializes whole lines; stderr's own lock covers one call only, and a line must be one.
    std::mutex write_mutex;
};

LogState& state() {
    // Never destroyed: threads may still log while static destructors run at exit.
    static LogState* const s = new LogState();
    return *s;
}

const char* level_name(LogLevel level) {
    switch (level) {
        case LogLevel::kDebug:
            return "debug";
        case LogLevel::kInfo:
            return "info";
        case LogLevel::kWarn:
            return "warn";
        case LogLevel::kError:
            return "error";
    }
    return "info";
}

// RFC 3339 in UTC with milliseconds: 2026-11-25T01:02:03.456Z (sorts as text, jq can parse it).
std::string timestamp() {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[80];  // 25 needed; sized for any int the compiler cannot rule out
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    return buf;
}

// replace: invalid UTF-8 becomes U+FFFD instead of dump() throwing type_error 316, since log
// fields often carry bytes from outside (file names, headers).
std::string dump(const nlohmann::json& value) {
    return value.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

bool is_reserved(std::string_view key) {
    return key == "ts" || key == "level" || key == "event";
}

std::string build_line(LogLevel level, const std::string& event, const nlohmann::json& fields) {
    // Built by hand rather than as one json object: nlohmann::json sorts its keys, and ts,
    // level, event must lead so that a human reading the raw stream sees them first.
    std::string line = "{\"ts\":\"" + timestamp() + "\",\"level\":\"" + level_name(level) +
                       "\",\"event\":" + dump(nlohmann::json(event));
    if (fields.is_object()) {
        for (auto it = fields.begin(); it != fields.end(); ++it) {
            std::string key = it.key();
            if (is_reserved(key)) {
                // "fields.ts"; prefixed again in the unlikely case the caller also sent that.
                do {
                    key = "fields." + key;
                } while (fields.contains(key));
            }
            line += ',' + dump(nlohmann::json(key)) + ':' + dump(it.value());
        }
    } else if (!fields.is_null()) {
        line += ",\"fields\":" + dump(fields);
    }
    line += "}\n";
    return line;
}

}  // namespace

void set_log_level(LogLevel level) {
    state().min_level.store(level, std::memory_order_relaxed);
}

bool log_enabled(LogLevel level) {
    return level >= state().min_level.load(std::memory_order_relaxed);
}

void log(LogLevel level, const std::string& event, const nlohmann::json& fields) noexcept {
    if (!log_enabled(level)) return;
    try {
        const std::string line = build_line(level, event, fields);
        std::lock_guard lock(state().write_mutex);
        // One fwrite of the whole line (stderr is unbuffered, so one write(2) in practice, and a
        // line under PIPE_BUF stays whole even beside other processes writing the same pipe).
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
    } catch (...) {
        // Logging must never take the caller down (out of memory, say): the line is dropped.
    }
}

}  // namespace facefuse::obs
