// SVG line plots (axes, ticks, series) for training curves and the LR range test.
#include "kiln/plot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "kiln/error.hpp"

namespace kiln {

namespace {
constexpr double width = 640, height = 400, left = 70, right = 20, top = 40, bottom = 50;
const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"};

}  // namespace

std::string escape_xml(const std::string& text) {
    std::string out;
    for (char c : text)
        out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : c == '"' ? "&quot;" : std::string(1, c);
    return out;
}

std::string line_plot_svg(const std::vector<Series>& series, const PlotSpec& spec) {
    auto tx = [&](double x) { return spec.log_x ? std::log10(x) : x; };
    auto ty = [&](double y) { return spec.log_y ? std::log10(y) : y; };
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (const Series& s : series)
        for (std::size_t i = 0; i < s.x.size(); ++i) {
            if (!std::isfinite(ty(s.y[i])) || !std::isfinite(tx(s.x[i]))) continue;
            x0 = std::min(x0, tx(s.x[i]));
            x1 = std::max(x1, tx(s.x[i]));
            y0 = std::min(y0, ty(s.y[i]));
            y1 = std::max(y1, ty(s.y[i]));
        }
    if (!(x1 > x0)) x1 = x0 + 1;
    if (!(y1 > y0)) y1 = y0 + 1;
    auto px = [&](double x) { return left + (tx(x) - x0) / (x1 - x0) * (width - left - right); };
    auto py = [&](double y) { return height - bottom - (ty(y) - y0) / (y1 - y0) * (height - top - bottom); };

    std::string svg = fmt::format(
        R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="12">)"
        "\n",
        width, height);
    svg += fmt::format(
        R"(<rect width="100%" height="100%" fill="white"/><text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>)"
        "\n",
        width / 2, escape_xml(spec.title));
    svg += fmt::format(
        R"(<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="black"/><line x1="{0}" y1="{1}" x2="{0}" y2="{3}" stroke="black"/>)"
        "\n",
        left, height - bottom, width - right, top);
    for (int k = 0; k <= 4; ++k) {  // five ticks per axis
        const double xv = x0 + (x1 - x0) * k / 4, yv = y0 + (y1 - y0) * k / 4;
        const double xp = left + (width - left - right) * k / 4, yp = height - bottom - (height - top - bottom) * k / 4;
        svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">{}</text>)", xp, height - bottom + 16,
                           spec.log_x ? fmt::format("1e{:.1f}", xv) : fmt::format("{:.3g}", xv));
        svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">{}</text>)"
                           "\n",
                           left - 6, yp + 4, spec.log_y ? fmt::format("1e{:.1f}", yv) : fmt::format("{:.3g}", yv));
    }
    svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">{}</text>)", width / 2, height - 12,
                       escape_xml(spec.x_label));
    svg += fmt::format(R"svg(<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}</text>)svg"
                       "\n",
                       height / 2, height / 2, escape_xml(spec.y_label));
    for (double marker : spec.vertical_markers)
        svg += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="gray" stroke-dasharray="4 3"/>)"
                           "\n",
                           px(marker), top, height - bottom);
    for (std::size_t s = 0; s < series.size(); ++s) {
        std::string points;
        for (std::size_t i = 0; i < series[s].x.size(); ++i)
            if (std::isfinite(ty(series[s].y[i])) && std::isfinite(tx(series[s].x[i])))
                points += fmt::format("{:.1f},{:.1f} ", px(series[s].x[i]), py(series[s].y[i]));
        const char* color = colors[s % 5];
        svg += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>)"
                           "\n",
                           color, points);
        svg += fmt::format(R"(<text x="{}" y="{}" fill="{}">{}</text>)"
                           "\n",
                           width - right - 150, top + 16 + 16 * double(s), color, escape_xml(series[s].label));
    }
    return svg + "</svg>\n";
}

void write_text_file(const std::string& path, const std::string& content, const std::string& flag) {
    std::ofstream file(path);
    if (!file) fail("{}: cannot write {}", flag, path);
    file << content;
    if (!file) fail("{}: write to {} failed", flag, path);
}

}  // namespace kiln
