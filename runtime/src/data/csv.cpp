// The CSV loader: header, rows of features and a label, gzip or plain; every bad field named.
#include "kiln/data/csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "kiln/error.hpp"
#include "read_file.hpp"

namespace kiln {

namespace {
void split_fields(std::string_view line, std::vector<std::string_view>& fields) {
    std::size_t start = 0;
    while (true) {
        std::size_t comma = line.find(',', start);
        fields.push_back(line.substr(start, comma - start));
        if (comma == std::string_view::npos) return;
        start = comma + 1;
    }
}

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    split_fields(line, fields);
    return fields;
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

// Calls visit(line, line_number) for each non-empty line (a trailing '\r' removed), in order;
// visit returns false to stop. Lines are not collected: a file of short lines would otherwise
// take four times its size again in line views.
template <class Visit> void for_each_line(std::string_view content, Visit&& visit) {
    std::size_t number = 0;
    for (std::size_t start = 0; start < content.size();) {
        std::size_t end = content.find('\n', start);
        if (end == std::string_view::npos) end = content.size();
        std::string_view line = content.substr(start, end - start);
        ++number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty() && !visit(line, number)) return;
        start = end + 1;
    }
}
}  // namespace

Dataset load_csv(const std::string& path) { return parse_csv(detail::read_possibly_gzipped(path), path); }

Dataset parse_csv(std::string_view content, const std::string& path) {
    // The first non-empty line, and how many non-empty lines there are.
    std::string_view first_line;
    std::size_t first_line_number = 0, line_count = 0;
    for_each_line(content, [&](std::string_view line, std::size_t number) {
        if (line_count++ == 0) first_line = line, first_line_number = number;
        return true;
    });
    if (line_count == 0) fail("{}: empty file", path);

    Dataset data;
    data.source = path;
    // A header is "n_samples,n_features,<class names>": its names are not numbers.
    auto first = split_fields(first_line);
    bool has_header = first.size() >= 3 && is_number(first[0]) && is_number(first[1]) && !is_number(first[2]);
    long declared_samples = -1, declared_features = -1;
    if (has_header) {
        double samples, features;
        parse_number(first[0], samples);
        parse_number(first[1], features);
        // Counts are whole numbers no larger than the file could hold (a cast of 1e300 is undefined).
        const double most = double(content.size());
        if (!(samples >= 0 && samples <= most && samples == std::floor(samples)))
            fail("{}: line {}, field 1: the header's sample count '{}' is not a whole number within the file's size",
                 path, first_line_number, std::string(first[0]));
        if (!(features >= 1 && features <= most && features == std::floor(features)))
            fail("{}: line {}, field 2: the header's feature count '{}' is not a whole number within the file's size",
                 path, first_line_number, std::string(first[1]));
        declared_samples = long(samples);
        declared_features = long(features);
        for (std::size_t i = 2; i < first.size(); ++i) data.class_names.emplace_back(first[i]);
    }
    const std::size_t header_lines = has_header ? 1 : 0;
    if (line_count == header_lines) fail("{}: no data rows after the header", path);
    if (line_count - header_lines > std::size_t(std::numeric_limits<int>::max()))
        fail("{}: {} data rows exceed the {} a data set may hold", path, line_count - header_lines,
             std::numeric_limits<int>::max());
    const int rows = int(line_count - header_lines);
    if (declared_samples >= 0 && declared_samples != rows)
        fail("{}: the header declares {} samples, the file has {} data rows", path, declared_samples, rows);

    // Every row's field count is checked before the tensor is allocated: a header's claim alone
    // never sizes an allocation. Without a header the first row sets the count.
    std::size_t fields = declared_features >= 0 ? std::size_t(declared_features) + 1 : 0;
    std::size_t index = 0;
    for_each_line(content, [&](std::string_view line, std::size_t number) {
        if (index++ < header_lines) return true;
        const std::size_t row_fields = std::size_t(std::count(line.begin(), line.end(), ',')) + 1;
        if (fields == 0) {
            fields = row_fields;
            if (fields < 2)
                fail("{}: line {}: expected features followed by a label, found {} field(s)", path, number, fields);
        }
        if (row_fields != fields)
            fail("{}: line {}: expected {} fields ({} features and a label), found {}", path, number, fields,
                 fields - 1, row_fields);
        return true;
    });
    if (fields - 1 > std::size_t(std::numeric_limits<int>::max()))
        fail("{}: {} features per row exceed the {} a data set may hold", path, fields - 1,
             std::numeric_limits<int>::max());
    const int features = int(fields - 1);

    data.features = Tensor(rows, features);
    data.labels.resize(rows);
    std::vector<std::string_view> row;
    int r = -int(header_lines);
    for_each_line(content, [&](std::string_view line, std::size_t number) {
        if (r < 0) {  // the header
            ++r;
            return true;
        }
        row.clear();
        split_fields(line, row);
        for (std::size_t f = 0; f < fields; ++f) {
            double value;
            if (!parse_number(row[f], value))
                fail("{}: line {}, field {}: '{}' is not a number", path, number, f + 1, std::string(row[f]));
            if (!std::isfinite(value)) fail("{}: line {}, field {}: value is NaN or infinite", path, number, f + 1);
            if (std::abs(value) > double(std::numeric_limits<float>::max()))
                fail("{}: line {}, field {}: {} is beyond float's range", path, number, f + 1, std::string(row[f]));
            if (int(f) < features) data.features(r, int(f)) = float(value);
            else data.labels[r] = float(value);
        }
        const float label = data.labels[r];
        if (label != std::floor(label) || label < 0)
            fail("{}: line {}: the label (last field) must be a non-negative integer class id, found {}", path, number,
                 label);
        if (!data.class_names.empty() && label >= float(data.class_names.size()))
            fail("{}: line {}: label {} is out of range: the header names {} classes", path, number, label,
                 data.class_names.size());
        ++r;
        return true;
    });
    return data;
}

}  // namespace kiln
