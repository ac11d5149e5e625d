// A progress bar on stderr, drawn only when stderr is a terminal (logs stay clean).
#pragma once
#include <chrono>
#include <string>

namespace kiln {

class ProgressBar {
public:
    ProgressBar(std::string label, int total, bool enabled);
    void update(int done, double loss);
    void finish();

private:
    std::string label_;
    int total_;
    bool enabled_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace kiln
