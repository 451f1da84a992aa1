// facefuse contact-sheet: one row per (source, target) pair -- source | target | output -- so
// a person can judge swaps side by side. Failed pairs get a row with the error written in it,
// which is as useful to see as a good swap.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <opencv2/imgproc.hpp>

#include "cli/commands.hpp"
#include "cli/engine_flags.hpp"
#include "cli/swap_flags.hpp"
#include "fusion/pipeline.hpp"
#include "image/encode.hpp"

namespace facefuse::cli {
namespace {

cv::Mat cell(const cv::Mat& image, const std::string& caption, int size) {
    cv::Mat out(size + 24, size, CV_8UC3, cv::Scalar(40, 40, 40));
    if (!image.empty()) {
        const double scale = std::min(static_cast<double>(size) / image.cols,
                                      static_cast<double>(size) / image.rows);
        cv::Mat resized;
        cv::resize(image, resized, cv::Size(), scale, scale, cv::INTER_AREA);
        resized.copyTo(out(cv::Rect((size - resized.cols) / 2, 0, resized.cols, resized.rows)));
    }
    cv::putText(out, caption.substr(0, static_cast<size_t>(size / 7)), cv::Point(4, size + 17),
                cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(230, 230, 230), 1, cv::LINE_AA);
    return out;
}

struct ContactSheetCommand {
    std::vector<std::string> sources, targets;
    std::string output;
    int cell_size = 320;
    EngineFlags engine;
    SwapFlags swap;

    int run() const {
        auto options = swap.to_options();
        if (!options) return report(options.error());
        auto analyser = engine.make_analyser();
        if (!analyser) return report(analyser.error());

        std::vector<cv::Mat> rows;
        for (const auto& s : sources) {
            for (const auto& t : targets) {
                if (s == t) continue;
                auto source = image::load_image(s, engine.limits);
                auto target = image::load_image(t, engine.limits);
                cv::Mat result;
                std::string caption = "output";
                if (!source) {
                    caption = std::string(source.error().code_name());
                } else if (!target) {
                    caption = std::string(target.error().code_name());
                } else {
                    fusion::SwapJob job{*source, *target, *options, swap.processor_list(), std::nullopt};
                    auto swapped = fusion::run_swap(job, **analyser, nullptr);
                    if (swapped) result = *swapped; else caption = std::string(swapped.error().code_name());
                }
                std::fprintf(stderr, "%s -> %s: %s\n", s.c_str(), t.c_str(), caption.c_str());
                const auto name = [](const std::string& p) { return std::filesystem::path(p).filename().string(); };
                cv::Mat row;
                cv::hconcat(std::vector<cv::Mat>{cell(source ? *source : cv::Mat(), name(s), cell_size),
                                                 cell(target ? *target : cv::Mat(), name(t), cell_size),
                                                 cell(result, caption, cell_size)},
                            row);
                rows.push_back(row);
            }
        }
        if (rows.empty()) return report(make_error(ErrorCode::kUsage, "no (source, target) pair to show"));
        cv::Mat sheet;
        cv::vconcat(rows, sheet);
        if (Status st = image::save_image(sheet, output, 85); !st) return report(st.error());
        std::fprintf(stderr, "facefuse: wrote %s (%zu rows)\n", output.c_str(), rows.size());
        return 0;
    }
};

}  // namespace

void add_contact_sheet_command(CLI::App& app, CommandRun& run) {
    auto cmd = std::make_shared<ContactSheetCommand>();
    CLI::App* c = app.add_subcommand(
        "contact-sheet", "Swap every SOURCE into every TARGET; write source|target|output rows");
    c->footer("Example: facefuse contact-sheet -s a.jpg b.jpg -t c.jpg d.png -o sheet.jpg");
    c->add_option("-s,--source", cmd->sources, "source images")->required();
    c->add_option("-t,--target", cmd->targets, "target images")->required();
    c->add_option("-o,--output", cmd->output, "sheet image (.jpg keeps it small)")->required();
    c->add_option("--cell-size", cmd->cell_size, "side of each picture in px")
        ->check(CLI::Range(64, 2048))
        ->capture_default_str();
    cmd->engine.add_to(*c);
    cmd->swap.add_to(*c);
    c->callback([cmd, &run] { run = [cmd] { return cmd->run(); }; });
}

}  // namespace facefuse::cli
