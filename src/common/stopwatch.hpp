#pragma once
// Monotonic stopwatch for per-stage timings (bench, progress, later metrics).
#include <chrono>

namespace facefuse {

class Stopwatch {
public:
    Stopwatch() : start_(std::chrono::steady_clock::now()) {}
    double elapsed_ms() const {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
            .count();
    }
    // Returns the time since the last lap (or construction) and starts a new lap.
    double lap_ms() {
        const auto now = std::chrono::steady_clock::now();
        const double ms = std::chrono::duration<double, std::milli>(now - start_).count();
        start_ = now;
        return ms;
    }

private:
    std::chrono::steady_clock::time_point start_;
};

}  // namespace facefuse
