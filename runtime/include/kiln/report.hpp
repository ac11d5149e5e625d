// `report`: a training run's metrics (the JSON lines train --metrics writes) as SVG plots — loss
// (train and validation), validation accuracy, learning rate, per-parameter update/weight ratios
// (log scale, with the 1e-3 rule of thumb marked) and dead-ReLU fractions — and an HTML page
// showing them together.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

struct ReportFile {
    std::string name;  // loss.svg, …, report.html
    std::string content;
};

// The plots the metrics support and the page showing them, in memory; `metrics_name` is the file
// in messages. Throws kiln::Error naming the file and line of malformed metrics.
std::vector<ReportFile> render_report(std::string_view metrics, const std::string& metrics_name);
// Writes the plots the metrics support into `directory` (which must exist); returns their paths.
// Throws kiln::Error naming the file and line of malformed metrics.
std::vector<std::string> write_report(const std::string& metrics_path, const std::string& directory);

}  // namespace kiln
