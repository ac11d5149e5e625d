// Reading the JSON-lines metrics files train --metrics writes: strictly for `report`, leniently
// (a prefix of whole records) for a resumed run that continues the file.
#include "kiln/metrics_file.hpp"

#include <algorithm>
#include <cmath>

#include "kiln/error.hpp"

namespace kiln {

std::vector<nlohmann::json> parse_metrics_records(std::string_view content, const std::string& path) {
    std::vector<nlohmann::json> records;
    int line_number = 0;
    for (std::size_t start = 0; start < content.size();) {
        std::size_t end = content.find('\n', start);
        if (end == std::string_view::npos) end = content.size();
        const std::string_view line = content.substr(start, end - start);
        start = end + 1;
        ++line_number;
        if (line.empty()) continue;
        try {
            records.push_back(nlohmann::json::parse(line));
        } catch (const nlohmann::json::exception& e) {
            fail("{}:{}: not a JSON object: {}", path, line_number, e.what());
        }
        if (!records.back().is_object() || !records.back().contains("epoch"))
            fail("{}:{}: expected an object with \"epoch\" (one per epoch, as train --metrics writes)", path,
                 line_number);
        if (const nlohmann::json& epoch = records.back()["epoch"];
            !epoch.is_number() || !std::isfinite(epoch.get<double>()))
            // (a nested value is named by its type: dump() recurses, and a line may nest deeply)
            fail("{}:{}: field \"epoch\" is {}, expected a number", path, line_number,
                 epoch.is_primitive() ? epoch.dump() : std::string("an ") + epoch.type_name());
    }
    if (records.empty()) fail("{}: no metrics records", path);
    return records;
}

std::size_t metrics_prefix_through(std::string_view content, int epoch) {
    std::size_t keep = 0;
    for (std::size_t start = 0; start < content.size();) {
        const std::size_t end = content.find('\n', start);
        if (end == std::string_view::npos) break;  // a torn last line
        const auto record = nlohmann::json::parse(content.begin() + long(start), content.begin() + long(end), nullptr,
                                                  /*allow_exceptions=*/false);
        if (!record.is_object() || !record.contains("epoch")) break;
        const nlohmann::json& at = record["epoch"];
        const bool kept = at.is_number_unsigned()  ? at.get<uint64_t>() <= uint64_t(std::max(epoch, 0))
                          : at.is_number_integer() ? at.get<int64_t>() <= epoch
                                                   : false;
        if (!kept) break;
        start = end + 1;
        keep = start;
    }
    return keep;
}

}  // namespace kiln
