#include "obs/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <string_view>
#include <type_traits>

namespace facefuse::obs {
namespace {

// Relaxed throughout: a metric orders nothing else, it only has to add up.
void atomic_add(std::atomic<double>& target, double amount) {
    double current = target.load(std::memory_order_relaxed);
    while (!target.compare_exchange_weak(current, current + amount, std::memory_order_relaxed)) {
    }
}

bool is_metric_name(std::string_view s) {
    if (s.empty()) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

bool is_label_name(std::string_view s) {
    return is_metric_name(s) && s.find(':') == std::string_view::npos;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one (overlong forms,
// surrogates and code points past U+10FFFF are invalid, as in Go's utf8.ValidString).
size_t utf8_sequence_length(std::string_view s, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) return 1;
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) lo = 0xA0;  // overlong
        if (b0 == 0xED) hi = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) lo = 0x90;  // overlong
        if (b0 == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else {
        return 0;
    }
    if (i + len > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
    for (size_t k = 2; k < len; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    }
    return len;
}

bool is_valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const size_t len = utf8_sequence_length(s, i);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

// Prometheus rejects a whole scrape over one invalid UTF-8 label value, and label values can
// come from requests; so each invalid byte becomes U+FFFD.
std::string to_valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const size_t len = utf8_sequence_length(s, i);
        if (len == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    return out;
}

// Finite, strictly increasing; a trailing +Inf is dropped because that bucket always exists.
std::vector<double> normalize_bounds(std::vector<double> bounds) {
    if (!bounds.empty() && bounds.back() == std::numeric_limits<double>::infinity()) {
        bounds.pop_back();
    }
    for (size_t i = 0; i < bounds.size(); ++i) {
        if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
            throw std::invalid_argument(
                "histogram bucket bounds must be finite and strictly increasing");
        }
    }
    return bounds;
}

template <typename Metric>
std::unique_ptr<Metric> make_child(const std::vector<double>& upper_bounds) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
        return std::make_unique<Histogram>(upper_bounds);
    } else {
        return std::make_unique<Metric>();
    }
}

template <typename Metric>
constexpr const char* type_name() {
    if constexpr (std::is_same_v<Metric, Counter>) return "counter";
    if constexpr (std::is_same_v<Metric, Gauge>) return "gauge";
    return "histogram";
}

// Numbers as Go's strconv.FormatFloat(v, 'g', -1, 64) writes them (shortest digits that read
// back exactly, "NaN", "+Inf", "-Inf"), except that values up to 1e21 are never written with an
// exponent: integral values then read as integers ("1000000", not "1e+06"). Buckets' le labels
// use the same function, so the default buckets read "0.005", "1", "2.5", as from the Go client.
std::string format_number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == 0) return "0";  // also for -0
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    // The exponent follows 'e' as "+21" or "-05"; buf is not NUL-terminated, so no atoi.
    const char* e = std::find(buf, r.ptr, 'e') + 1;
    int exponent = 0;
    std::from_chars(*e == '+' ? e + 1 : e, r.ptr, exponent);
    if (exponent >= -4 && exponent < 21) {
        r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    }
    return std::string(buf, r.ptr);
}

void append_escaped(std::string& out, std::string_view s, bool escape_quote) {
    for (const char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && escape_quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

// `a="x",b="y"` without braces, so a histogram can append its le pair.
std::string label_pairs(const std::vector<std::string>& names,
                        const std::vector<std::string>& values) {
    std::string out;
    for (size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += ',';
        out += names[i];
        out += "=\"";
        append_escaped(out, values[i], /*escape_quote=*/true);
        out += '"';
    }
    return out;
}

void append_sample(std::string& out, const std::string& name, const std::string& pairs,
                   double value) {
    out += name;
    if (!pairs.empty()) out += '{' + pairs + '}';
    out += ' ';
    out += format_number(value);
    out += '\n';
}

void append_header(std::string& out, const std::string& name, const std::string& help,
                   const char* type) {
    out += "# HELP " + name + ' ';
    append_escaped(out, help, /*escape_quote=*/false);
    out += "\n# TYPE " + name + ' ' + type + '\n';
}

template <typename Metric>
void append_family(std::string& out, const Family<Metric>& family) {
    append_header(out, family.name(), family.help(), type_name<Metric>());
    for (const auto& [values, metric] : family.children()) {
        const std::string pairs = label_pairs(family.label_names(), values);
        if constexpr (std::is_same_v<Metric, Histogram>) {
            const Histogram::Snapshot snap = metric->snapshot();
            const std::string prefix = pairs.empty() ? "le=\"" : pairs + ",le=\"";
            for (size_t i = 0; i < snap.cumulative_counts.size(); ++i) {
                const double le = i < snap.upper_bounds.size()
                                      ? snap.upper_bounds[i]
                                      : std::numeric_limits<double>::infinity();
                append_sample(out, family.name() + "_bucket", prefix + format_number(le) + '"',
                              static_cast<double>(snap.cumulative_counts[i]));
            }
            append_sample(out, family.name() + "_sum", pairs, snap.sum);
            append_sample(out, family.name() + "_count", pairs, static_cast<double>(snap.count));
        } else {
            append_sample(out, family.name(), pairs, metric->value());
        }
    }
}

}  // namespace

// --- Counter, Gauge, Histogram ---------------------------------------------------------------

void Counter::inc(double amount) {
    if (!(amount >= 0)) throw std::invalid_argument("Counter::inc: amount must be >= 0");
    atomic_add(value_, amount);
}
double Counter::value() const {
    return value_.load(std::memory_order_relaxed);
}

void Gauge::set(double value) {
    value_.store(value, std::memory_order_relaxed);
}
void Gauge::inc(double amount) {
    atomic_add(value_, amount);
}
double Gauge::value() const {
    return value_.load(std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(normalize_bounds(std::move(upper_bounds))),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double value) {
    // First bound >= value; NaN compares false with everything, so it goes past the end (+Inf).
    const size_t i =
        std::isnan(value)
            ? bounds_.size()
            : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                  bounds_.begin());
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    atomic_add(sum_, value);
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot snap;
    snap.upper_bounds = bounds_;
    snap.cumulative_counts.resize(bounds_.size() + 1);
    std::uint64_t running = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
        running += buckets_[i].load(std::memory_order_relaxed);
        snap.cumulative_counts[i] = running;
    }
    snap.count = running;
    snap.sum = sum_.load(std::memory_order_relaxed);
    return snap;
}

