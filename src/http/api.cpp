#include "http/api.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "build_info.hpp"
#include "common/stopwatch.hpp"
#include "fusion/processor.hpp"
#include "fusion/swap_options.hpp"
#include "http/multipart.hpp"
#include "http/task_json.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace facefuse::http {
namespace {

using nlohmann::json;

// A part's bytes as the service takes them: a view into the request body, not a copy.
std::span<const std::uint8_t> part_bytes(std::string_view data) {
    return {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()};
}

struct Target {
    std::string path;
    std::string query;
};

Target split_target(std::string_view target) {
    const size_t q = target.find('?');
    if (q == std::string_view::npos) return {std::string(target), {}};
    return {std::string(target.substr(0, q)), std::string(target.substr(q + 1))};
}

std::string query_param(const std::string& query, const std::string& name) {
    size_t pos = 0;
    while (pos <= query.size()) {
        size_t amp = query.find('&', pos);
        if (amp == std::string::npos) amp = query.size();
        const std::string item = query.substr(pos, amp - pos);
        const size_t eq = item.find('=');
        if (item.substr(0, eq) == name) return eq == std::string::npos ? "" : item.substr(eq + 1);
        pos = amp + 1;
    }
    return {};
}

bool safe_token(std::string_view s, size_t max) {
    if (s.empty() || s.size() > max) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
    return true;
}

// Route names are the metric label: bounded, never the raw path.
struct Route {
    std::string name;  // e.g. "/v1/tasks/{id}"
    std::string id;    // the {id} segment, if any
};

Route match(const std::string& path) {
    static const std::string kTasks = "/v1/tasks/";
    if (path.rfind(kTasks, 0) == 0) {
        std::string rest = path.substr(kTasks.size());
        const size_t slash = rest.find('/');
        const std::string id = rest.substr(0, slash);
        const std::string tail = slash == std::string::npos ? "" : rest.substr(slash);
        if (tail.empty()) return {"/v1/tasks/{id}", id};
        if (tail == "/result") return {"/v1/tasks/{id}/result", id};
        if (tail == "/events") return {"/v1/tasks/{id}/events", id};
        return {"unknown", ""};
    }
    for (const char* known : {"/v1/swaps", "/v1/tasks", "/v1/capabilities", "/v1/admin/models/reload", "/healthz",
                              "/readyz", "/metrics", "/version"})
        if (path == known) return {path, ""};
    return {"unknown", ""};
}

Response json_response(bhttp::status status, const json& body, unsigned version) {
    Response res{status, version};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
    res.prepare_payload();
    return res;
}

struct HttpMetrics {
    obs::Family<obs::Counter>& requests = obs::Registry::global().counter(
        "facefuse_http_requests_total", "HTTP requests by route, method and status code", {"route", "method", "code"});
    obs::Family<obs::Histogram>& duration = obs::Registry::global().histogram(
        "facefuse_http_request_duration_seconds", "HTTP request latency by route", {"route"});
    obs::Family<obs::Counter>& submitted = obs::Registry::global().counter(
        "facefuse_tasks_submitted_total", "Tasks accepted", {"kind", "priority"});
};

HttpMetrics& metrics() {
    static HttpMetrics m;
    return m;
}

class Api {
public:
    Api(std::shared_ptr<tasks::TaskService> service, ApiConfig config)
        : service_(std::move(service)), config_(std::move(config)) {
        if (!config_.access) {
            config_.access = std::make_shared<const Access>(AccessConfig{});
            config_.metrics_public = true;
        }
    }

