// The CSV loader: header, rows of features and a label, gzip or plain; every bad field named.
#include "kiln/data/csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include "kiln/error.hpp"
#include "read_file.hpp"

namespace kiln {

namespace {
std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    while (true) {
        std::size_t comma = line.find(',', start);
        fields.push_back(line.substr(start, comma - start));
        if (comma == std::string_view::npos) return fields;
        start = comma + 1;
    }
}

bool parse_number(std::string_view text, double& value) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
    if (text.empty()) return false;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

bool is_number(std::string_view text) {
    double ignored;
    return parse_number(text, ignored);
}
}  // namespace

Dataset load_csv(const std::string& path) {
    const std::string content = detail::read_possibly_gzipped(path);
    std::vector<std::string_view> lines;
    for (std::size_t start = 0; start < content.size();) {
        std::size_t end = content.find('\n', start);
        if (end == std::string::npos) end = content.size();
        std::string_view line(content.data() + start, end - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) lines.push_back(line);
        start = end + 1;
    }
    if (lines.empty()) fail("{}: empty file", path);

    Dataset data;
    data.source = path;
    // A header is "n_samples,n_features,<class names>": its names are not numbers.
    auto first = split_fields(lines[0]);
    bool has_header = first.size() >= 3 && is_number(first[0]) && is_number(first[1]) && !is_number(first[2]);
    long declared_samples = -1, declared_features = -1;
    if (has_header) {
        double samples, features;
        parse_number(first[0], samples);
        parse_number(first[1], features);
        // Counts are whole numbers no larger than the file could hold (a cast of 1e300 is undefined).
        const double most = double(content.size());
        if (!(samples >= 0 && samples <= most && samples == std::floor(samples)))
            fail("{}: line 1, field 1: the header's sample count '{}' is not a whole number within the file's size",
                 path, std::string(first[0]));
        if (!(features >= 1 && features <= most && features == std::floor(features)))
            fail("{}: line 1, field 2: the header's feature count '{}' is not a whole number within the file's size",
                 path, std::string(first[1]));
        declared_samples = long(samples);
        declared_features = long(features);
        for (std::size_t i = 2; i < first.size(); ++i) data.class_names.emplace_back(first[i]);
    }
    const std::size_t first_row = has_header ? 1 : 0;
    if (lines.size() == first_row) fail("{}: no data rows after the header", path);
    const std::size_t fields =
        declared_features >= 0 ? std::size_t(declared_features) + 1 : split_fields(lines[first_row]).size();
    if (fields < 2)
        fail("{}: line {}: expected features followed by a label, found {} field(s)", path, first_row + 1, fields);
    const int rows = int(lines.size() - first_row), features = int(fields - 1);
    if (declared_samples >= 0 && declared_samples != rows)
        fail("{}: the header declares {} samples, the file has {} data rows", path, declared_samples, rows);

    // Every row's field count is checked before the tensor is allocated: a header's claim alone
    // never sizes an allocation.
    for (int r = 0; r < rows; ++r) {
        const std::string_view line = lines[first_row + r];
        const std::size_t row_fields = std::size_t(std::count(line.begin(), line.end(), ',')) + 1;
        if (row_fields != fields)
            fail("{}: line {}: expected {} fields ({} features and a label), found {}", path, first_row + r + 1, fields,
                 features, row_fields);
    }
    data.features = Tensor(rows, features);
    data.labels.resize(rows);
    for (int r = 0; r < rows; ++r) {
        const std::size_t line_number = first_row + r + 1;
        auto row = split_fields(lines[first_row + r]);
        if (row.size() != fields)
            fail("{}: line {}: expected {} fields ({} features and a label), found {}", path, line_number, fields,
                 features, row.size());
        for (std::size_t f = 0; f < fields; ++f) {
            double value;
            if (!parse_number(row[f], value))
                fail("{}: line {}, field {}: '{}' is not a number", path, line_number, f + 1, std::string(row[f]));
            if (!std::isfinite(value))
                fail("{}: line {}, field {}: value is NaN or infinite", path, line_number, f + 1);
            if (int(f) < features) data.features(r, int(f)) = float(value);
            else data.labels[r] = float(value);
        }
        const float label = data.labels[r];
        if (label != std::floor(label) || label < 0)
            fail("{}: line {}: the label (last field) must be a non-negative integer class id, found {}", path,
                 line_number, label);
        if (!data.class_names.empty() && label >= float(data.class_names.size()))
            fail("{}: line {}: label {} is out of range: the header names {} classes", path, line_number, label,
                 data.class_names.size());
    }
    return data;
}

}  // namespace kiln
