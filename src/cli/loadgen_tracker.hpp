#pragma once
// facefuse loadgen --wait-results: a few poller threads follow the submitted tasks with
// GET /v1/tasks/{id} until each one is finished, to measure end-to-end latency.
//
// Polling every pending task would flood the server it measures (thousands of GETs a second
// with a backlog), so the pollers only look at the oldest `window` unfinished tasks, each at
// most once per `interval`, and within those stop at the third task last seen "queued": the
// server's queue is first-in first-out, so nothing behind a queued task can have finished.
// That leaves about (workers + 2) polls per interval. Two queued ones, not one, because our
// order (answers received) and the server's (enqueued) may differ by a few places. The cost:
// a task that overtakes older ones (a retry sent to the back) is seen late; the server-side
// time (created_at to finished_at) is reported beside it and does not depend on polling.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace facefuse::cli::loadgen {

using Clock = std::chrono::steady_clock;

struct TrackerResults {
    std::vector<double> e2e_ms;               // upload start -> the poll that saw the task finished
    std::vector<double> server_ms;            // the task's own created_at -> finished_at
    std::map<std::string, long> outcomes;     // succeeded / failed / cancelled / lost
    std::map<std::string, long> poll_errors;  // HTTP code or curl message -> count
    long polls = 0;
    long unfinished = 0;  // still pending at the drain deadline
    Clock::time_point last_finished{};
};

class ResultTracker {
  public:
    ResultTracker(std::string base_url, int pollers, std::chrono::milliseconds interval,
                  size_t window, std::string bearer_token = {});
    ~ResultTracker();
    ResultTracker(const ResultTracker&) = delete;
    ResultTracker& operator=(const ResultTracker&) = delete;

    // A task was accepted; `submitted` is when its upload began.
    void add(std::string id, Clock::time_point submitted);
    // No more tasks will come: pollers stop when none is pending or at `deadline`.
    // Blocks until they have stopped, then returns what they measured.
    TrackerResults finish(Clock::time_point deadline);

  private:
    struct Pending {
        std::string id;
        Clock::time_point submitted, due;
        bool in_flight = false;
        bool queued = false;  // the last poll said "queued"
    };
    void poll_loop();
    // Under the lock: the oldest due task within the window, or pending_.end(); `wake` gets
    // the earliest time one becomes due.
    std::map<std::uint64_t, Pending>::iterator pick(Clock::time_point now, Clock::time_point& wake);
    // Under the lock: applies one poll's answer, removing the task once it is finished (or gone).
    void settle(std::uint64_t seq, long status, const std::string& body, const std::string& error);

    std::string base_;
    std::string bearer_token_;
    std::chrono::milliseconds interval_;
    size_t window_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::map<std::uint64_t, Pending> pending_;  // by submission order
    std::uint64_t next_seq_ = 0;
    bool closed_ = false;
    Clock::time_point deadline_ = Clock::time_point::max();
    TrackerResults results_;
    std::vector<std::thread> threads_;
};

}  // namespace facefuse::cli::loadgen
