#pragma once
// Status and Result<T>: how errors cross layers.
//
// A layer may use exceptions inside itself (OpenCV and dlib throw), but what it returns to the
// layer above is a value: either the result or an Error with a stable code and a message that
// tells the user what to do. std::expected is C++23; this is the small subset we need.
#include <string>
#include <utility>
#include <variant>

#include "common/errors.hpp"

namespace facefuse {

struct Error {
    ErrorCode code;
    std::string message;  // full sentence(s): what went wrong and what to do about it

    std::string_view code_name() const { return error_info(code).code; }
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
    Result(Error error) : state_(std::move(error)) {}  // NOLINT

    bool ok() const { return std::holds_alternative<T>(state_); }
    explicit operator bool() const { return ok(); }

    // Precondition: ok(). Accessing the value of a failed Result is a programming error.
    T& value() & { return std::get<T>(state_); }
    const T& value() const& { return std::get<T>(state_); }
    T&& value() && { return std::get<T>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    // Precondition: !ok().
    const Error& error() const { return std::get<Error>(state_); }

private:
    std::variant<T, Error> state_;
};

// Result of an operation that produces nothing but can fail.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

    static Status Ok() { return Status(); }
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return error_; }

private:
    Error error_{ErrorCode::kInternal, {}};
    bool ok_ = true;
};

inline Error make_error(ErrorCode code, std::string message) {
    return Error{code, std::move(message)};
}

}  // namespace facefuse
