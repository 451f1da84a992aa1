#pragma once
// The Redis URL of the configuration, parsed.
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace facefuse::tasks::redis {

// redis://[[user]:password@]host[:port][/db]; port defaults to 6379, db to 0.
struct RedisUrl {
    std::string host;
    int port = 6379;
    std::string user;      // empty: AUTH with the password alone (the "default" user)
    std::string password;  // empty: no AUTH
    int db = 0;

    // kUsage with a message that shows the expected form (and never the password).
    static Result<RedisUrl> parse(std::string_view url);
    // "host:port/db", for messages and logs.
    std::string endpoint() const;
};

}  // namespace facefuse::tasks::redis
