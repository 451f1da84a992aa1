// facefuse models list | verify | pull: what an operator or an init container does with the model
// set a manifest names. `list` reads only the manifest and the file system; `verify` hashes every
// file; `pull` installs the set into a model directory from S3, an HTTP(S) server or a folder
// (models/pull.hpp holds the rules that keep that directory safe to serve from).
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/engine_flags.hpp"
#include "cli/s3_flags.hpp"
#include "image/decode.hpp"
#include "models/manifest.hpp"
#include "models/pull.hpp"
#include "storage/s3/s3_blob_store.hpp"
#include "storage/s3/s3_http.hpp"

namespace facefuse::cli {
namespace {

constexpr long kFetchTimeoutMs = 10 * 60 * 1000;  // a 100 MB model over a slow link

std::string megabytes(std::uint64_t bytes) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MB";
    return out.str();
}

void add_manifest_option(CLI::App& command, std::string& manifest, const std::string& default_text) {
    command.add_option("--models-manifest", manifest, "JSON manifest of the model set (docs/models.md); " + default_text)
        ->envname("FACEFUSE_MODELS_MANIFEST");
}

struct ListCommand {
    std::string manifest;
    bool json = false;

    int run() const {
        auto set = models::load_manifest(manifest);
        if (!set) return report(set.error());
        nlohmann::json out = nlohmann::json::array();
        for (const models::ModelSpec& spec : set->models) {
            std::error_code ec;
            const bool present = std::filesystem::is_regular_file(spec.path, ec);
            const std::uint64_t size = present ? std::filesystem::file_size(spec.path, ec) : 0;
            if (json) {
                out.push_back({{"name", spec.name}, {"version", spec.version}, {"kind", spec.kind},
                               {"path", spec.path.string()}, {"sha256", spec.sha256}, {"license", spec.license},
                               {"present", present}, {"bytes", size}});
                continue;
            }
            std::cout << spec.name << "  " << spec.version << "  " << spec.kind << "  "
                      << (present ? megabytes(size) : std::string("MISSING")) << "  " << spec.path.string()
                      << "\n    licence: " << spec.license << "\n";
        }
        if (json) std::cout << out.dump(2) << "\n";
        return 0;
    }
};

struct VerifyCommand {
    std::string manifest;

    int run() const {
        auto set = models::load_manifest(manifest);
        if (!set) return report(set.error());
        int failures = 0;
        for (const models::ModelSpec& spec : set->models) {
            if (Status st = models::verify_model(spec); !st) {
                ++failures;
                std::cout << "FAIL  " << spec.name << " " << spec.version << ": " << st.error().message << "\n";
                continue;
            }
            std::cout << "ok    " << spec.name << " " << spec.version << "  " << spec.path.string() << "\n";
        }
        if (failures == 0) return 0;
        return report(make_error(ErrorCode::kModelUnavailable,
                                 std::to_string(failures) + " of " + std::to_string(set->models.size()) +
                                     " models failed verification: run `facefuse models pull` or fix the manifest"));
    }
};

// --from s3://BUCKET/PREFIX: objects PREFIX/<source> in BUCKET, through the S3 flags.
Result<models::FetchModel> s3_fetcher(const std::string& from, const S3Flags& flags, std::uint64_t max_bytes) {
    const std::string rest = from.substr(5);
    const std::size_t slash = rest.find('/');
    S3Flags named = flags;
    named.bucket = rest.substr(0, slash);
    std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    storage::S3Options options = named.options();
    options.max_object_bytes = max_bytes;
    options.timeout_ms = kFetchTimeoutMs;
    auto store = storage::make_s3_blob_store(options);
    // A bad bucket name or missing credentials is the operator's to fix, not a bug.
    if (!store) return make_error(ErrorCode::kUsage, "--from " + from + ": " + store.error().message);
    std::shared_ptr<storage::BlobStore> shared(std::move(store.value()));
    return models::FetchModel([shared, prefix](const models::ModelSpec& spec) {
        return shared->get(prefix.empty() ? spec.source : prefix + "/" + spec.source);
    });
}

// --from http(s)://HOST/PATH: GET HOST/PATH/<source>, unsigned.
models::FetchModel http_fetcher(std::string from, std::uint64_t max_bytes) {
    while (!from.empty() && from.back() == '/') from.pop_back();
    storage::s3::HttpConfig config;  // no access key: plain, unsigned GETs
    config.timeout_ms = kFetchTimeoutMs;
    config.max_response_bytes = max_bytes;
    auto client = std::make_shared<storage::s3::HttpClient>(config);
    return [client, from](const models::ModelSpec& spec) -> Result<std::vector<std::uint8_t>> {
        const std::string url = from + "/" + storage::s3_encode_key(spec.source);
        auto response = client->perform({"GET", url, {}, {}});
        if (!response) return response.error();
        if (response->status == 200) return std::move(response->body);
        const std::string status = "GET " + url + " answered HTTP " + std::to_string(response->status);
        if (response->status == 404) return make_error(ErrorCode::kNotFound, status + ": check --from and the manifest's source");
        if (response->status >= 500 || response->status == 429)
            return make_error(ErrorCode::kUnavailable, status + ": try again later");
        return make_error(ErrorCode::kModelUnavailable, status);
    };
}

// --from DIR: a mounted folder (a volume, a copy on disk).
models::FetchModel folder_fetcher(std::filesystem::path from, std::uint64_t max_bytes) {
    return [from = std::move(from), max_bytes](const models::ModelSpec& spec) {
        return image::read_file(from / spec.source, max_bytes);
    };
}

struct PullCommand {
    std::string manifest;
    std::string from;
    std::string model_dir;
    std::uint64_t max_bytes = 4ull << 30;
    S3Flags s3;

