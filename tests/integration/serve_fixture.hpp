#pragma once
// Shared helpers of the `facefuse serve` tests: the forms they submit and polling a task.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "support/serve_process.hpp"

namespace facefuse::test {

inline std::string file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A swap of two real photos.
inline std::vector<FormPart> swap_form(const std::string& options = "") {
    std::vector<FormPart> form = {{"source", file_bytes(face("man_luciano_codait.png")), "source.png"},
                                  {"target", file_bytes(face("chris_pratt_2018.jpg")), "target.jpg"}};
    if (!options.empty()) form.push_back({"options", options, ""});
    return form;
}

// `noop` copies the target: the service's machinery without the engine's cost.
inline std::vector<FormPart> noop_form() {
    return {{"target", file_bytes(face("chris_pratt_2018.jpg")), "target.jpg"},
            {"options", R"({"processors": ["noop"]})", ""}};
}

inline nlohmann::json json_of(const HttpResponse& r) {
    auto parsed = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << r.body;
    return parsed;
}

// Polls GET /v1/tasks/{id} until `done` says so or the deadline passes; returns the last body.
inline nlohmann::json poll_task(ServeProcess& serve, const std::string& id,
                                const std::function<bool(const nlohmann::json&)>& done,
                                std::chrono::seconds deadline = std::chrono::seconds(120)) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    nlohmann::json last;
    while (std::chrono::steady_clock::now() < until) {
        const HttpResponse r = http_get(serve.url("/v1/tasks/" + id));
        if (r.status == 200) {
            last = json_of(r);
            if (done(last)) return last;
        } else {
            last = {{"http_status", r.status}, {"body", r.body}};
            if (done(last)) return last;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling interval
    }
    ADD_FAILURE() << "task " << id << " did not reach the expected state; last: " << last.dump();
    return last;
}

inline bool finished(const nlohmann::json& t) {
    const std::string s = t.value("status", "");
    return s == "succeeded" || s == "failed" || s == "cancelled";
}

}  // namespace facefuse::test
