#pragma once
// "500ms", "30s", "10m", "24h" -> milliseconds, for flags like --task-ttl.
#include <chrono>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace facefuse::cli {

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

// A CLI11 validator that accepts what parse_duration accepts.
CLI::Validator duration_validator();

}  // namespace facefuse::cli