    // Everything decidable from the headers, before the body is read: the route, the caller
    // (401), the role (403), the tenant's rate (429), the media type (415).
    std::optional<Response> precheck(const RequestHeader& header, RequestContext& context) {
        const Target target = split_target(header.target());
        const Route route = match(target.path);
        context.request_id = request_id(header);
        std::optional<Error> error;
        std::chrono::seconds retry_after{0};
        const bool ops_route = route.name == "/healthz" || route.name == "/readyz" || route.name == "/metrics" ||
                               route.name == "/version";
        const bool public_route = ops_route && (route.name != "/metrics" || config_.metrics_public);
        if (route.name == "unknown" || (config_.ops_only && !ops_route)) {
            error = make_error(ErrorCode::kNotFound, "no such endpoint: " + target.path + " (see /v1/capabilities)");
        } else if (!public_route) {
            auto principal = access().authenticate(header, context);
            if (!principal) {
                error = principal.error();
            } else {
                context.principal = std::move(principal.value());
                const auto action = action_for(route, header.method(), target);
                if (Status st = access().authorize(header, context, action, object_of(route)); !st) {
                    error = st.error();
                } else if (route.name == "/v1/swaps" && header.method() == bhttp::verb::post) {
                    if (auto denied = access().admit(header, context)) {
                        error = denied->error;
                        retry_after = denied->retry_after;
                    }
                }
            }
        }
        if (!error && route.name == "/v1/swaps" && header.method() == bhttp::verb::post &&
            !multipart_boundary(header[bhttp::field::content_type])) {
            error = make_error(ErrorCode::kUnsupportedMediaType,
                               "POST /v1/swaps takes multipart/form-data with parts source, target and "
                               "(optional) options");
        }
        if (!error) return std::nullopt;
        Response r = error_response(*error, context.request_id, header.version());
        r.set("X-Request-Id", context.request_id);
        if (retry_after.count() > 0) r.set(bhttp::field::retry_after, std::to_string(retry_after.count()));
        if (error->code == ErrorCode::kUnauthenticated) r.set(bhttp::field::www_authenticate, "Bearer");
        metrics().requests.labels({route.name, std::string(header.method_string()), std::to_string(r.result_int())}).inc();
        return r;
    }

    const Access& access() const { return *config_.access; }

    // The RBAC action a route needs (the lane of a submit comes from ?priority= here; a
    // `priority` form part is checked again once the body is read).
    static auth::Action action_for(const Route& route, bhttp::verb method, const Target& target) {
        using auth::Action;
        if (route.name == "/metrics") return Action::kReadMetrics;
        if (route.name == "/v1/capabilities") return Action::kReadCapabilities;
        if (route.name == "/v1/admin/models/reload") return Action::kReloadModels;
        if (route.name == "/v1/swaps") return submit_action(query_param(target.query, "priority"));
        if (route.name == "/v1/tasks") {
            const std::string tenant = query_param(target.query, "tenant");
            return tenant.empty() ? Action::kListTasks : Action::kListAllTenants;
        }
        if (route.name == "/v1/tasks/{id}/result") return Action::kReadResult;
        if (route.name == "/v1/tasks/{id}" && method == bhttp::verb::delete_) return Action::kCancelTask;
        return Action::kReadTask;
    }

    static auth::Action submit_action(std::string_view priority) {
        if (priority == "vip") return auth::Action::kSubmitVip;
        if (priority == "batch") return auth::Action::kSubmitBatch;
        return auth::Action::kSubmit;
    }

    static std::string object_of(const Route& route) { return route.id.empty() ? route.name : "task/" + route.id; }

    // The client's X-Request-Id when it is a sane token, else a new one.
    static std::string request_id(const RequestHeader& header) {
        const auto incoming = header["X-Request-Id"];
        return safe_token(incoming, 64) ? std::string(incoming) : tasks::new_task_id().substr(0, 16);
    }

