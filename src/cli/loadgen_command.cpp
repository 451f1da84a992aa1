// facefuse loadgen: a bounded load generator for the HTTP API, for this machine only.
//
// N client threads each submit the same images in a closed loop (the next submit starts when
// the previous answer arrives) over one kept-alive connection, until the request budget or the
// duration runs out, whichever comes first. It prints submit throughput and latency and, with
// --wait-results, end-to-end latency measured by a few pollers (see loadgen_tracker.hpp).
// A 429 is counted apart from errors: it is the server shedding load as designed. The client
// that got it goes straight on (no Retry-After wait), so the figures show how the server
// behaves when pressed, not how a polite client fares.
#include <atomic>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "cli/duration.hpp"
#include "cli/engine_flags.hpp"
#include "cli/loadgen_http.hpp"
#include "cli/loadgen_report.hpp"
#include "cli/loadgen_tracker.hpp"

namespace facefuse::cli {
namespace {

using namespace loadgen;

constexpr int kMaxRequests = 100000;
constexpr std::chrono::seconds kMaxDuration{600};
constexpr long kSubmitTimeoutMs = 30000;  // a submit stores two images: slow under load, not stuck
constexpr int kPollers = 2;               // few: each poll is load on the server being measured
constexpr std::chrono::milliseconds kPollInterval{10};
constexpr size_t kPollWindow = 16;

Result<std::string> read_file(const std::string& path, const char* flag) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return make_error(ErrorCode::kFileNotFound,
                          std::string(flag) + " " + path + ": cannot open the file");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.empty())
        return make_error(ErrorCode::kEmptyInput,
                          std::string(flag) + " " + path + ": the file is empty");
    return bytes;
}

// Shared by the client threads: the request budget and the deadline.
struct Budget {
    std::atomic<long> issued{0};
    long limit = 0;
    Clock::time_point deadline;
    // --rate: each client sends on its own fixed schedule (open loop), so a slow answer does
    // not lower the offered load. Zero: as fast as answers come (closed loop).
    std::chrono::nanoseconds client_interval{0};
};

// What one client saw; merged after the threads are joined, so no lock on the hot path.
struct ClientTally {
    long sent = 0, accepted = 0, rejected = 0;
    std::vector<double> submit_ms;
    std::vector<double> rejected_ms;
    std::map<std::string, long> errors;
};

void run_client(Connection& connection, Budget& budget, ClientTally& tally,
                ResultTracker* tracker, int index, int clients) {
    // Clients start spread over one interval, so a paced load does not arrive in waves.
    auto next = Clock::now() + budget.client_interval * index / std::max(1, clients);
    while (Clock::now() < budget.deadline && budget.issued.fetch_add(1) < budget.limit) {
        if (budget.client_interval.count() > 0) {
            std::this_thread::sleep_until(next);  // pacing the offered load, not synchronisation
            next += budget.client_interval;
        }
        const auto started = Clock::now();
        const Reply reply = connection.submit();
        ++tally.sent;
        if (!reply.error.empty()) {
            ++tally.errors["curl: " + reply.error];
        } else if (reply.status == 202 || reply.status == 200) {
            ++tally.accepted;
            tally.submit_ms.push_back(reply.ms);
            if (!tracker) continue;
            const auto task = nlohmann::json::parse(reply.body, nullptr, false);
            if (task.is_object() && task.contains("id") && task["id"].is_string())
                tracker->add(task["id"].get<std::string>(), started);
            else
                ++tally.errors["accepted without a task id"];
        } else if (reply.status == 429) {
            ++tally.rejected;
            tally.rejected_ms.push_back(reply.ms);
        } else {
            ++tally.errors[std::to_string(reply.status)];
        }
    }
}

struct LoadgenCommand {
    std::string url = "http://127.0.0.1:8080";
    int clients = 32;
    int requests = 2000;
    std::string duration = "600s";
    std::string processor = "noop";
    std::string source, target;
    bool wait_results = false;
    bool json = false;
    int server_pid = 0;
    std::string drain_timeout = "60s";
    std::string token_file;
    bool requests_given = false, duration_given = false;
    double rate = 0;  // submits per second offered in total; 0: as fast as answers come

