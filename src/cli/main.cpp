// facefuse: one binary, subcommands pick the role (today: the engine on files).
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "build_info.hpp"
#include "cli/commands.hpp"
#include "common/image_memory.hpp"
#include "models/model_spec.hpp"

int main(int argc, char** argv) {
    using namespace facefuse::cli;
    facefuse::keep_image_memory();  // before any thread starts (common/image_memory.hpp)
    CLI::App app{"facefuse: face swap engine. Put the face of one photo into another.\n"};
    app.require_subcommand(1);
    app.set_version_flag("--version",
                         std::string("facefuse ") + facefuse::build::kVersion + " (" +
                             facefuse::build::kBuildType + ")\nlandmark model: " +
                             facefuse::models::default_landmark_model().license);
    app.footer("Run `facefuse COMMAND --help` for a command's options.");

    CommandRun run;
    add_swap_command(app, run);
    add_detect_command(app, run);
    add_bench_command(app, run);
    add_contact_sheet_command(app, run);
    add_serve_command(app, run);
    add_loadgen_command(app, run);
    add_cluster_commands(app, run);
    add_token_command(app, run);
    add_models_command(app, run);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);  // prints the message and the hint to --help
        return 2;     // our usage exit code, whatever CLI11's own number is
    }
    try {
        return run ? run() : 2;
    } catch (const std::exception& e) {
        // Layers return errors as values; reaching here is a bug, but it must not be a crash.
        std::cerr << "facefuse: internal: " << e.what() << " (please report this)\n";
        return 1;
    }
}
