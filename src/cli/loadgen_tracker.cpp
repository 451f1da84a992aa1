#include "cli/loadgen_tracker.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

#include "cli/loadgen_http.hpp"

namespace facefuse::cli::loadgen {
namespace {

// The API's "2024-05-01T12:34:56.789Z" -> ms since the epoch; -1 for null or a bad value.
long long epoch_ms(const nlohmann::json& value) {
    if (!value.is_string()) return -1;
    std::tm t{};
    int ms = 0;
    if (std::sscanf(value.get<std::string>().c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &t.tm_year,
                    &t.tm_mon, &t.tm_mday, &t.tm_hour, &t.tm_min, &t.tm_sec, &ms) != 7)
        return -1;
    t.tm_year -= 1900;
    t.tm_mon -= 1;
    return static_cast<long long>(timegm(&t)) * 1000 + ms;
}

}  // namespace

ResultTracker::ResultTracker(std::string base_url, int pollers, std::chrono::milliseconds interval,
                             size_t window, std::string bearer_token)
    : base_(std::move(base_url)), bearer_token_(std::move(bearer_token)), interval_(interval), window_(window) {
    for (int i = 0; i < pollers; ++i) threads_.emplace_back([this] { poll_loop(); });
}

ResultTracker::~ResultTracker() {
    if (!threads_.empty()) (void)finish(Clock::now());  // an early exit: stop at once
}

void ResultTracker::add(std::string id, Clock::time_point submitted) {
    {
        std::lock_guard lock(mutex_);
        // Due at once: a quick task (noop) is often finished by the first poll.
        pending_.emplace(next_seq_++, Pending{std::move(id), submitted, Clock::now()});
    }
    wake_.notify_one();
}

TrackerResults ResultTracker::finish(Clock::time_point deadline) {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        deadline_ = deadline;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    std::lock_guard lock(mutex_);
    results_.unfinished = static_cast<long>(pending_.size());
    return std::move(results_);
}

void ResultTracker::poll_loop() {
    Connection connection(base_, 5000, bearer_token_);
    std::unique_lock lock(mutex_);
    while (true) {
        const auto now = Clock::now();
        if (closed_ && (pending_.empty() || now >= deadline_)) return;
        Clock::time_point wake = closed_ ? deadline_ : Clock::time_point::max();
        const auto next = pick(now, wake);
        if (next == pending_.end()) {
            // A timed wait for the next poll due, or until a submit, a settle or finish()
            // wakes us: never a fixed sleep.
            if (wake == Clock::time_point::max())
                wake_.wait(lock);
            else
                wake_.wait_until(lock, wake);
            continue;
        }
        next->second.in_flight = true;  // no other poller touches it, so `seq` stays valid
        const std::uint64_t seq = next->first;
        const std::string path = "/v1/tasks/" + next->second.id;
        lock.unlock();
        const Reply reply = connection.get(path);
        lock.lock();
        settle(seq, reply.status, reply.body, reply.error);
        wake_.notify_all();  // a new due time or an empty set: other pollers recompute
    }
}

std::map<std::uint64_t, ResultTracker::Pending>::iterator ResultTracker::pick(
    Clock::time_point now, Clock::time_point& wake) {
    constexpr int kQueuedAhead = 2;  // see the header
    size_t seen = 0;
    int queued = 0;
    for (auto it = pending_.begin(); it != pending_.end() && seen < window_; ++it, ++seen) {
        if (it->second.queued && ++queued > kQueuedAhead) break;
        if (it->second.in_flight) continue;
        if (it->second.due <= now) return it;
        wake = std::min(wake, it->second.due);
    }
    return pending_.end();
}

void ResultTracker::settle(std::uint64_t seq, long status, const std::string& body,
                           const std::string& error) {
    const auto it = pending_.find(seq);
    const auto now = Clock::now();
    ++results_.polls;
    auto retry_later = [&] {
        it->second.in_flight = false;
        it->second.due = now + interval_;
    };
    if (!error.empty() || status != 200) {
        ++results_.poll_errors[error.empty() ? std::to_string(status) : "curl: " + error];
        if (status == 404 || status == 410) {  // expired or unknown: it will never finish
            ++results_.outcomes["lost"];
            pending_.erase(it);
        } else {
            retry_later();
        }
        return;
    }
    const auto task = nlohmann::json::parse(body, nullptr, false);
    const auto field = [&](const char* name) {
        return task.is_object() && task.contains(name) ? task[name] : nlohmann::json();
    };
    const nlohmann::json status_field = field("status");
    const std::string state = status_field.is_string() ? status_field.get<std::string>() : "";
    if (state != "succeeded" && state != "failed" && state != "cancelled") {
        it->second.queued = state == "queued";
        return retry_later();
    }
    ++results_.outcomes[state];
    results_.e2e_ms.push_back(
        std::chrono::duration<double, std::milli>(now - it->second.submitted).count());
    const long long created = epoch_ms(field("created_at"));
    const long long finished = epoch_ms(field("finished_at"));
    if (created > 0 && finished >= created)
        results_.server_ms.push_back(static_cast<double>(finished - created));
    results_.last_finished = now;
    pending_.erase(it);
}

}  // namespace facefuse::cli::loadgen