    int run() const {
        auto base = loopback_base_url(url);
        if (!base) return report(base.error());
        const auto run_for = *parse_duration(duration);  // the validator has accepted it
        const auto drain_for = *parse_duration(drain_timeout);
        if (run_for <= std::chrono::milliseconds(0) || run_for > kMaxDuration)
            return report(
                make_error(ErrorCode::kUsage, "--duration " + duration + ": give 1ms to 600s"));
        if (drain_for > kMaxDuration)
            return report(make_error(ErrorCode::kUsage,
                                     "--drain-timeout " + drain_timeout + ": at most 600s"));
        if (processor == "face_swapper" && source.empty())
            return report(make_error(ErrorCode::kUsage,
                                     "--processor face_swapper needs --source (the face to use)"));
        if (processor == "noop" && !source.empty())
            std::cerr
                << "facefuse loadgen: note: noop sends no source image; --source is ignored\n";
        std::string source_bytes;
        if (processor == "face_swapper") {
            auto bytes = read_file(source, "--source");
            if (!bytes) return report(bytes.error());
            source_bytes = std::move(*bytes);
        }
        auto target_bytes = read_file(target, "--target");
        if (!target_bytes) return report(target_bytes.error());
        if (server_pid > 0 && !read_server_memory(server_pid))
            return report(make_error(ErrorCode::kUsage,
                                     "--server-pid " + std::to_string(server_pid) +
                                         ": no such process (or /proc/PID/status unreadable)"));

        std::string token;
        if (!token_file.empty()) {
            auto bytes = read_file(token_file, "--token-file");
            if (!bytes) return report(bytes.error());
            token = *bytes;
            while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
        }
        init_curl();
        {
            // Fail once, clearly, rather than with thousands of connection errors.
            Connection probe(*base, 2000);
            const Reply ready = probe.get("/readyz");
            if (!ready.error.empty())
                return report(make_error(ErrorCode::kUnavailable,
                                         "no server answers at " + *base + " (" + ready.error +
                                             "): start one with `facefuse serve`"));
            if (ready.status != 200)
                return report(make_error(ErrorCode::kUnavailable,
                                         "the server at " + *base + " is not ready (/readyz: " +
                                             std::to_string(ready.status) + ")"));
        }

        // Only requests, only duration, or both: whichever ends first; --duration alone lifts
        // the default request count to the maximum.
        Budget budget;
        budget.limit = duration_given && !requests_given ? kMaxRequests : requests;
        if (rate > 0)
            budget.client_interval = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 * clients / rate));
        const std::string options = nlohmann::json{{"processors", {processor}}}.dump();
        std::vector<std::unique_ptr<Connection>> connections;
        for (int i = 0; i < clients; ++i) {
            connections.push_back(std::make_unique<Connection>(*base, kSubmitTimeoutMs, token));
            connections.back()->set_form(source_bytes, *target_bytes, options);
        }
        std::unique_ptr<ResultTracker> tracker;
        if (wait_results)
            tracker = std::make_unique<ResultTracker>(*base, kPollers, kPollInterval, kPollWindow, token);

        std::vector<ClientTally> tallies(static_cast<size_t>(clients));
        const auto start = Clock::now();
        budget.deadline = start + run_for;
        {
            std::vector<std::jthread> threads;
            for (int i = 0; i < clients; ++i)
                threads.emplace_back(run_client, std::ref(*connections[i]), std::ref(budget),
                                     std::ref(tallies[i]), tracker.get(), i, clients);
        }
        const auto submitted = Clock::now();

        Summary s;
        s.url = *base;
        s.processor = processor;
        s.clients = clients;
        s.source_bytes = source_bytes.size();
        s.target_bytes = target_bytes->size();
        s.stopped_by = budget.issued.load() >= budget.limit ? "requests" : "duration";
        s.elapsed_s = std::chrono::duration<double>(submitted - start).count();
        for (const ClientTally& t : tallies) {
            s.sent += t.sent;
            s.accepted += t.accepted;
            s.rejected += t.rejected;
            s.submit_ms.insert(s.submit_ms.end(), t.submit_ms.begin(), t.submit_ms.end());
            s.rejected_ms.insert(s.rejected_ms.end(), t.rejected_ms.begin(), t.rejected_ms.end());
            for (const auto& [key, count] : t.errors) s.errors[key] += count;
        }
        if (tracker) {
            s.results = tracker->finish(submitted + drain_for);
            s.poll_interval_ms = static_cast<int>(kPollInterval.count());
            if (!s.results->e2e_ms.empty())
                s.results_elapsed_s =
                    std::chrono::duration<double>(s.results->last_finished - start).count();
        }
        if (server_pid > 0) s.memory = read_server_memory(server_pid);
        if (json)
            print_json(s);
        else
            print_text(s);
        return 0;
    }
};

}  // namespace

