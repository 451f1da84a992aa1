#include "storage/s3/s3_http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/sha256.hpp"

namespace facefuse::storage::s3 {
namespace {

// Handles kept for reuse; more concurrent requests than this simply create (and later free)
// extra handles.
constexpr std::size_t kMaxIdleHandles = 8;

void global_init_once() {
    // curl_global_init is not thread-safe and must run before any other curl call; doing it
    // lazily here keeps the store usable without an init call in main(). Never cleaned up: it
    // would race with handles still alive in other stores at exit.
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SList {
    curl_slist* list = nullptr;
    ~SList() { curl_slist_free_all(list); }
    bool append(const std::string& line) {
        curl_slist* next = curl_slist_append(list, line.c_str());
        if (next == nullptr) return false;
        list = next;
        return true;
    }
};

struct Upload {
    std::span<const std::uint8_t> body;
    std::size_t offset = 0;
};

std::size_t read_body(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* up = static_cast<Upload*>(user);
    const std::size_t n = std::min(size * count, up->body.size() - up->offset);
    std::memcpy(buffer, up->body.data() + up->offset, n);
    up->offset += n;
    return n;
}

struct Download {
    std::vector<std::uint8_t>* out;
    std::uint64_t limit;
    bool too_large = false;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* down = static_cast<Download*>(user);
    const std::size_t n = size * count;
    if (down->out->size() + n > down->limit) {
        down->too_large = true;
        return 0;  // makes curl stop with CURLE_WRITE_ERROR
    }
    down->out->insert(down->out->end(), data, data + n);
    return n;
}

// Could the same request succeed later without anyone changing anything?
bool transient(CURLcode code) {
    switch (code) {
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        default:
            return false;
    }
}

}  // namespace

HttpClient::HttpClient(HttpConfig config) : config_(std::move(config)) {
    global_init_once();
}

HttpClient::~HttpClient() {
    for (void* handle : idle_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* HttpClient::acquire() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            void* handle = idle_.back();
            idle_.pop_back();
            // Forget the last request's options but keep its open connections and DNS cache.
            curl_easy_reset(static_cast<CURL*>(handle));
            return handle;
        }
    }
    return curl_easy_init();
}

void HttpClient::release(void* handle) {
    {
        std::lock_guard lock(mutex_);
        if (idle_.size() < kMaxIdleHandles) {
            idle_.push_back(handle);
            return;
        }
    }
    curl_easy_cleanup(static_cast<CURL*>(handle));
}

Result<HttpResponse> HttpClient::perform(const HttpRequest& request) {
    CURL* curl = static_cast<CURL*>(acquire());
    if (curl == nullptr) {
        return make_error(ErrorCode::kInternal, "S3: cannot create a libcurl handle.");
    }
    struct Releaser {
        HttpClient* client;
        CURL* curl;
        ~Releaser() { client->release(curl); }
    } releaser{this, curl};

    SList headers;
    bool ok = headers.append("x-amz-content-sha256: " + sha256_hex(request.body));
    if (!config_.session_token.empty()) {
        ok = ok && headers.append("x-amz-security-token: " + config_.session_token);
    }
    // No "Expect:" line to skip the 100-continue round trip: curl 7.88 signs an emptied header
    // ("expect:") that it then does not send, which breaks the signature.
    for (const std::string& header : request.headers) ok = ok && headers.append(header);
    SList connect_to;
    for (const std::string& entry : config_.connect_to) ok = ok && connect_to.append(entry);
    if (!ok) return make_error(ErrorCode::kInternal, "S3: out of memory building a request.");

    HttpResponse response;
    Upload upload{request.body};
    Download download{&response.body, config_.max_response_bytes};
    char error_buffer[CURL_ERROR_SIZE] = {0};
    const std::string sigv4 = "aws:amz:" + config_.region + ":s3";

    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);    // timeouts without SIGALRM: thread-safe
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // keys are paths; never squash "/../"
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, config_.timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     std::min(config_.connect_timeout_ms, config_.timeout_ms));
    // No access key: an anonymous request, as S3 allows for public objects (and as a plain
    // HTTP server answers `models pull --from https://...`).
    if (!config_.access_key.empty()) {
        curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
        // USERNAME and PASSWORD rather than USERPWD "a:s": nothing in the secret needs escaping.
        curl_easy_setopt(curl, CURLOPT_USERNAME, config_.access_key.c_str());
        curl_easy_setopt(curl, CURLOPT_PASSWORD, config_.secret_key.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
    if (connect_to.list != nullptr) curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to.list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &download);

    if (request.method != "HEAD") {
        // Refuses an oversized body up front from its Content-Length; write_body catches the rest.
        curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                         static_cast<curl_off_t>(config_.max_response_bytes));
    }
    if (request.method == "PUT") {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
    } else if (request.method == "HEAD") {
        // No MAXFILESIZE here: a HEAD answer's Content-Length is the object's size, not a body.
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (request.method != "GET") {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    const CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
        const std::string detail =
            error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
        if (download.too_large || code == CURLE_FILESIZE_EXCEEDED) {
            return make_error(ErrorCode::kInternal,
                              "S3: the response to " + request.method + " " + request.url +
                                  " is larger than the limit of " +
                                  std::to_string(config_.max_response_bytes) + " bytes.");
        }
        if (transient(code)) {
            return make_error(ErrorCode::kUnavailable,
                              "S3: " + request.method + " " + request.url + " failed: " + detail +
                                  ". Check that the S3 endpoint is up and reachable; the "
                                  "operation can be retried.");
        }
        return make_error(ErrorCode::kInternal,
                          "S3: " + request.method + " " + request.url + " failed: " + detail + ".");
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

}  // namespace facefuse::storage::s3