    int run() const {
        auto set = models::read_manifest(manifest, model_dir);
        if (!set) return report(set.error());
        models::FetchModel fetch;
        if (from.rfind("s3://", 0) == 0) {
            auto fetcher = s3_fetcher(from, s3, max_bytes);
            if (!fetcher) return report(fetcher.error());
            fetch = std::move(fetcher.value());
        } else if (from.rfind("http://", 0) == 0 || from.rfind("https://", 0) == 0) {
            fetch = http_fetcher(from, max_bytes);
        } else {
            fetch = folder_fetcher(from, max_bytes);
        }
        auto pulled = models::pull_models(*set, model_dir, fetch);
        if (!pulled) return report(pulled.error());
        for (const models::PulledModel& model : *pulled) {
            std::cout << (model.fetched ? "pulled      " : "up to date  ") << model.name << " " << model.version << "  "
                      << megabytes(model.bytes) << "  " << model.path.string() << "\n";
        }
        std::cout << "manifest    " << (std::filesystem::path(model_dir) / "manifest.json").string()
                  << "  (serve with --models-manifest " << (std::filesystem::path(model_dir) / "manifest.json").string()
                  << ")\n";
        return 0;
    }
};

}  // namespace

void add_models_command(CLI::App& app, CommandRun& run) {
    CLI::App* m = app.add_subcommand("models", "List, verify and install the models a manifest names");
    m->require_subcommand(1);
    m->footer("A manifest is JSON: {\"models\": [{\"name\", \"version\", \"kind\", \"path\", \"sha256\", \"license\", "
              "\"source\"}]}.\nWithout --models-manifest, list and verify show the built-in set (Debian's landmark "
              "model).\nSee docs/models.md.");

    auto list = std::make_shared<ListCommand>();
    CLI::App* l = m->add_subcommand("list", "Show the models of a manifest and whether their files are there");
    add_manifest_option(*l, list->manifest, "default: the built-in one");
    l->add_flag("--json", list->json, "print JSON instead of text");
    l->callback([list, &run] { run = [list] { return list->run(); }; });

    auto verify = std::make_shared<VerifyCommand>();
    CLI::App* v = m->add_subcommand("verify", "Check every model file against the manifest's sha256 (exit 5 if one fails)");
    add_manifest_option(*v, verify->manifest, "default: the built-in one");
    v->callback([verify, &run] { run = [verify] { return verify->run(); }; });

    auto pull = std::make_shared<PullCommand>();
    CLI::App* p = m->add_subcommand("pull", "Install a manifest's models into a directory, checking each sha256");
    p->footer("Fetches SOURCE/<source> for every model whose file is missing or does not match, checks its sha256,\n"
              "writes it atomically, then writes DIR/manifest.json (serve with --models-manifest DIR/manifest.json).\n"
              "Examples:\n"
              "  facefuse models pull --models-manifest deploy/models/manifest.json --model-dir /models \\\n"
              "      --from s3://facefuse-models/v1 --s3-endpoint http://minio:9000\n"
              "  facefuse models pull --models-manifest manifest.json --model-dir /models --from https://models.example.com/v1\n"
              "  facefuse models pull --models-manifest manifest.json --model-dir /models --from /mnt/model-volume");
    add_manifest_option(*p, pull->manifest, "its relative paths are installed under --model-dir");
    p->get_option("--models-manifest")->required();
    p->add_option("--from", pull->from, "s3://BUCKET/PREFIX, http(s)://HOST/PATH or a folder")
        ->envname("FACEFUSE_MODELS_FROM")
        ->required();
    p->add_option("--model-dir", pull->model_dir, "directory to install into (created if missing)")
        ->envname("FACEFUSE_MODEL_DIR")
        ->required();
    p->add_option("--max-model-bytes", pull->max_bytes, "refuse a model file larger than this")->capture_default_str();
    pull->s3.add_to(*p, false);
    p->callback([pull, &run] { run = [pull] { return pull->run(); }; });
}

}  // namespace facefuse::cli
