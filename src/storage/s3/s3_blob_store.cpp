#include "storage/s3/s3_blob_store.hpp"

#include "common/clock.hpp"
#include "storage/s3/s3_presign.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <utility>

#include "storage/s3/s3_http.hpp"

namespace facefuse::storage {
namespace {

bool path_style_of(const S3Options& options) {
    return options.path_style.value_or(!options.endpoint.empty());
}

std::string endpoint_of(const S3Options& options) {
    std::string endpoint = options.endpoint.empty()
                               ? "https://s3." + options.region + ".amazonaws.com"
                               : options.endpoint;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    return endpoint;
}

bool all_of_chars(std::string_view s, std::string_view extra) {
    for (const char c : s) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && extra.find(c) == std::string_view::npos) return false;
    }
    return true;
}

// The text of <Tag>...</Tag> in an S3 error document, entities decoded; empty if absent.
std::string xml_element(const std::vector<std::uint8_t>& body, std::string_view tag) {
    const std::string_view doc(reinterpret_cast<const char*>(body.data()), body.size());
    // Built with append: GCC 12 warns (-Wrestrict, a false positive) on "<" + std::string(tag).
    std::string open = "<", close = "</";
    open.append(tag).append(">");
    close.append(tag).append(">");
    const std::size_t start = doc.find(open);
    if (start == std::string_view::npos) return {};
    const std::size_t from = start + open.size();
    const std::size_t end = doc.find(close, from);
    if (end == std::string_view::npos) return {};
    std::string text(doc.substr(from, end - from));
    static const std::pair<std::string_view, std::string_view> kEntities[] = {
        {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
    for (const auto& [entity, plain] : kEntities) {
        for (std::size_t at = text.find(entity); at != std::string::npos;
             at = text.find(entity, at + plain.size())) {
            text.replace(at, entity.size(), plain);
        }
    }
    return text;
}

class S3BlobStore final : public BlobStore {
  public:
    S3BlobStore(S3Options options, s3::HttpConfig http)
        : options_(std::move(options)), http_(std::move(http)) {}

    Status put(const std::string& key, std::span<const std::uint8_t> bytes,
               std::string_view content_type) override {
        if (key.empty()) return empty_key();
        if (bytes.size() > options_.max_object_bytes) {
            return make_error(ErrorCode::kInternal,
                              "S3: object \"" + key + "\" has " + std::to_string(bytes.size()) +
                                  " bytes, over the store's limit of " +
                                  std::to_string(options_.max_object_bytes) + ".");
        }
        if (content_type.find_first_of("\r\n") != std::string_view::npos) {
            return make_error(ErrorCode::kInternal, "S3: content type contains a line break.");
        }
        const std::string type =
            content_type.empty() ? "application/octet-stream" : std::string(content_type);
        auto response =
            http_.perform({"PUT", s3_object_url(options_, key), {"Content-Type: " + type}, bytes});
        if (!response) return response.error();
        if (success(response->status)) return Status::Ok();
        return status_error("store", key, *response);
    }

    Result<std::vector<std::uint8_t>> get(const std::string& key) override {
        if (key.empty()) return empty_key();
        auto response = http_.perform({"GET", s3_object_url(options_, key), {}, {}});
        if (!response) return response.error();
        if (!success(response->status)) return status_error("read", key, *response);
        if (response->body.size() > options_.max_object_bytes) {  // HttpClient allows some slack
            return make_error(ErrorCode::kInternal,
                              "S3: object \"" + key + "\" is larger than the store's limit of " +
                                  std::to_string(options_.max_object_bytes) + " bytes.");
        }
        return std::move(response->body);
    }

    Status remove(const std::string& key) override {
        if (key.empty()) return empty_key();
        auto response = http_.perform({"DELETE", s3_object_url(options_, key), {}, {}});
        if (!response) return response.error();
        if (success(response->status)) return Status::Ok();  // S3 answers 204 for a missing key
        Error error = status_error("delete", key, *response);
        if (error.code == ErrorCode::kNotFound) return Status::Ok();  // some servers say 404
        return error;
    }

    Result<std::string> presign_get(const std::string& key, std::chrono::seconds expires) override {
        return s3_presign_get(options_, key, expires, unix_now_ms() / 1000);
    }

    Result<bool> exists(const std::string& key) override {
        if (key.empty()) return empty_key();
        auto response = http_.perform({"HEAD", s3_object_url(options_, key), {}, {}});
        if (!response) return response.error();
        if (success(response->status)) return true;
        // A HEAD answer has no body, so a missing bucket looks like a missing key here.
        if (response->status == 404) return false;
        return status_error("check", key, *response);
    }

  private:
    static bool success(long status) { return status >= 200 && status < 300; }

    // An empty key would address the bucket itself: GET would list it, DELETE would delete it.
    static Error empty_key() {
        return make_error(ErrorCode::kInternal,
                          "S3: empty object key (build keys with blob_key()).");
    }

    Error status_error(std::string_view action, const std::string& key,
                       const s3::HttpResponse& response) const {
        const std::string code = xml_element(response.body, "Code");
        const std::string message = xml_element(response.body, "Message");
        std::string detail = "HTTP " + std::to_string(response.status);
        if (!code.empty()) detail += " " + code;
        if (!message.empty()) detail += ": " + message;
        const std::string what = "S3: cannot " + std::string(action) + " \"" + key +
                                 "\" in bucket \"" + options_.bucket + "\" (" + detail + ")";
        const long status = response.status;
        if (status == 404 && code == "NoSuchBucket") {
            return make_error(ErrorCode::kInternal,
                              what +
                                  ". The bucket does not exist: create it, or fix the "
                                  "configured bucket name and region.");
        }
        if (status == 404) return make_error(ErrorCode::kNotFound, what + ": no such object.");
        if (status == 403) {
            return make_error(ErrorCode::kInternal,
                              what +
                                  ". Access denied: check credentials (AWS_ACCESS_KEY_ID, "
                                  "AWS_SECRET_ACCESS_KEY, and AWS_SESSION_TOKEN for temporary "
                                  "ones), the region, and that they may use the bucket.");
        }
        if (status >= 500 || status == 429 || status == 408) {
            return make_error(ErrorCode::kUnavailable,
                              what +
                                  ". The S3 service is unavailable or throttling; the "
                                  "operation can be retried later.");
        }
        return make_error(ErrorCode::kInternal, what + ".");
    }

    S3Options options_;
    s3::HttpClient http_;
};

}  // namespace

S3Options s3_options_from_env() {
    auto env = [](const char* name) -> std::string {
        const char* value = std::getenv(name);
        return value != nullptr ? value : "";
    };
    S3Options options;
    options.access_key = env("AWS_ACCESS_KEY_ID");
    options.secret_key = env("AWS_SECRET_ACCESS_KEY");
    options.session_token = env("AWS_SESSION_TOKEN");
    return options;
}

Result<std::unique_ptr<BlobStore>> make_s3_blob_store(S3Options options) {
    auto invalid = [](const std::string& why) {
        return make_error(ErrorCode::kInternal, "S3 configuration: " + why);
    };
    if (options.bucket.empty() || options.bucket.size() > 255 ||
        !all_of_chars(options.bucket, "._-")) {
        return invalid("bucket name \"" + options.bucket +
                       "\" is empty or has characters other than letters, digits, '.', '_', '-'.");
    }
    if (options.region.empty() || !all_of_chars(options.region, "-_")) {
        return invalid("region \"" + options.region + "\" is not a region name like us-east-1.");
    }
    if (!options.endpoint.empty() && options.endpoint.rfind("http://", 0) != 0 &&
        options.endpoint.rfind("https://", 0) != 0) {
        return invalid("endpoint \"" + options.endpoint +
                       "\" must be a URL starting with http:// or https://.");
    }
    if (options.access_key.empty() || options.secret_key.empty()) {
        return invalid("credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.");
    }
    if (options.timeout_ms <= 0 || options.connect_timeout_ms <= 0) {
        return invalid("timeouts must be positive.");
    }
    s3::HttpConfig http;
    http.region = options.region;
    http.access_key = options.access_key;
    http.secret_key = options.secret_key;
    http.session_token = options.session_token;
    http.timeout_ms = options.timeout_ms;
    http.connect_timeout_ms = options.connect_timeout_ms;
    // Room for the object plus a little, so that an error document never trips the limit.
    constexpr std::uint64_t kSlack = 65536, kMax = std::numeric_limits<std::int64_t>::max();
    http.max_response_bytes = std::min(options.max_object_bytes, kMax - kSlack) + kSlack;
    http.connect_to = options.connect_to;
    return std::unique_ptr<BlobStore>(
        std::make_unique<S3BlobStore>(std::move(options), std::move(http)));
}

std::string s3_encode_key(std::string_view key) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(key.size() * 3);
    for (const char c : key) {
        if (all_of_chars(std::string_view(&c, 1), "-._~/")) {
            out.push_back(c);
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(kHex[byte >> 4]);
            out.push_back(kHex[byte & 0xF]);
        }
    }
    return out;
}

std::string s3_object_url(const S3Options& options, std::string_view key) {
    const std::string endpoint = endpoint_of(options);
    std::string path = "/";
    path.append(s3_encode_key(key));
    if (path_style_of(options)) return endpoint + "/" + options.bucket + path;
    // Virtual-host style: the bucket becomes the first label of the host name.
    const std::size_t host_start = endpoint.find("://") + 3;
    return endpoint.substr(0, host_start) + options.bucket + "." + endpoint.substr(host_start) +
           path;
}

}  // namespace facefuse::storage
