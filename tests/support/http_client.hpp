#pragma once
// A small blocking HTTP client for tests (libcurl): GET, DELETE, multipart POST, raw POST.
// Every call has a timeout, so a server that hangs fails the test instead of hanging it.
#include <curl/curl.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace facefuse::test {

struct HttpResponse {
    long status = 0;                            // 0: no response (connection failed or timed out)
    std::string body;
    std::map<std::string, std::string> headers;  // names lowercased
    std::string error;                          // curl's message when status is 0

    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

struct FormPart {
    std::string name;
    std::string data;
    std::string filename;  // empty: a plain field
};

namespace detail {
inline size_t collect_body(char* data, size_t size, size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
}
inline size_t collect_header(char* data, size_t size, size_t count, void* out) {
    std::string line(data, size * count);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
        (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
    }
    return size * count;
}
}  // namespace detail

inline HttpResponse http_request(const std::string& method, const std::string& url,
                                 const std::vector<FormPart>* form = nullptr, const std::string* raw_body = nullptr,
                                 const std::vector<std::string>& headers = {}, long timeout_s = 120) {
    HttpResponse response;
    CURL* curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, detail::collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, detail::collect_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_mime* mime = nullptr;
    if (form) {
        mime = curl_mime_init(curl);
        for (const auto& part : *form) {
            curl_mimepart* p = curl_mime_addpart(mime);
            curl_mime_name(p, part.name.c_str());
            curl_mime_data(p, part.data.data(), part.data.size());
            if (!part.filename.empty()) curl_mime_filename(p, part.filename.c_str());
        }
        curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
    } else if (raw_body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, raw_body->data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(raw_body->size()));
    }
    if (method != "GET" && method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    const CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    else response.error = curl_easy_strerror(rc);
    if (mime) curl_mime_free(mime);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return response;
}

inline HttpResponse http_get(const std::string& url, const std::vector<std::string>& headers = {}, long timeout_s = 120) {
    return http_request("GET", url, nullptr, nullptr, headers, timeout_s);
}
inline HttpResponse http_delete(const std::string& url) { return http_request("DELETE", url); }
inline HttpResponse http_post_form(const std::string& url, const std::vector<FormPart>& form,
                                   const std::vector<std::string>& headers = {}) {
    return http_request("POST", url, &form, nullptr, headers);
}
inline HttpResponse http_post_raw(const std::string& url, const std::string& body, const std::string& content_type) {
    return http_request("POST", url, nullptr, &body, {"Content-Type: " + content_type});
}

}  // namespace facefuse::test
