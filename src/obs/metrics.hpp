#pragma once
// Metrics registry and Prometheus text exposition (format 0.0.4).
//
// The one mutable global the code style allows: instrumentation is everywhere, and threading a
// registry through every constructor buys nothing. Families are created once (usually in a
// function-local static) and hold their children; children are looked up by label values and
// updated lock-free (atomics). Names follow DESIGN.md with the `facefuse_` prefix; counters end
// in `_total` and durations in `_seconds` (promtool's lint insists on the first).
//
//   auto& requests = obs::Registry::global().counter(
//       "facefuse_http_requests_total", "HTTP requests by route, method and status",
//       {"route", "method", "code"});
//   requests.labels({"/v1/swaps", "POST", "202"}).inc();
//
// Misuse (a bad name, the wrong number of label values, a negative counter increment) is a
// programming error and throws std::invalid_argument; it is never a runtime condition to handle.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace facefuse::obs {

// Only goes up (until the process restarts; Prometheus' rate() handles the reset).
class Counter {
  public:
    // Throws std::invalid_argument unless amount >= 0 (NaN included): a counter that went down
    // would read as a restart to rate().
    void inc(double amount = 1);
    double value() const;

  private:
    std::atomic<double> value_{0};
};

// A value that goes up and down (queue depth, tasks in flight).
class Gauge {
  public:
    void set(double value);
    void inc(double amount = 1);
    void dec(double amount = 1) { inc(-amount); }
    double value() const;

  private:
    std::atomic<double> value_{0};
};

// Counts observations into buckets by upper bound (inclusive, as Prometheus' `le` means).
class Histogram {
  public:
    // upper_bounds must be finite and strictly increasing, except that a trailing +Inf is
    // accepted and dropped (the +Inf bucket is always there). Throws std::invalid_argument.
    explicit Histogram(std::vector<double> upper_bounds);
    // NaN lands in the +Inf bucket and turns the sum into NaN, as in the Go client.
    void observe(double value);

    struct Snapshot {
        std::vector<double> upper_bounds;
        std::vector<std::uint64_t> cumulative_counts;  // per bound, then +Inf
        double sum = 0;
        std::uint64_t count = 0;  // == cumulative_counts.back()
    };
    // Not one atomic read: an observation racing with it may be in some buckets and not yet in
    // the sum. count is taken from the buckets, so _count always equals the +Inf bucket.
    Snapshot snapshot() const;

  private:
    std::vector<double> bounds_;
    // Per-bucket (not cumulative) counts, bounds_.size() + 1 of them: observe() touches one.
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
    std::atomic<double> sum_{0};
};

// Default latency buckets in seconds: 1 ms .. 30 s.
std::vector<double> default_seconds_buckets();

// One metric name with its children, one child per distinct tuple of label values. Created by
// Registry (which validates the names); not copyable or movable, so references stay put.
template <typename Metric>
class Family {
  public:
    // upper_bounds is used only by Family<Histogram> (each child gets its own copy).
    Family(std::string name, std::string help, std::vector<std::string> label_names,
           std::vector<double> upper_bounds = {});
    Family(const Family&) = delete;
    Family& operator=(const Family&) = delete;

    // The child with these label values (in the family's label order), created on first use.
    // References stay valid for the family's lifetime (for the global registry: the process').
    // Throws std::invalid_argument if values.size() != label_names().size().
    Metric& labels(const std::vector<std::string>& values);
    // For families without labels. Their one child exists from the start, so it is exposed
    // (as 0) before the first update: rate() and absent() then work from the first scrape.
    Metric& get() { return labels({}); }

    const std::string& name() const { return name_; }
    const std::string& help() const { return help_; }
    const std::vector<std::string>& label_names() const { return label_names_; }

    // The children sorted by label values, for exposition. Pointers stay valid (see labels()).
    std::vector<std::pair<std::vector<std::string>, const Metric*>> children() const;

  private:
    const std::string name_;
    const std::string help_;
    const std::vector<std::string> label_names_;
    const std::vector<double> upper_bounds_;
    // Guards the map only; children are updated without it. unique_ptr: a child never moves
    // when the map rebalances, and atomics cannot be moved anyway.
    mutable std::mutex mutex_;
    std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

// Defined in metrics.cpp for exactly these three.
extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

class Registry {
  public:
    // The process-wide registry that /metrics exposes.
    static Registry& global();

    // Production code uses global(); a private registry is for tests and tools.
    Registry() = default;
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // Returns the family with this name, creating it on first call; later calls with the same
    // name return the same family (help, labels and buckets of the first call win). Throws
    // std::invalid_argument for an invalid metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*,
    // labels [a-zA-Z_][a-zA-Z0-9_]* without a leading "__", no duplicates, no "le" on a
    // histogram) or when the name is already taken by a family of another type.
    Family<Counter>& counter(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names = {});
    Family<Gauge>& gauge(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
    Family<Histogram>& histogram(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names = {},
                                 std::vector<double> upper_bounds = default_seconds_buckets());

    // Every family in Prometheus text format 0.0.4 (Content-Type: text/plain; version=0.0.4),
    // families sorted by name, children by label values, label values escaped. A family with
    // labels but no children yet is exposed as its # HELP and # TYPE lines only.
    std::string expose() const;

  private:
    using AnyFamily = std::variant<std::unique_ptr<Family<Counter>>, std::unique_ptr<Family<Gauge>>,
                                   std::unique_ptr<Family<Histogram>>>;
    template <typename Metric>
    Family<Metric>& get_or_create(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> upper_bounds);

    mutable std::mutex mutex_;  // guards families_ (the map, not the families)
    std::map<std::string, AnyFamily> families_;
};

}  // namespace facefuse::obs
