#pragma once
// The subcommands. Each adds itself to `app` and, when chosen, sets `run` to the function main
// calls after parsing; that function returns the process exit code.
#include <functional>

#include <CLI/CLI.hpp>

namespace facefuse::cli {

using CommandRun = std::function<int()>;

void add_swap_command(CLI::App& app, CommandRun& run);
void add_detect_command(CLI::App& app, CommandRun& run);
void add_bench_command(CLI::App& app, CommandRun& run);
void add_contact_sheet_command(CLI::App& app, CommandRun& run);
void add_serve_command(CLI::App& app, CommandRun& run);
void add_loadgen_command(CLI::App& app, CommandRun& run);
void add_cluster_commands(CLI::App& app, CommandRun& run);  // gateway, worker
void add_token_command(CLI::App& app, CommandRun& run);
void add_models_command(CLI::App& app, CommandRun& run);  // models list | verify | pull

}  // namespace facefuse::cli
