// `report`: a training run's metrics (train --metrics) as SVG plots and one HTML page.
#include "commands.hpp"
#include "kiln/report.hpp"

namespace kiln::cli {

Command add_report(CLI::App& app, const Session&) {
    struct ReportOptions {
        std::string metrics, output;
    };
    auto [report, o] = new_command<ReportOptions>(
        app, "report",
        "SVG plots (loss, accuracy, LR, update ratios, dead ReLUs) and an HTML page from train --metrics");
    report->add_option("--metrics", o->metrics, "JSON lines written by train --metrics")->required();
    report->add_option("--output", o->output, "directory for the plots and report.html")->required();
    return {report, [o] { print_result({{"files", write_report(o->metrics, o->output)}}); }};
}

}  // namespace kiln::cli
