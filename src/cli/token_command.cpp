// facefuse token: signs an HS256 bearer token with the server's shared secret, for trying the
// API, scripts, load tests and development. Production tokens come from the identity provider
// (RS256, --jwt-public-key-file on the server); this command cannot make those.
#include <jwt.h>

#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/duration.hpp"
#include "cli/engine_flags.hpp"
#include "http/auth/jwt_verifier.hpp"
#include "http/auth/principal.hpp"
#include "http/auth/secret_file.hpp"

namespace facefuse::cli {
namespace {

struct TokenCommand {
    std::string secret_file;
    std::string subject;
    std::string tenant;
    std::string role = "user";
    std::string issuer;
    std::string audience;
    std::string ttl = "1h";

    int run() const {
        std::string secret;
        if (!secret_file.empty()) {
            auto read = http::auth::read_secret_file(secret_file, "--jwt-secret-file");
            if (!read) return report(read.error());
            secret = std::move(read.value());
        } else if (const char* env = std::getenv("FACEFUSE_JWT_SECRET"); env != nullptr && *env != '\0') {
            secret = env;
        } else {
            return report(make_error(ErrorCode::kUsage, "give the HS256 secret: --jwt-secret-file FILE or FACEFUSE_JWT_SECRET"));
        }
        if (!http::auth::parse_role(role))
            return report(make_error(ErrorCode::kUsage, "--role " + role + ": use user, vip or admin"));
        const auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(*parse_duration(ttl));
        jwt_t* raw = nullptr;
        if (jwt_new(&raw) != 0) return report(make_error(ErrorCode::kInternal, "cannot create a token (out of memory)"));
        std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, jwt_free);
        const long now = static_cast<long>(std::time(nullptr));
        jwt_add_grant(jwt.get(), "sub", subject.c_str());
        jwt_add_grant(jwt.get(), "tenant", tenant.c_str());
        jwt_add_grant(jwt.get(), "role", role.c_str());
        if (!issuer.empty()) jwt_add_grant(jwt.get(), "iss", issuer.c_str());
        if (!audience.empty()) jwt_add_grant(jwt.get(), "aud", audience.c_str());
        jwt_add_grant_int(jwt.get(), "iat", now);
        jwt_add_grant_int(jwt.get(), "exp", now + static_cast<long>(lifetime.count()));
        jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                    static_cast<int>(secret.size()));
        std::unique_ptr<char, decltype(&std::free)> token(jwt_encode_str(jwt.get()), std::free);
        if (!token) return report(make_error(ErrorCode::kInternal, "cannot sign the token"));
        // Check it the way the server will, so a token that would be refused is never printed.
        http::auth::JwtConfig check;
        check.key = secret;
        check.issuer = issuer;
        check.audience = audience;
        auto verifier = http::auth::JwtVerifier::create(check);
        if (!verifier) return report(verifier.error());
        if (auto ok = verifier->verify(token.get()); !ok) return report(ok.error());
        std::cout << token.get() << "\n";
        return 0;
    }
};

}  // namespace

void add_token_command(CLI::App& app, CommandRun& run) {
    auto cmd = std::make_shared<TokenCommand>();
    CLI::App* c = app.add_subcommand("token", "Sign an HS256 bearer token for a server's --jwt-secret-file (testing)");
    c->footer(
        "Example:\n"
        "  TOKEN=$(facefuse token --jwt-secret-file jwt.secret --sub alice --tenant acme --role user)\n"
        "  curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:8080/v1/tasks\n"
        "Real deployments get tokens from their identity provider; see docs/security.md.");
    c->add_option("--jwt-secret-file", cmd->secret_file, "the server's HS256 secret (or FACEFUSE_JWT_SECRET)")
        ->envname("FACEFUSE_JWT_SECRET_FILE");
    c->add_option("--sub", cmd->subject, "who the token is for")->required();
    c->add_option("--tenant", cmd->tenant, "tenant whose tasks it reaches ([A-Za-z0-9._-])")->required();
    c->add_option("--role", cmd->role, "user, vip or admin")->capture_default_str();
    c->add_option("--iss", cmd->issuer, "issuer claim (match the server's --jwt-issuer)");
    c->add_option("--aud", cmd->audience, "audience claim (match the server's --jwt-audience)");
    c->add_option("--ttl", cmd->ttl, "lifetime")->check(duration_validator())->capture_default_str();
    c->callback([cmd, &run] { run = [cmd] { return cmd->run(); }; });
}

}  // namespace facefuse::cli
