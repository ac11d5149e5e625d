// The runtime's one error type: a message naming the file, field and expectation. The CLI prints
// it and exits non-zero; nothing trains on input that failed a check.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

namespace kiln {

struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

template <class... Args> [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
    throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace kiln
