// facefuse bench: per-stage timings of one face swap at 512x512, 1280x720 and 1920x1080,
// median of N runs, one thread, plus model load time and peak RSS. The speed targets
// are checked against these figures, never in tests.
//
// The targets are made from the user's own target photo, resized to cover each size and
// centre-cropped, so the face is large in all three (the common case for a portrait swap).
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>
#include <vector>

#include "cli/commands.hpp"
#include "cli/engine_flags.hpp"
#include "cli/swap_flags.hpp"
#include "common/stopwatch.hpp"
#include "fusion/face_swapper.hpp"
#include "fusion/pipeline.hpp"
#include "image/decode.hpp"
#include "image/encode.hpp"

namespace facefuse::cli {
namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// Resizes `image` to cover `size` and crops it around `centre` (in image coordinates), so the
// face stays in frame whatever the aspect ratios.
cv::Mat cover(const cv::Mat& image, cv::Size size, cv::Point2f centre) {
    const double scale = std::max(static_cast<double>(size.width) / image.cols,
                                  static_cast<double>(size.height) / image.rows);
    cv::Mat resized;
    cv::resize(image, resized, cv::Size(), scale, scale,
               scale < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
    const int x = std::clamp(static_cast<int>(centre.x * scale) - size.width / 2, 0,
                             resized.cols - size.width);
    const int y = std::clamp(static_cast<int>(centre.y * scale) - size.height / 2, 0,
                             resized.rows - size.height);
    return resized(cv::Rect(x, y, size.width, size.height)).clone();
}

long peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024;  // Linux reports KiB
}

struct BenchCommand {
    std::string source, target;
    int runs = 15;
    EngineFlags engine;
    SwapFlags swap;

    int run() const {
        cv::setNumThreads(1);  // the figures are per core: the service scales by processes
        auto options = swap.to_options();
        if (!options) return report(options.error());
        auto source_image = image::load_image(source, engine.limits);
        if (!source_image) return report(source_image.error());
        auto target_photo = image::load_image(target, engine.limits);
        if (!target_photo) return report(target_photo.error());

        Stopwatch load_clock;
        auto analyser = engine.make_analyser();
        if (!analyser) return report(analyser.error());
        const double load_ms = load_clock.elapsed_ms();

        // The source face is analysed once, as a service or a video would; its cost is shown
        // on its own line.
        Stopwatch source_clock;
        const std::vector<face::Face> source_faces = (*analyser)->analyse(*source_image);
        const double source_ms = source_clock.elapsed_ms();
        if (source_faces.empty())
            return report(make_error(ErrorCode::kNoFaceInSource,
                                     "no face found in the source image " + source));
        const std::vector<face::Face> photo_faces = (*analyser)->analyse(*target_photo);
        if (photo_faces.empty())
            return report(make_error(ErrorCode::kNoFaceInTarget,
                                     "no face found in the target image " + target));
        const cv::Rect2f face_box = photo_faces.front().box;
        const cv::Point2f face_centre(face_box.x + face_box.width / 2,
                                      face_box.y + face_box.height / 2);

        std::printf("facefuse bench: %d runs per size, median ms, 1 thread\n", runs);
        std::printf("model load: %.0f ms; source face analysis (once per source): %.1f ms\n\n",
                    load_ms, source_ms);
        std::printf("%-10s %7s %7s %7s %7s %7s %7s %7s %7s | %7s %7s\n", "target", "decode",
                    "detect", "landmrk", "warp", "colour", "mask", "blend", "encode", "engine",
                    "total");
        // One row: `runs` swaps of `input` (encoded bytes), each decoded, swapped and encoded
        // in `format`, as a worker does with a task whose result keeps the target's format.
        auto row = [&](const std::string& label, const std::vector<std::uint8_t>& input,
                       image::ImageFormat format) -> Status {
            std::vector<StageTimings> all;
            for (int i = 0; i < runs; ++i) {
                StageTimings t;
                Stopwatch clock;
                auto decoded = image::decode_image(input, engine.limits, "bench target");
                if (!decoded) return decoded.error();
                t.decode_ms = clock.lap_ms();
                fusion::SwapJob job{*source_image, *decoded, *options, swap.processor_list(),
                                    source_faces.front()};
                auto result = fusion::run_swap(job, **analyser, &t);
                if (!result) return result.error();
                clock.lap_ms();
                auto encoded = image::encode_image(*result, {format, 90});
                if (!encoded) return encoded.error();
                t.encode_ms = clock.lap_ms();
                all.push_back(t);
            }
            auto med = [&](double StageTimings::*field) {
                std::vector<double> v;
                for (const auto& t : all) v.push_back(t.*field);
                return median(v);
            };
            std::vector<double> engine_ms, total_ms;
            for (const auto& t : all) {
                engine_ms.push_back(t.engine_ms());
                total_ms.push_back(t.total_ms());
            }
            std::printf("%-10s %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f | %7.1f %7.1f\n",
                        label.c_str(), med(&StageTimings::decode_ms), med(&StageTimings::detect_ms),
                        med(&StageTimings::landmarks_ms), med(&StageTimings::warp_ms),
                        med(&StageTimings::colour_ms), med(&StageTimings::mask_ms),
                        med(&StageTimings::blend_ms), med(&StageTimings::encode_ms),
                        median(engine_ms), median(total_ms));
            return Status::Ok();
        };
        for (const cv::Size size :
             {cv::Size(512, 512), cv::Size(1280, 720), cv::Size(1920, 1080)}) {
            const cv::Mat frame = cover(*target_photo, size, face_centre);
            auto jpeg = image::encode_image(frame, {image::ImageFormat::kJpeg, 90});
            if (!jpeg) return report(jpeg.error());
            char label[32];
            std::snprintf(label, sizeof label, "%dx%d", size.width, size.height);
            if (Status st = row(label, *jpeg, image::ImageFormat::kJpeg); !st)
                return report(st.error());
        }
        // The target file itself, at its own size and in its own format: the engine's rate for
        // exactly what a service task with these two images does (compare `facefuse loadgen`).
        auto target_file = image::read_file(target, engine.limits.max_bytes);
        if (!target_file) return report(target_file.error());
        const auto target_format = image::sniff_format(*target_file);
        if (!target_format)
            return report(make_error(ErrorCode::kUnsupportedFormat, target + ": not an image"));
        if (Status st = row("as given", *target_file, *target_format); !st)
            return report(st.error());
        std::printf("(as given: %s, %dx%d, %s in and out)\n", target.c_str(), target_photo->cols,
                    target_photo->rows, std::string(image::format_name(*target_format)).c_str());
        print_seamless_clone_reference(**analyser, *source_image, *target_photo);
        std::printf("\npeak RSS: %ld MB\n", peak_rss_mb());
        return 0;
    }

