// Counter, Gauge, Histogram arithmetic, families and the registry; concurrency.
// Exposition text is in exposition_test.cpp.
#include "obs/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace facefuse::obs {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Runs body(thread_index) on n threads at once and joins them.
template <typename F>
void run_threads(int n, F body) {
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t) threads.emplace_back(body, t);
    for (auto& thread : threads) thread.join();
}

TEST(Counter, StartsAtZeroAndAdds) {
    Counter c;
    EXPECT_EQ(c.value(), 0);
    c.inc();
    c.inc(2.5);
    c.inc(0);
    EXPECT_EQ(c.value(), 3.5);
}

TEST(Counter, RejectsNegativeAndNaN) {
    Counter c;
    c.inc(4);
    EXPECT_THROW(c.inc(-1), std::invalid_argument);
    EXPECT_THROW(c.inc(kNaN), std::invalid_argument);
    EXPECT_EQ(c.value(), 4);  // unchanged by the rejected calls
}

TEST(Gauge, SetIncDec) {
    Gauge g;
    EXPECT_EQ(g.value(), 0);
    g.set(10);
    g.inc();
    g.inc(4);
    g.dec();
    g.dec(2.5);
    EXPECT_EQ(g.value(), 11.5);
    g.set(-3);
    EXPECT_EQ(g.value(), -3);
}

TEST(Histogram, BucketsAreCumulativeAndUpperBoundInclusive) {
    Histogram h({1, 2, 5});
    for (double v : {0.5, 1.0, 1.5, 2.0, 4.0, 7.0, -3.0}) h.observe(v);
    const Histogram::Snapshot s = h.snapshot();
    EXPECT_EQ(s.upper_bounds, (std::vector<double>{1, 2, 5}));
    // le=1: 0.5, 1, -3; le=2: +1.5, 2; le=5: +4; +Inf: +7
    EXPECT_EQ(s.cumulative_counts, (std::vector<std::uint64_t>{3, 5, 6, 7}));
    EXPECT_EQ(s.count, 7u);
    EXPECT_DOUBLE_EQ(s.sum, 0.5 + 1 + 1.5 + 2 + 4 + 7 - 3);
}

TEST(Histogram, EmptyHasZeroCountsAndInfBucket) {
    Histogram h({0.1});
    const auto s = h.snapshot();
    EXPECT_EQ(s.cumulative_counts, (std::vector<std::uint64_t>{0, 0}));
    EXPECT_EQ(s.count, 0u);
    EXPECT_EQ(s.sum, 0);
}