std::vector<double> default_seconds_buckets() {
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

// --- Family ----------------------------------------------------------------------------------

template <typename Metric>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> upper_bounds)
    : name_(std::move(name)),
      help_(to_valid_utf8(help)),
      label_names_(std::move(label_names)),
      upper_bounds_(std::is_same_v<Metric, Histogram> ? normalize_bounds(std::move(upper_bounds))
                                                      : std::vector<double>{}) {
    if (!is_metric_name(name_)) throw std::invalid_argument("invalid metric name: " + name_);
    std::set<std::string_view> seen;
    for (const auto& label : label_names_) {
        if (!is_label_name(label) || label.starts_with("__") || !seen.insert(label).second ||
            (std::is_same_v<Metric, Histogram> && label == "le")) {
            throw std::invalid_argument("metric " + name_ + ": invalid or duplicate label name '" +
                                        label + "'");
        }
    }
    if (label_names_.empty())
        children_.emplace(std::vector<std::string>{}, make_child<Metric>(upper_bounds_));
}

template <typename Metric>
Metric& Family<Metric>::labels(const std::vector<std::string>& values) {
    if (values.size() != label_names_.size()) {
        std::string expected;
        for (const auto& label : label_names_) expected += (expected.empty() ? "" : ", ") + label;
        throw std::invalid_argument("metric " + name_ + ": " + std::to_string(values.size()) +
                                    " label values given, expected " +
                                    std::to_string(label_names_.size()) + " (" + expected + ")");
    }
    // Sanitized before lookup, so values that expose the same also share one child (two series
    // with the same labels would make the exposition invalid).
    std::vector<std::string> sanitized;
    const bool valid = std::all_of(values.begin(), values.end(),
                                   [](const std::string& v) { return is_valid_utf8(v); });
    if (!valid) {
        for (const auto& v : values) sanitized.push_back(to_valid_utf8(v));
    }
    const std::vector<std::string>& key = valid ? values : sanitized;

    std::lock_guard lock(mutex_);
    auto it = children_.find(key);
    if (it == children_.end()) {
        it = children_.emplace(key, make_child<Metric>(upper_bounds_)).first;
    }
    return *it->second;
}

template <typename Metric>
std::vector<std::pair<std::vector<std::string>, const Metric*>> Family<Metric>::children() const {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::vector<std::string>, const Metric*>> out;
    out.reserve(children_.size());
    for (const auto& [values, metric] : children_) out.emplace_back(values, metric.get());
    return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- Registry --------------------------------------------------------------------------------

Registry& Registry::global() {
    // Never destroyed: threads still running at exit (and static destructors) may update metrics.
    static Registry* const registry = new Registry();
    return *registry;
}

template <typename Metric>
Family<Metric>& Registry::get_or_create(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> upper_bounds) {
    std::lock_guard lock(mutex_);
    if (auto it = families_.find(name); it != families_.end()) {
        if (auto* family = std::get_if<std::unique_ptr<Family<Metric>>>(&it->second)) {
            return **family;
        }
        throw std::invalid_argument("metric " + name + " is already registered as another type");
    }
    auto family = std::make_unique<Family<Metric>>(name, help, std::move(label_names),
                                                   std::move(upper_bounds));
    Family<Metric>& ref = *family;
    families_.emplace(name, std::move(family));
    return ref;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
    return get_or_create<Counter>(name, help, std::move(label_names), {});
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names) {
    return get_or_create<Gauge>(name, help, std::move(label_names), {});
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names,
                                       std::vector<double> upper_bounds) {
    return get_or_create<Histogram>(name, help, std::move(label_names), std::move(upper_bounds));
}

std::string Registry::expose() const {
    // Copy the family pointers and release the lock: families are never removed, and a slow
    // scrape must not block a thread registering a family.
    std::vector<const AnyFamily*> families;
    {
        std::lock_guard lock(mutex_);
        families.reserve(families_.size());
        for (const auto& entry : families_) families.push_back(&entry.second);
    }
    std::string out;
    for (const AnyFamily* family : families) {
        std::visit([&out](const auto& f) { append_family(out, *f); }, *family);
    }
    return out;
}

}  // namespace facefuse::obs
