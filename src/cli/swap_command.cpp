// facefuse swap: put the face of SOURCE into TARGET, write OUTPUT.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/engine_flags.hpp"
#include "cli/swap_flags.hpp"
#include "common/stopwatch.hpp"
#include "fusion/pipeline.hpp"
#include "image/encode.hpp"
#include "image/provenance.hpp"

namespace facefuse::cli {
namespace {

struct SwapCommand {
    std::string source, target, output;
    int quality = 90;
    bool quiet = false;
    bool no_provenance = false;
    EngineFlags engine;
    SwapFlags swap;

    int run() const {
        Stopwatch clock;
        auto options = swap.to_options();
        if (!options) return report(options.error());
        // Check the output's format before spending time on the swap.
        if (auto format = image::format_from_extension(output); !format) return report(format.error());

        StageTimings timings;
        auto source_image = image::load_image(source, engine.limits);
        if (!source_image) return report(source_image.error());
        auto target_image = image::load_image(target, engine.limits);
        if (!target_image) return report(target_image.error());
        timings.decode_ms = clock.lap_ms();

        auto analyser = engine.make_analyser();
        if (!analyser) return report(analyser.error());
        const double load_ms = clock.lap_ms();

        fusion::SwapJob job{*source_image, *target_image, *options, swap.processor_list(), std::nullopt};
        auto result = fusion::run_swap(job, **analyser, &timings);
        if (!result) return report(result.error());
        clock.lap_ms();

        // The output says in its metadata that it is AI-generated (docs/content-policy.md).
        const std::string_view marker = no_provenance ? std::string_view() : image::kDefaultProvenanceText;
        if (Status st = image::save_image(*result, output, quality, marker); !st) return report(st.error());
        timings.encode_ms = clock.lap_ms();
        if (!quiet) {
            std::cerr << "facefuse: wrote " << output << " (" << result->cols << "x" << result->rows
                      << "); model load " << static_cast<int>(load_ms) << " ms, decode "
                      << static_cast<int>(timings.decode_ms) << " ms, engine "
                      << static_cast<int>(timings.engine_ms()) << " ms, encode "
                      << static_cast<int>(timings.encode_ms) << " ms\n";
        }
        return 0;
    }
};

}  // namespace

void add_swap_command(CLI::App& app, CommandRun& run) {
    auto cmd = std::make_shared<SwapCommand>();
    CLI::App* c = app.add_subcommand("swap", "Put the face of SOURCE into TARGET and write OUTPUT");
    c->footer(
        "Examples:\n"
        "  facefuse swap -s me.jpg -t group.jpg -o out.png\n"
        "      every face in group.jpg gets my face\n"
        "  facefuse swap -s me.jpg -t group.jpg -o out.jpg --face-selector-mode one \\\n"
        "      --face-selector-order left-right --face-position 1\n"
        "      only the second face from the left\n"
        "  facefuse swap -s me.jpg -t you.jpg -o out.png --debug-overlay\n"
        "      also draw boxes, landmarks and the mask outline\n"
        "Exit codes: 0 ok, 2 usage, 3 input error, 4 no face, 5 model/output problem.");
    c->add_option("-s,--source", cmd->source, "image with the face to use")->required();
    c->add_option("-t,--target", cmd->target, "image whose face(s) are replaced")->required();
    c->add_option("-o,--output", cmd->output,
                  "where to write the result; its extension picks the format: .png .jpg .webp .bmp")
        ->required();
    c->add_option("--output-quality", cmd->quality, "JPEG/WebP quality 0..100")
        ->check(CLI::Range(0, 100))
        ->capture_default_str();
    c->add_flag("-q,--quiet", cmd->quiet, "print nothing on success");
    c->add_flag("--no-provenance", cmd->no_provenance,
                "do not mark the output as AI-generated in its metadata (XMP + comment)");
    cmd->engine.add_to(*c);
    cmd->swap.add_to(*c);
    c->callback([cmd, &run] { run = [cmd] { return cmd->run(); }; });
}

}  // namespace facefuse::cli
