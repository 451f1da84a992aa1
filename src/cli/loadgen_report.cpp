#include "cli/loadgen_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

namespace facefuse::cli::loadgen {
namespace {

using nlohmann::json;

struct Percentiles {
    double p50 = 0, p99 = 0, max = 0;
};

// Nearest rank: the smallest value with at least q of the sample at or below it, so p99 of
// 60 samples is the largest but one, never an interpolation between two.
Percentiles percentiles(std::vector<double> v) {
    if (v.empty()) return {};
    std::sort(v.begin(), v.end());
    auto rank = [&](double q) {
        return v[static_cast<size_t>(std::max(1.0, std::ceil(q * v.size()))) - 1];
    };
    return {rank(0.50), rank(0.99), v.back()};
}

json to_json(const Percentiles& p) {
    return {{"p50", p.p50}, {"p99", p.p99}, {"max", p.max}};
}

long total(const std::map<std::string, long>& counts) {
    long n = 0;
    for (const auto& [key, count] : counts) n += count;
    return n;
}

std::string list(const std::map<std::string, long>& counts) {
    std::string out;
    for (const auto& [key, count] : counts)
        out += (out.empty() ? "" : ", ") + key + ": " + std::to_string(count);
    return out;
}

double rate(double count, double seconds) {
    return seconds > 0 ? count / seconds : 0;
}

long completed(const TrackerResults& r) {
    return static_cast<long>(r.e2e_ms.size());
}

}  // namespace

std::optional<ServerMemory> read_server_memory(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    if (!status) return std::nullopt;
    ServerMemory m;
    m.pid = pid;
    std::string line;
    while (std::getline(status, line)) {
        // "VmHWM:	  123456 kB"
        long* field = line.rfind("VmHWM:", 0) == 0   ? &m.vm_hwm_kb
                      : line.rfind("VmRSS:", 0) == 0 ? &m.vm_rss_kb
                                                     : nullptr;
        if (field) *field = std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return m;
}

void print_text(const Summary& s) {
    std::printf("facefuse loadgen: %s, %d clients, %s (target %zu bytes", s.processor.c_str(),
                s.clients, s.url.c_str(), s.target_bytes);
    if (s.source_bytes) std::printf(", source %zu bytes", s.source_bytes);
    std::printf(")\n");
    std::printf("  requests sent       %ld (stopped by %s)\n", s.sent, s.stopped_by.c_str());
    std::printf("  accepted            %ld (202/200)\n", s.accepted);
    std::printf("  rejected (429)      %ld", s.rejected);
    if (!s.rejected_ms.empty()) {
        const Percentiles r = percentiles(s.rejected_ms);
        std::printf(" (answered in p50 %.2f ms, p99 %.2f ms, max %.2f ms)", r.p50, r.p99, r.max);
    }
    std::printf("\n");
    std::printf("  errors              %ld%s%s%s\n", total(s.errors), s.errors.empty() ? "" : " (",
                list(s.errors).c_str(), s.errors.empty() ? "" : ")");
    std::printf("  elapsed             %.2f s\n", s.elapsed_s);
    std::printf("  submit throughput   %.1f accepted/s\n", rate(s.accepted, s.elapsed_s));
    const Percentiles submit = percentiles(s.submit_ms);
    std::printf("  submit latency      p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", submit.p50,
                submit.p99, submit.max);
    if (s.results) {
        const TrackerResults& r = *s.results;
        std::printf("  completed           %ld (%s), unfinished %ld, in %.2f s: %.1f tasks/s\n",
                    completed(r), list(r.outcomes).c_str(), r.unfinished, s.results_elapsed_s,
                    rate(completed(r), s.results_elapsed_s));
        const Percentiles e2e = percentiles(r.e2e_ms);
        std::printf(
            "  end-to-end latency  p50 %.1f ms, p99 %.1f ms, max %.1f ms "
            "(upload start to the poll that saw it finished; polls every %d ms)\n",
            e2e.p50, e2e.p99, e2e.max, s.poll_interval_ms);
        const Percentiles server = percentiles(r.server_ms);
        std::printf(
            "  server-side time    p50 %.0f ms, p99 %.0f ms, max %.0f ms (created_at to "
            "finished_at)\n",
            server.p50, server.p99, server.max);
        std::printf("  polls               %ld GET /v1/tasks/{id}, %ld failed%s%s%s\n", r.polls,
                    total(r.poll_errors), r.poll_errors.empty() ? "" : " (",
                    list(r.poll_errors).c_str(), r.poll_errors.empty() ? "" : ")");
    }
    if (s.memory)
        std::printf("  server memory       VmHWM %.1f MB, VmRSS %.1f MB (pid %d)\n",
                    s.memory->vm_hwm_kb / 1024.0, s.memory->vm_rss_kb / 1024.0, s.memory->pid);
    std::fflush(stdout);
}

void print_json(const Summary& s) {
    json out = {
        {"url", s.url},
        {"processor", s.processor},
        {"clients", s.clients},
        {"source_bytes", s.source_bytes},
        {"target_bytes", s.target_bytes},
        {"stopped_by", s.stopped_by},
        {"sent", s.sent},
        {"accepted", s.accepted},
        {"rejected_429", s.rejected},
        {"rejected_ms_p99", percentiles(s.rejected_ms).p99},
        {"errors", total(s.errors)},
        {"errors_by_code", s.errors},
        {"elapsed_s", s.elapsed_s},
        {"submit_throughput_per_s", rate(s.accepted, s.elapsed_s)},
        {"submit_latency_ms", to_json(percentiles(s.submit_ms))},
    };
    if (s.results) {
        const TrackerResults& r = *s.results;
        out["results"] = {
            {"completed", completed(r)},
            {"outcomes", r.outcomes},
            {"unfinished", r.unfinished},
            {"elapsed_s", s.results_elapsed_s},
            {"completed_per_s", rate(completed(r), s.results_elapsed_s)},
            {"e2e_latency_ms", to_json(percentiles(r.e2e_ms))},
            {"server_latency_ms", to_json(percentiles(r.server_ms))},
            {"poll_interval_ms", s.poll_interval_ms},
            {"polls", r.polls},
            {"poll_errors", r.poll_errors},
        };
    }
    if (s.memory)
        out["server_memory"] = {{"pid", s.memory->pid},
                                {"vm_hwm_kb", s.memory->vm_hwm_kb},
                                {"vm_rss_kb", s.memory->vm_rss_kb}};
    std::cout << out.dump(2) << "\n";
}

}  // namespace facefuse::cli::loadgen
