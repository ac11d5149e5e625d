// A progress bar on stderr, drawn only when stderr is a terminal.
#include "kiln/train/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace kiln {

ProgressBar::ProgressBar(std::string label, int total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(int done, double loss) {
    if (!enabled_ || (done % 8 != 0 && done != total_)) return;
    constexpr int width = 30;
    const int filled = total_ ? width * done / total_ : width;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    fmt::print(stderr, "\r{} [{}{}] {}/{} loss {:.4f} {:.1f}s", label_, std::string(filled, '#'),
               std::string(width - filled, '.'), done, total_, loss, seconds);
    std::fflush(stderr);
}

void ProgressBar::finish() {
    if (enabled_) fmt::print(stderr, "\r\033[K");
}

}  // namespace kiln
