// The `report` command: a run's metrics as SVG plots and one HTML page.
#include "kiln/report.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "data/read_file.hpp"
#include "kiln/error.hpp"
#include "kiln/metrics_file.hpp"
#include "kiln/plot.hpp"

namespace kiln {

namespace {
PlotSpec axes(std::string title, std::string x_label, std::string y_label) {
    PlotSpec spec;
    spec.title = std::move(title);
    spec.x_label = std::move(x_label);
    spec.y_label = std::move(y_label);
    return spec;
}

// One series per key of a nested object field (update_ratio, dead_relu_fraction, step_ms), over epochs.
std::vector<Series> nested_series(const std::vector<nlohmann::json>& records, const std::string& field) {
    std::map<std::string, Series> by_name;
    for (const nlohmann::json& r : records)
        if (r.contains(field) && r[field].is_object())
            for (const auto& [name, value] : r[field].items()) {
                Series& s = by_name[name];
                s.label = name;
                s.x.push_back(r["epoch"].get<double>());
                s.y.push_back(value.is_number() ? value.get<double>() : NAN);
            }
    std::vector<Series> series;
    for (auto& [name, s] : by_name) series.push_back(std::move(s));
    return series;
}

Series scalar_series(const std::vector<nlohmann::json>& records, const std::string& field, const std::string& label) {
    Series s{label, {}, {}};
    for (const nlohmann::json& r : records)
        if (r.contains(field) && r[field].is_number()) {
            s.x.push_back(r["epoch"].get<double>());
            s.y.push_back(r[field].get<double>());
        }
    return s;
}
}  // namespace

std::vector<ReportFile> render_report(std::string_view metrics, const std::string& metrics_name) {
    const std::vector<nlohmann::json> records = parse_metrics_records(metrics, metrics_name);
    std::vector<ReportFile> files;
    auto plot = [&](const std::string& file, const std::vector<Series>& all, PlotSpec spec) {
        std::vector<Series> series;
        for (const Series& s : all)
            if (!s.x.empty()) series.push_back(s);
        if (series.empty()) return;
        files.push_back({file, line_plot_svg(series, spec)});
    };
    plot("loss.svg",
         {scalar_series(records, "train_loss", "train loss"), scalar_series(records, "val_loss", "validation loss")},
         axes("Loss", "epoch", "loss"));
    plot("accuracy.svg", {scalar_series(records, "val_accuracy", "validation accuracy")},
         axes("Validation accuracy", "epoch", "accuracy"));
    plot("lr.svg", {scalar_series(records, "lr", "learning rate")},
         axes("Learning rate (at the end of each epoch)", "epoch", "lr"));
    std::vector<Series> ratios = nested_series(records, "update_ratio");
    if (!ratios.empty())
        ratios.push_back({"1e-3 (rule of thumb)", {ratios[0].x.front(), ratios[0].x.back()}, {1e-3, 1e-3}});
    PlotSpec ratio_spec = axes("Update / weight ratio per parameter (last step of each epoch)", "epoch", "‖Δθ‖ / ‖θ‖");
    ratio_spec.log_y = true;
    plot("update_ratio.svg", ratios, ratio_spec);
    plot("dead_relu.svg", nested_series(records, "dead_relu_fraction"),
         axes("Dead ReLU units (never active on 1000 training samples)", "epoch", "fraction"));
    plot("step_time.svg", nested_series(records, "step_ms"),
         axes("Where a training step's time goes (mean per step)", "epoch", "ms"));

    std::string html =
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>kiln report</title></head><body>\n<h1>" +
        escape_xml(std::filesystem::path(metrics_name).filename().string()) + "</h1>\n";
    for (const ReportFile& file : files) html += "<img src=\"" + escape_xml(file.name) + "\">\n";
    html += "</body></html>\n";
    files.push_back({"report.html", html});
    return files;
}

std::vector<std::string> write_report(const std::string& metrics_path, const std::string& directory) {
    if (!std::filesystem::is_directory(directory)) fail("--output: {} is not a directory", directory);
    const std::string metrics =
        detail::read_regular_file(metrics_path, "cannot read metrics (written by train --metrics)");
    std::vector<std::string> written;
    for (const ReportFile& file : render_report(metrics, metrics_path)) {
        const std::string path = (std::filesystem::path(directory) / file.name).string();
        write_text_file(path, file.content, "--output");
        written.push_back(path);
    }
    return written;
}

}  // namespace kiln