    std::optional<Response> handle(Request& req, Stream& stream, RequestContext& context) {
        Stopwatch clock;
        const std::string& request_id = context.request_id;
        const Target target = split_target(req.target());
        const Route route = match(target.path);

        std::optional<Response> res = dispatch(req, route, target, context, stream);
        const std::string code = res ? std::to_string(res->result_int()) : "200";
        metrics().requests.labels({route.name, std::string(req.method_string()), code}).inc();
        metrics().duration.labels({route.name}).observe(clock.elapsed_ms() / 1000);
        if (res) res->set("X-Request-Id", request_id);
        return res;
    }

private:
    std::optional<Response> dispatch(Request& req, const Route& route, const Target& target,
                                     RequestContext& context, Stream& stream) {
        const auto method = req.method();
        const unsigned v = req.version();
        const std::string& rid = context.request_id;
        // Public routes have no principal; every other route was authenticated in precheck.
        const std::string tenant = context.principal ? context.principal->tenant : "";
        // Audits what the caller did to which task, with the outcome.
        auto audited = [&](std::string_view action, const Error* error) {
            access().record(req.base(), context, action, object_of(route), error);
        };
        auto fail = [&](const Error& e) { return error_response(e, rid, v); };
        auto wrong_method = [&] {
            return fail(make_error(ErrorCode::kUsage, std::string(req.method_string()) + " is not allowed on " + route.name));
        };

        if (route.name == "/healthz") return json_response(bhttp::status::ok, {{"status", "ok"}}, v);
        if (route.name == "/readyz") {
            const bool ready = !config_.ready || config_.ready();
            return json_response(ready ? bhttp::status::ok : bhttp::status::service_unavailable,
                                 {{"status", ready ? "ready" : "not ready"}}, v);
        }
        if (route.name == "/version")
            return json_response(bhttp::status::ok, {{"version", build::kVersion}, {"build_type", build::kBuildType}}, v);
        if (route.name == "/metrics") {
            if (config_.before_scrape) config_.before_scrape();
            Response r{bhttp::status::ok, v};
            r.set(bhttp::field::content_type, "text/plain; version=0.0.4");
            r.body() = obs::Registry::global().expose();
            r.prepare_payload();
            return r;
        }
        if (route.name == "/v1/capabilities") return json_response(bhttp::status::ok, capabilities(), v);
        if (route.name == "/v1/admin/models/reload") {
            if (method != bhttp::verb::post) return wrong_method();
            if (!config_.reload_models)
                return fail(make_error(ErrorCode::kUsage,
                                       "this process serves no models (a gateway): send SIGHUP to the workers, "
                                       "see docs/models.md"));
            auto serving = config_.reload_models();
            audited("models.reload", serving ? nullptr : &serving.error());
            if (!serving) return fail(serving.error());
            return json_response(bhttp::status::ok, *serving, v);
        }
        if (route.name == "/v1/swaps") return method == bhttp::verb::post ? submit(req, target, context) : wrong_method();
        if (route.name == "/v1/tasks") {
            if (method != bhttp::verb::get) return wrong_method();
            int limit = 20;
            try {
                const std::string l = query_param(target.query, "limit");
                if (!l.empty()) limit = std::stoi(l);
            } catch (const std::exception&) {
                return fail(make_error(ErrorCode::kUsage, "limit must be an integer 1..100"));
            }
            // An admin may name another tenant (precheck allowed list_all_tenants for ?tenant=).
            std::string whose = query_param(target.query, "tenant");
            if (whose.empty()) whose = tenant;
            if (!safe_token(whose, 64)) return fail(make_error(ErrorCode::kUsage, "tenant: 1-64 characters of A-Z a-z 0-9 - _ ."));
            auto page = service_->list(whose, limit, query_param(target.query, "cursor"));
            audited(whose == tenant ? "task.list" : "task.list_tenant", page ? nullptr : &page.error());
            if (!page) return fail(page.error());
            json items = json::array();
            for (const auto& t : page->tasks) items.push_back(task_json(t));
            return json_response(bhttp::status::ok, {{"tasks", items}, {"next_cursor", page->next_cursor}}, v);
        }
        // /v1/tasks/{id}...
        if (!safe_token(route.id, 64)) return fail(make_error(ErrorCode::kNotFound, "no such task"));
        if (route.name == "/v1/tasks/{id}") {
            if (method == bhttp::verb::get) {
                auto t = service_->get(tenant, route.id);
                audited("task.read", t ? nullptr : &t.error());
                return t ? json_response(bhttp::status::ok, task_json(*t), v) : fail(t.error());
            }
            if (method == bhttp::verb::delete_) {
                auto t = service_->cancel(tenant, route.id);
                audited("task.cancel", t ? nullptr : &t.error());
                if (t) obs::log_info("task_cancel", {{"task_id", route.id}, {"request_id", rid}, {"status", tasks::state_name(t->state)}});
                return t ? json_response(bhttp::status::ok, task_json(*t), v) : fail(t.error());
            }
            return wrong_method();
        }
        if (route.name == "/v1/tasks/{id}/result") {
            if (method != bhttp::verb::get) return wrong_method();
            // ?presign=SECONDS: a short-lived URL of the result in S3 instead of the bytes.
            if (const std::string presign = query_param(target.query, "presign"); !presign.empty()) {
                long seconds = 0;
                try {
                    seconds = std::stol(presign);
                } catch (const std::exception&) {
                    seconds = 0;
                }
                auto url = service_->result_url(tenant, route.id, std::chrono::seconds(seconds));
                audited("task.result_url", url ? nullptr : &url.error());
                if (!url) return fail(url.error());
                return json_response(bhttp::status::ok,
                                     {{"url", url->url}, {"expires_at", timestamp_json(url->expires_at_ms)}}, v);
            }
            auto blob = service_->result(tenant, route.id);
            audited("task.result", blob ? nullptr : &blob.error());
            if (!blob) return fail(blob.error());
            Response r{bhttp::status::ok, v};
            r.set(bhttp::field::content_type, blob->content_type);
            r.body().assign(blob->bytes.begin(), blob->bytes.end());
            r.prepare_payload();
            return r;
        }
        if (route.name == "/v1/tasks/{id}/events") {
            if (method != bhttp::verb::get) return wrong_method();
            auto first = service_->get(tenant, route.id);
            audited("task.events", first ? nullptr : &first.error());
            if (!first) return fail(first.error());
            stream_events(tenant, route.id, rid, stream);
            return std::nullopt;
        }
        return fail(make_error(ErrorCode::kNotFound, "no such endpoint"));
    }

