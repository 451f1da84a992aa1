#include "tasks/redis/task_codec.hpp"

#include <charconv>
#include <cstdint>
#include <unordered_map>

namespace facefuse::tasks::redis {
namespace {

std::string number(double v) {
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : "0";
}

template <typename T>
bool parse_number(const std::string& s, T& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

Error corrupt(const std::string& id, std::string_view field, const std::string& value) {
    return make_error(ErrorCode::kInternal, "task record " + id + " in Redis has a bad " +
                                                std::string(field) + " \"" + value + "\"");
}

}  // namespace

HashFields encode_task(const Task& t) {
    HashFields f{
        {"id", t.id},
        {"tenant", t.tenant},
        {"kind", t.kind},
        {"priority", std::string(priority_name(t.priority))},
        {"state", std::string(state_name(t.state))},
        {"attempts", std::to_string(t.attempts)},
        {"max_attempts", std::to_string(t.max_attempts)},
        {"options_json", t.options_json},
        {"source_key", t.source_key},
        {"target_key", t.target_key},
        {"result_key", t.result_key},
        {"result_content_type", t.result_content_type},
        {"moderation", t.moderation},
        {"idempotency_key", t.idempotency_key},
        {"request_hash", t.request_hash},
        {"progress", number(t.progress)},
        {"cancel_requested", t.cancel_requested ? "1" : "0"},
        {"created_at_ms", std::to_string(t.created_at_ms)},
        {"updated_at_ms", std::to_string(t.updated_at_ms)},
        {"started_at_ms", std::to_string(t.started_at_ms)},
        {"finished_at_ms", std::to_string(t.finished_at_ms)},
        {"expires_at_ms", std::to_string(t.expires_at_ms)},
    };
    if (t.error) {
        f.emplace_back("error_code", t.error->code);
        f.emplace_back("error_message", t.error->message);
    }
    return f;
}

std::string find_field(const std::vector<std::string>& flat, std::string_view field) {
    for (size_t i = 0; i + 1 < flat.size(); i += 2)
        if (flat[i] == field) return flat[i + 1];
    return {};
}

Result<Task> decode_task(const std::vector<std::string>& flat) {
    std::unordered_map<std::string, std::string> m;
    for (size_t i = 0; i + 1 < flat.size(); i += 2) m[flat[i]] = flat[i + 1];
    Task t;
    t.id = m["id"];
    if (t.id.empty()) return make_error(ErrorCode::kInternal, "task record in Redis has no id");
    t.tenant = m["tenant"];
    t.kind = m["kind"];
    const auto priority = parse_priority(m["priority"]);
    if (!priority) return corrupt(t.id, "priority", m["priority"]);
    t.priority = *priority;
    const auto state = parse_state(m["state"]);
    if (!state) return corrupt(t.id, "state", m["state"]);
    t.state = *state;
    t.options_json = m["options_json"];
    t.source_key = m["source_key"];
    t.target_key = m["target_key"];
    t.result_key = m["result_key"];
    t.result_content_type = m["result_content_type"];
    t.moderation = m["moderation"];
    t.idempotency_key = m["idempotency_key"];
    t.request_hash = m["request_hash"];
    t.cancel_requested = m["cancel_requested"] == "1";
    if (m.count("error_code") != 0) t.error = TaskError{m["error_code"], m["error_message"]};
    struct IntField {
        const char* name;
        std::int64_t* out;
    };
    std::int64_t attempts = 0, max_attempts = 0;
    for (const IntField& f : {IntField{"attempts", &attempts},
                              {"max_attempts", &max_attempts},
                              {"created_at_ms", &t.created_at_ms},
                              {"updated_at_ms", &t.updated_at_ms},
                              {"started_at_ms", &t.started_at_ms},
                              {"finished_at_ms", &t.finished_at_ms},
                              {"expires_at_ms", &t.expires_at_ms}}) {
        const std::string& v = m[f.name];
        if (!parse_number(v, *f.out)) return corrupt(t.id, f.name, v);
    }
    t.attempts = static_cast<int>(attempts);
    t.max_attempts = static_cast<int>(max_attempts);
    if (!parse_number(m["progress"], t.progress)) return corrupt(t.id, "progress", m["progress"]);
    return t;
}

}  // namespace facefuse::tasks::redis