void add_loadgen_command(CLI::App& app, CommandRun& run) {
    auto cmd = std::make_shared<LoadgenCommand>();
    CLI::App* c = app.add_subcommand("loadgen",
                                     "Load-test a facefuse server on this machine (loopback only)");
    c->footer(
        "Example:\n"
        "  facefuse loadgen --url http://127.0.0.1:8080 --clients 32 --requests 2000 \\\n"
        "      --processor noop --target portrait.jpg --wait-results --server-pid $(pidof "
        "facefuse)\n"
        "Prints requests sent, accepted (202/200), rejected (429: the server shedding load),\n"
        "errors by code, submit throughput and p50/p99/max submit latency; with --wait-results\n"
        "also completed tasks/s and p50/p99 end-to-end latency. The run stops at --requests or\n"
        "--duration, whichever comes first. Only 127.0.0.0/8, localhost and [::1] are accepted.\n"
        "bench/loadgen.sh starts a server and runs the standard figures.");
    c->add_option("--url", cmd->url, "the server's base URL (loopback only)")
        ->capture_default_str();
    c->add_option("--clients", cmd->clients, "concurrent clients, one connection each")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    auto* requests = c->add_option("--requests", cmd->requests,
                                   "submits in all (max 100000; with --duration alone: 100000)")
                         ->check(CLI::Range(1, kMaxRequests))
                         ->capture_default_str();
    auto* duration =
        c->add_option("--duration", cmd->duration, "stop submitting after this long (max 600s)")
            ->check(duration_validator())
            ->capture_default_str();
    c->add_option("--processor", cmd->processor, "what each task runs")
        ->check(CLI::IsMember({"noop", "face_swapper"}))
        ->capture_default_str();
    c->add_option("-s,--source", cmd->source, "image with the face (face_swapper only)");
    c->add_option("-t,--target", cmd->target,
                  "target image sent with every request (e.g. ~100 KB JPEG)")
        ->required();
    c->add_flag("--wait-results", cmd->wait_results,
                "also poll every task until finished: end-to-end latency");
    c->add_option("--drain-timeout", cmd->drain_timeout,
                  "with --wait-results: how long to wait for the last tasks after the last submit")
        ->check(duration_validator())
        ->capture_default_str();
    c->add_option("--server-pid", cmd->server_pid,
                  "print this process's peak and current RSS (VmHWM, VmRSS)")
        ->check(CLI::PositiveNumber);
    c->add_flag("--json", cmd->json, "print the summary as JSON");
    c->add_option("--rate", cmd->rate,
                  "offer this many submits per second in total, on a fixed schedule (open loop); "
                  "default: each client sends again as soon as it has its answer")
        ->check(CLI::Range(0.0, 1e6));
    c->add_option("--token-file", cmd->token_file,
                  "file holding a bearer token (JWT) sent with every request, for servers with --auth jwt")
        ->envname("FACEFUSE_LOADGEN_TOKEN_FILE");
    c->callback([cmd, requests, duration, &run] {
        cmd->requests_given = requests->count() > 0;
        cmd->duration_given = duration->count() > 0;
        run = [cmd] { return cmd->run(); };
    });
}

}  // namespace facefuse::cli
