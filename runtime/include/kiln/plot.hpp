// A minimal SVG line plot (axes, ticks, one or more series): enough for training curves and the
// LR range test, without a plotting dependency.
#pragma once
#include <string>
#include <vector>

namespace kiln {

struct Series {
    std::string label;
    std::vector<double> x, y;
};

struct PlotSpec {
    std::string title, x_label, y_label;
    bool log_x = false, log_y = false;
    std::vector<double> vertical_markers;  // e.g. a suggested learning rate
};

// Text for SVG or HTML: <, >, & and " as entities.
std::string escape_xml(const std::string& text);
std::string line_plot_svg(const std::vector<Series>& series, const PlotSpec& spec);
// Writes the SVG to path; throws kiln::Error naming the file if it cannot.
void write_text_file(const std::string& path, const std::string& content, const std::string& flag);

}  // namespace kiln