    Response submit(Request& req, const Target& target, RequestContext& context) {
        const unsigned v = req.version();
        const std::string& rid = context.request_id;
        auto audited = [&](const Error* error, const std::string& task_id) {
            access().record(req.base(), context, "task.submit", task_id.empty() ? "" : "task/" + task_id, error);
        };
        if (config_.draining && config_.draining())
            return error_response(make_error(ErrorCode::kUnavailable, "server is shutting down: retry on another instance"), rid, v);
        const auto boundary = multipart_boundary(req[bhttp::field::content_type]);
        auto parts = parse_multipart(req.body(), boundary.value_or(""));
        if (!parts) return error_response(parts.error(), rid, v);

        tasks::SubmitRequest submit;
        submit.tenant = context.principal->tenant;
        submit.max_queued = access().max_queued_for(submit.tenant);
        submit.idempotency_key = std::string(req["Idempotency-Key"]);
        if (!submit.idempotency_key.empty() && !safe_token(submit.idempotency_key, 128))
            return error_response(make_error(ErrorCode::kUsage, "Idempotency-Key: 1-128 characters of A-Z a-z 0-9 - _ ."), rid, v);
        std::string priority = query_param(target.query, "priority");
        for (const Part& p : *parts) {
            if (p.name == "source") submit.source = part_bytes(p.data);
            else if (p.name == "target") submit.target = part_bytes(p.data);
            else if (p.name == "options") submit.options_json = std::string(p.data);
            else if (p.name == "priority") priority = std::string(p.data);
            else return error_response(make_error(ErrorCode::kUsage, "unknown form part '" + p.name + "': use source, target, options, priority"), rid, v);
        }
        if (!priority.empty()) {
            const auto parsed = tasks::parse_priority(priority);
            if (!parsed) return error_response(make_error(ErrorCode::kUsage, "priority: vip, normal or batch"), rid, v);
            submit.priority = *parsed;
            // The lane may have come from the form: the role must be allowed on it too.
            if (Status st = access().authorize(req.base(), context, submit_action(priority), "/v1/swaps"); !st)
                return error_response(st.error(), rid, v);
        }
        if (submit.target.empty() && std::none_of(parts->begin(), parts->end(), [](const Part& p) { return p.name == "target"; }))
            return error_response(make_error(ErrorCode::kUsage, "the form needs a 'target' image part"), rid, v);

        auto created = service_->submit(submit);
        audited(created ? nullptr : &created.error(), created ? created->task.id : "");
        if (!created) return error_response(created.error(), rid, v);
        tasks::Task task = created->task;
        if (!created->replayed) {
            metrics().submitted.labels({task.kind, std::string(tasks::priority_name(task.priority))}).inc();
            obs::log_info("task_submitted", {{"task_id", task.id}, {"tenant", task.tenant}, {"request_id", rid},
                                             {"priority", tasks::priority_name(task.priority)}});
        }
        // ?wait=N: answer with the finished task if it finishes within N seconds.
        const std::string wait = query_param(target.query, "wait");
        bool finished = false;
        if (!wait.empty()) {
            int seconds = 0;
            try { seconds = std::stoi(wait); } catch (const std::exception&) { seconds = -1; }
            if (seconds < 0) return error_response(make_error(ErrorCode::kUsage, "wait: seconds, 0 or more"), rid, v);
            seconds = std::min(seconds, config_.max_wait_seconds);
            auto done = service_->wait(task.tenant, task.id, std::chrono::seconds(seconds));
            if (done) {
                task = *done;
                finished = tasks::is_terminal(task.state);
            }
        }
        // A synchronous caller learns a permanent failure the way it would learn a bad
        // upload: the error's own status (422 for no face) and body; Location still names
        // the task.
        if (finished && task.state == tasks::TaskState::kFailed && task.error) {
            const auto code = find_error_code(task.error->code);
            Response r = error_response(make_error(code, task.error->message), rid, v);
            r.set(bhttp::field::location, "/v1/tasks/" + task.id);
            return r;
        }
        Response r = json_response(finished ? bhttp::status::ok : bhttp::status::accepted, task_json(task), v);
        r.set(bhttp::field::location, "/v1/tasks/" + task.id);
        if (created->replayed) r.set("Idempotency-Replayed", "true");
        return r;
    }

