// Running model binaries from tests: exit status and output, paths of examples and their data.
#pragma once
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace kiln::test {

struct Run {
    int status;
    std::string output;  // stdout and stderr together
};

inline Run run(const std::string& command) {
    std::string output;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

inline std::string binary(const std::string& model) { return std::string(KILN_EXAMPLES_BIN) + "/" + model; }
inline std::string data(const std::string& file) { return std::string(KILN_EXAMPLES_DATA) + "/" + file; }
inline nlohmann::json last_json_line(const std::string& output) {
    auto end = output.find_last_not_of('\n');
    auto start = output.rfind('\n', end);
    return nlohmann::json::parse(output.substr(start == std::string::npos ? 0 : start + 1,
                                               end + 1 - (start == std::string::npos ? 0 : start + 1)));
}

// Refused: exit 1 (every bad input and flag; 2 would be an unexpected error, 128+ a signal), and
// the expected message.
inline void require_refused(const Run& r, const std::string& message) {
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains(message));
}

}  // namespace kiln::test
