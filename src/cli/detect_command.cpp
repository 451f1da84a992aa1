// facefuse detect: list the faces of an image with box, score and 68 landmarks.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/engine_flags.hpp"

namespace facefuse::cli {
namespace {

struct DetectCommand {
    std::string image_path;
    bool json = false;
    EngineFlags engine;

    int run() const {
        auto image = image::load_image(image_path, engine.limits);
        if (!image) return report(image.error());
        auto analyser = engine.make_analyser();
        if (!analyser) return report(analyser.error());
        const std::vector<face::Face> faces = (*analyser)->analyse(*image);

        if (json) {
            nlohmann::json out = {{"image", image_path},
                                  {"width", image->cols},
                                  {"height", image->rows},
                                  {"faces", nlohmann::json::array()}};
            for (const face::Face& f : faces) {
                nlohmann::json points = nlohmann::json::array();
                for (const auto& p : f.landmarks) points.push_back({p.x, p.y});
                out["faces"].push_back({{"box", {f.box.x, f.box.y, f.box.width, f.box.height}},
                                        {"score", f.score},
                                        {"rotation", f.rotation},
                                        {"landmarks", points}});
            }
            std::cout << out.dump() << "\n";
        } else {
            std::cout << image_path << ": " << faces.size() << " face(s)\n";
            for (size_t i = 0; i < faces.size(); ++i) {
                const face::Face& f = faces[i];
                std::cout << "  #" << i << " box " << static_cast<int>(f.box.x) << ","
                          << static_cast<int>(f.box.y) << " " << static_cast<int>(f.box.width)
                          << "x" << static_cast<int>(f.box.height) << " score " << f.score;
                if (f.rotation) std::cout << " rotated " << f.rotation;
                std::cout << "\n";
            }
        }
        return 0;
    }
};

}  // namespace

void add_detect_command(CLI::App& app, CommandRun& run) {
    auto cmd = std::make_shared<DetectCommand>();
    CLI::App* c = app.add_subcommand("detect", "List the faces in IMAGE (box, score, 68 landmarks)");
    c->footer("Finding no face is not an error here: the count is 0 and the exit code 0.\n"
              "Example: facefuse detect group.jpg --json | jq '.faces | length'");
    c->add_option("image", cmd->image_path, "image file")->required();
    c->add_flag("--json", cmd->json, "print JSON with landmarks instead of a summary");
    cmd->engine.add_to(*c);
    c->callback([cmd, &run] { run = [cmd] { return cmd->run(); }; });
}

}  // namespace facefuse::cli
