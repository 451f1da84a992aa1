#pragma once
// facefuse loadgen's summary: the figures of one run, printed as text or as JSON.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/loadgen_tracker.hpp"

namespace facefuse::cli::loadgen {

// The server's memory from /proc/PID/status, in KiB.
struct ServerMemory {
    int pid = 0;
    long vm_hwm_kb = -1;  // peak resident set since the server started
    long vm_rss_kb = -1;  // resident set now
};

// nullopt when the process does not exist (or /proc is not readable).
std::optional<ServerMemory> read_server_memory(int pid);

struct Summary {
    std::string url, processor, stopped_by;  // stopped_by: "requests" or "duration"
    int clients = 0;
    size_t source_bytes = 0, target_bytes = 0;
    long sent = 0, accepted = 0, rejected = 0;
    std::map<std::string, long> errors;     // HTTP code or curl message -> count
    double elapsed_s = 0;                   // first submit to the last answer
    std::vector<double> submit_ms;          // accepted submits only
    std::vector<double> rejected_ms;        // 429 answers
    std::optional<TrackerResults> results;  // with --wait-results
    double results_elapsed_s = 0;           // first submit to the last task seen finished
    int poll_interval_ms = 0;
    std::optional<ServerMemory> memory;  // with --server-pid
};

void print_text(const Summary& s);
void print_json(const Summary& s);

}  // namespace facefuse::cli::loadgen