    // Server-sent events: one `state` event per change of status or progress, ending with the
    // terminal state. Polls the store, so it works whichever process runs the task.
    void stream_events(const std::string& tenant, const std::string& id, const std::string& rid, Stream& stream) {
        std::string head =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "Connection: close\r\nX-Request-Id: " + rid + "\r\n\r\n";
        if (!stream.write(head)) return;
        std::string last;
        auto last_write = std::chrono::steady_clock::now();
        while (!stream.stopping()) {
            auto task = service_->get(tenant, id);
            if (!task) {
                stream.write("event: error\ndata: " + json{{"code", task.error().code_name()}}.dump() + "\n\n");
                return;
            }
            const std::string data = task_json(*task).dump();
            const std::string key = std::string(tasks::state_name(task->state)) + std::to_string(task->progress);
            if (key != last) {
                if (!stream.write("event: state\ndata: " + data + "\n\n")) return;
                last = key;
                last_write = std::chrono::steady_clock::now();
            } else if (std::chrono::steady_clock::now() - last_write > std::chrono::seconds(15)) {
                if (!stream.write(": keep-alive\n\n")) return;  // proxies close idle streams
                last_write = std::chrono::steady_clock::now();
            }
            if (tasks::is_terminal(task->state)) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval
        }
    }

    json capabilities() const {
        json processors = json::array();
        for (auto p : fusion::processor_names()) processors.push_back(p);
        const auto& limits = service_->config().limits;
        return {
            {"processors", processors},
            {"priorities", {"vip", "normal", "batch"}},
            {"options",
             {{"face_selector_mode", face::selector_mode_names()},
              {"face_selector_order", face::selector_order_names()},
              {"face_mask_types", fusion::mask_type_names()},
              {"face_mask_areas", fusion::mask_area_names()},
              {"face_mask_blur", "0..1"},
              {"face_mask_padding", "[top, right, bottom, left] percent 0..100"},
              {"fusion_degree", "0..1"},
              {"shape_degree", "0..1"},
              {"face_position", "integer >= 0"},
              {"source_face_position", "integer >= 0"},
              {"output_format", {"png", "jpg", "webp", "bmp"}},
              {"output_quality", "0..100"}}},
            {"limits",
             {{"max_image_bytes", limits.max_bytes},
              {"max_image_pixels", limits.max_pixels},
              {"max_wait_seconds", config_.max_wait_seconds},
              {"task_ttl_seconds", service_->config().task_ttl.count() / 1000}}},
        };
    }

    std::shared_ptr<tasks::TaskService> service_;
    ApiConfig config_;
};

}  // namespace

Handlers make_api(std::shared_ptr<tasks::TaskService> service, ApiConfig config) {
    auto api = std::make_shared<Api>(std::move(service), std::move(config));
    return Handlers{[api](const RequestHeader& h, RequestContext& c) { return api->precheck(h, c); },
                    [api](Request& r, Stream& s, RequestContext& c) { return api->handle(r, s, c); }};
}

}  // namespace facefuse::http