    // The blend to beat: OpenCV's Poisson seamlessClone over this face's swap region.
    void print_seamless_clone_reference(face::FaceAnalyser& analyser, const cv::Mat& src,
                                        const cv::Mat& dst) const {
        const auto faces = analyser.analyse(dst);
        if (faces.empty()) return;
        const cv::Rect roi = fusion::swap_region(faces.front().landmarks, dst.size());
        cv::Mat patch = cover(src, roi.size(), cv::Point2f(src.cols / 2.f, src.rows / 2.f));
        cv::Mat mask(roi.size(), CV_8U, cv::Scalar(0));
        cv::ellipse(mask,
                    cv::RotatedRect(cv::Point2f(roi.width / 2.f, roi.height / 2.f),
                                    cv::Size2f(roi.width * 0.8f, roi.height * 0.8f), 0),
                    cv::Scalar(255), cv::FILLED);
        const cv::Point centre(roi.x + roi.width / 2, roi.y + roi.height / 2);
        std::vector<double> ms;
        for (int i = 0; i < std::min(runs, 5); ++i) {
            cv::Mat out;
            Stopwatch clock;
            cv::seamlessClone(patch, dst, mask, centre, out, cv::NORMAL_CLONE);
            ms.push_back(clock.elapsed_ms());
        }
        std::printf(
            "\nreference: cv::seamlessClone on this face's %dx%d region: %.1f ms "
            "(our warp+colour+mask+blend replace it)\n",
            roi.width, roi.height, median(ms));
    }
};

}  // namespace

void add_bench_command(CLI::App& app, CommandRun& run) {
    auto cmd = std::make_shared<BenchCommand>();
    CLI::App* c = app.add_subcommand("bench", "Time each stage of a swap at 512x512, 720p, 1080p");
    c->footer(
        "Example: facefuse bench -s me.jpg -t portrait.jpg --runs 21\n"
        "Prints median ms per stage (decode, detect, landmarks, warp, colour, mask, blend,\n"
        "encode), 'engine' (without decode/encode), 'total', model load time and peak RSS.\n"
        "The last row, 'as given', swaps the target file itself, at its own size and in its\n"
        "own format: the per-core rate (1000 / total ms) to compare with `facefuse loadgen`\n"
        "on the same two images.");
    c->add_option("-s,--source", cmd->source, "image with the face to use")->required();
    c->add_option("-t,--target", cmd->target,
                  "portrait photo; resized to cover each benchmark size")
        ->required();
    c->add_option("--runs", cmd->runs, "runs per size (the median is printed)")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    cmd->engine.add_to(*c);
    cmd->swap.add_to(*c);
    c->callback([cmd, &run] { run = [cmd] { return cmd->run(); }; });
}

}  // namespace facefuse::cli