TEST(Histogram, NoBoundsIsJustInf) {
    Histogram h({});
    h.observe(1e9);
    const auto s = h.snapshot();
    EXPECT_EQ(s.cumulative_counts, (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(s.count, 1u);
}

TEST(Histogram, InfAndNaNObservationsLandInInfBucket) {
    Histogram h({1});
    h.observe(kInf);
    EXPECT_EQ(h.snapshot().cumulative_counts, (std::vector<std::uint64_t>{0, 1}));
    EXPECT_EQ(h.snapshot().sum, kInf);
    h.observe(kNaN);
    EXPECT_EQ(h.snapshot().cumulative_counts, (std::vector<std::uint64_t>{0, 2}));
    EXPECT_TRUE(std::isnan(h.snapshot().sum));
    h.observe(-kInf);  // below every bound
    EXPECT_EQ(h.snapshot().cumulative_counts, (std::vector<std::uint64_t>{1, 3}));
}

TEST(Histogram, TrailingInfBoundIsDropped) {
    Histogram h({1, 2, kInf});
    EXPECT_EQ(h.snapshot().upper_bounds, (std::vector<double>{1, 2}));
    EXPECT_EQ(h.snapshot().cumulative_counts.size(), 3u);
}

TEST(Histogram, RejectsBadBounds) {
    EXPECT_THROW(Histogram({2, 1}), std::invalid_argument);
    EXPECT_THROW(Histogram({1, 1}), std::invalid_argument);
    EXPECT_THROW(Histogram({1, kNaN}), std::invalid_argument);
    EXPECT_THROW(Histogram({-kInf, 1}), std::invalid_argument);
    EXPECT_THROW(Histogram({kInf, 1}), std::invalid_argument);
}

TEST(Histogram, DefaultSecondsBuckets) {
    EXPECT_EQ(default_seconds_buckets(),
              (std::vector<double>{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                   5, 10, 30}));
    Histogram h(default_seconds_buckets());  // valid as given
    h.observe(0.003);
    EXPECT_EQ(h.snapshot().cumulative_counts[1], 0u);  // le=0.0025
    EXPECT_EQ(h.snapshot().cumulative_counts[2], 1u);  // le=0.005
}

TEST(Family, SameLabelValuesSameChild) {
    Registry r;
    auto& f = r.counter("x_total", "x", {"a", "b"});
    Counter& c1 = f.labels({"1", "2"});
    Counter& c2 = f.labels({"1", "2"});
    Counter& c3 = f.labels({"2", "1"});
    EXPECT_EQ(&c1, &c2);
    EXPECT_NE(&c1, &c3);
    c1.inc();
    c2.inc();
    EXPECT_EQ(c1.value(), 2);
    EXPECT_EQ(c3.value(), 0);
}

TEST(Family, ChildReferencesSurviveManyInsertions) {
    Registry r;
    auto& f = r.gauge("g", "g", {"i"});
    Gauge& first = f.labels({"0"});
    first.set(42);
    for (int i = 1; i < 5000; ++i) f.labels({std::to_string(i)}).set(i);
    EXPECT_EQ(&first, &f.labels({"0"}));
    EXPECT_EQ(first.value(), 42);
    EXPECT_EQ(f.children().size(), 5000u);
}

TEST(Family, LabelCountMismatchThrows) {
    Registry r;
    auto& f = r.counter("y_total", "y", {"a", "b"});
    EXPECT_THROW(f.labels({"1"}), std::invalid_argument);
    EXPECT_THROW(f.labels({"1", "2", "3"}), std::invalid_argument);
    EXPECT_THROW(f.get(), std::invalid_argument);
    auto& plain = r.counter("z_total", "z");
    EXPECT_THROW(plain.labels({"1"}), std::invalid_argument);
    EXPECT_NO_THROW(plain.get().inc());
}

TEST(Family, UnlabelledFamilyHasItsChildFromTheStart) {
    Registry r;
    auto& f = r.histogram("h_seconds", "h");
    ASSERT_EQ(f.children().size(), 1u);
    EXPECT_EQ(f.children()[0].second, &f.get());
    EXPECT_EQ(f.get().snapshot().upper_bounds, default_seconds_buckets());
    EXPECT_TRUE(r.counter("l_total", "l", {"a"}).children().empty());
}

TEST(Family, HistogramChildrenGetTheFamilyBuckets) {
    Registry r;
    auto& f = r.histogram("b_seconds", "b", {"a"}, {0.5, 1});
    EXPECT_EQ(f.labels({"x"}).snapshot().upper_bounds, (std::vector<double>{0.5, 1}));
}

TEST(Registry, RepeatedCallsReturnTheSameFamily) {
    Registry r;
    auto& a = r.counter("req_total", "first help", {"code"});
    auto& b = r.counter("req_total", "other help", {"other", "labels"});
    EXPECT_EQ(&a, &b);
    EXPECT_EQ(b.help(), "first help");
    EXPECT_EQ(b.label_names(), (std::vector<std::string>{"code"}));
    EXPECT_EQ(&r.gauge("g", "g"), &r.gauge("g", "g"));
    EXPECT_EQ(&r.histogram("h", "h"), &r.histogram("h", "h", {}, {1, 2}));
}

TEST(Registry, NameTakenByAnotherTypeThrows) {
    Registry r;
    r.counter("m_total", "m");
    EXPECT_THROW(r.gauge("m_total", "m"), std::invalid_argument);
    EXPECT_THROW(r.histogram("m_total", "m"), std::invalid_argument);
}

TEST(Registry, InvalidNamesThrow) {
    Registry r;
    EXPECT_THROW(r.counter("", "x"), std::invalid_argument);
    EXPECT_THROW(r.counter("1abc", "x"), std::invalid_argument);
    EXPECT_THROW(r.counter("a-b", "x"), std::invalid_argument);
    EXPECT_THROW(r.counter("a_total", "x", {"a:b"}), std::invalid_argument);
    EXPECT_THROW(r.counter("a_total", "x", {"__reserved"}), std::invalid_argument);
    EXPECT_THROW(r.counter("a_total", "x", {"dup", "dup"}), std::invalid_argument);
    EXPECT_THROW(r.counter("a_total", "x", {""}), std::invalid_argument);
    EXPECT_THROW(r.histogram("h", "x", {"le"}), std::invalid_argument);
    EXPECT_THROW(r.histogram("h", "x", {}, {3, 2}), std::invalid_argument);
    // Nothing was registered by the failed calls.
    EXPECT_EQ(r.expose(), "");
    EXPECT_NO_THROW(r.counter("ns:sub_total", "colons are fine in metric names", {"le", "_x"}));
}

TEST(Registry, GlobalIsOneInstance) {
    EXPECT_EQ(&Registry::global(), &Registry::global());
    auto& f = Registry::global().counter("facefuse_obs_test_global_total", "test");
    f.get().inc();
    EXPECT_NE(Registry::global().expose().find("facefuse_obs_test_global_total 1\n"),
              std::string::npos);
}

// --- Concurrency: exact totals prove the CAS loops lose no update. ----------------------------

constexpr int kThreads = 8;
constexpr int kPerThread = 100000;

TEST(Concurrency, CounterIncrementsSumExactly) {
    Counter c;
    run_threads(kThreads, [&](int) {
        for (int i = 0; i < kPerThread; ++i) c.inc();
    });
    EXPECT_EQ(c.value(), static_cast<double>(kThreads) * kPerThread);
}

TEST(Concurrency, GaugeIncAndDecCancel) {
    Gauge g;
    g.set(7);
    run_threads(kThreads, [&](int t) {
        for (int i = 0; i < kPerThread; ++i) {
            if (t % 2 == 0) {
                g.inc(2);
            } else {
                g.dec(2);
            }
        }
    });
    EXPECT_EQ(g.value(), 7);
}

TEST(Concurrency, HistogramCountsAndSumExact) {
    Histogram h({1, 10});
    run_threads(kThreads, [&](int t) {
        for (int i = 0; i < kPerThread; ++i) h.observe(t % 2 == 0 ? 0.5 : 20);
    });
    const auto s = h.snapshot();
    const std::uint64_t half = kThreads / 2 * kPerThread;
    EXPECT_EQ(s.cumulative_counts, (std::vector<std::uint64_t>{half, half, 2 * half}));
    EXPECT_EQ(s.count, 2 * half);
    EXPECT_EQ(s.sum, half * 0.5 + half * 20.0);  // all exactly representable
}

TEST(Concurrency, LabelsFromManyThreadsShareChildren) {
    Registry r;
    auto& f = r.counter("c_total", "c", {"k"});
    constexpr int kKeys = 16;
    constexpr int kRounds = 2000;
    run_threads(kThreads, [&](int) {
        for (int i = 0; i < kRounds; ++i) f.labels({std::to_string(i % kKeys)}).inc();
    });
    ASSERT_EQ(f.children().size(), static_cast<size_t>(kKeys));
    double total = 0;
    for (const auto& [values, counter] : f.children()) total += counter->value();
    EXPECT_EQ(total, static_cast<double>(kThreads) * kRounds);
}

TEST(Concurrency, RegistryCallsFromManyThreadsReturnOneFamily) {
    Registry r;
    std::vector<Family<Histogram>*> seen(kThreads);
    run_threads(kThreads, [&](int t) {
        seen[t] = &r.histogram("shared_seconds", "s", {"t"});
        for (int i = 0; i < 1000; ++i) {
            seen[t]->labels({std::to_string(t)}).observe(0.01);
            if (i % 100 == 0) (void)r.expose();  // scraping while others update
        }
    });
    for (auto* family : seen) EXPECT_EQ(family, seen[0]);
    EXPECT_EQ(seen[0]->children().size(), static_cast<size_t>(kThreads));
}

}  // namespace
}  // namespace facefuse::obs
