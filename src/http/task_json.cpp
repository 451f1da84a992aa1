#include "http/task_json.hpp"

#include <chrono>
#include <ctime>

namespace facefuse::http {
namespace {

// RFC 3339 UTC with milliseconds; null for "not yet".
nlohmann::json timestamp(std::int64_t ms) {
    if (ms <= 0) return nullptr;
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    char out[40];
    std::snprintf(out, sizeof out, "%s.%03dZ", text, static_cast<int>(ms % 1000));
    return out;
}

}  // namespace

nlohmann::json task_json(const tasks::Task& t) {
    const std::string self = "/v1/tasks/" + t.id;
    nlohmann::json links = {{"self", self}, {"events", self + "/events"}};
    if (t.state == tasks::TaskState::kSucceeded) links["result"] = self + "/result";
    nlohmann::json out = {
        {"id", t.id},
        {"kind", t.kind},
        {"status", tasks::state_name(t.state)},
        {"priority", tasks::priority_name(t.priority)},
        {"attempts", t.attempts},
        {"progress", t.progress},
        {"cancel_requested", t.cancel_requested},
        {"created_at", timestamp(t.created_at_ms)},
        {"started_at", timestamp(t.started_at_ms)},
        {"finished_at", timestamp(t.finished_at_ms)},
        {"expires_at", timestamp(t.expires_at_ms)},
        {"links", links},
        {"error", nullptr},
    };
    if (t.error) out["error"] = {{"code", t.error->code}, {"message", t.error->message}};
    // The content policy's decision, when one ran: {"verdict","score","threshold"}.
    if (!t.moderation.empty()) {
        auto decision = nlohmann::json::parse(t.moderation, nullptr, false);
        if (!decision.is_discarded()) out["moderation"] = std::move(decision);
    }
    return out;
}

nlohmann::json timestamp_json(std::int64_t unix_ms) { return timestamp(unix_ms); }

}  // namespace facefuse::http
